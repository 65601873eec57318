// pino, with every place a secret or personal data could appear redacted at the source. The field names
// come from the classification registry (lifecycle/classification.ts): one list for logs and traces.
import { pino, type Logger } from 'pino';
import { SENSITIVE_FIELDS } from '../lifecycle/classification.js';

const path = (name: string) => (/^[A-Za-z_$][\w$]*$/.test(name) ? name : `["${name}"]`);
const member = (name: string) => (/^[A-Za-z_$][\w$]*$/.test(name) ? `.${name}` : `["${name}"]`);

export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-parley-key"]',
  'req.headers["x-parley-visitor"]',
  'headers.authorization',
  // Each sensitive field at the top level and one level down (pino's wildcards match one level).
  ...[...SENSITIVE_FIELDS].flatMap((f) => [path(f), `*${member(f)}`]),
];
export function createLogger(level: string, destination?: NodeJS.WritableStream): Logger {
  return pino(
    {
      level,
      base: { service: 'parley-server' },
      redact: { paths: REDACT_PATHS, censor: '[REDACTED]' },
      serializers: { err: pino.stdSerializers.err },
    },
    destination as pino.DestinationStream | undefined,
  );
}
