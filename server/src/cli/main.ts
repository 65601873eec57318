// The `parley` entry. `serve` starts tracing first (when an OTLP endpoint is configured): the
// instrumentations patch express and pg as they load, so the commands, and the app with them, are
// imported only afterwards.
import { startTracing } from '../telemetry/index.js';

if (process.argv[2] === 'serve') await startTracing();
await import('./commands.js');
