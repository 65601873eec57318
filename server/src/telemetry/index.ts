// Tracing is opt-in: the OpenTelemetry SDK and its instrumentations are loaded only when an OTLP
// endpoint is configured, and must start before express and pg are imported (their instrumentations
// patch modules as they load). Manual spans use @opentelemetry/api, which is a no-op without the SDK.
import { tracingEnabled } from '../config.js';

let shutdown: (() => Promise<void>) | null = null;

/** Starts the SDK when OTEL_EXPORTER_OTLP_ENDPOINT (or …_TRACES_ENDPOINT) is set; true if it did. */
export async function startTracing(env: NodeJS.ProcessEnv = process.env): Promise<boolean> {
  if (shutdown || !tracingEnabled(env)) return shutdown !== null;
  const { startSdk } = await import('./sdk.js');
  shutdown = await startSdk(env);
  return true;
}

/** Flushes spans still batched and stops the SDK (nothing to do when it never started). */
export async function stopTracing(): Promise<void> {
  const stop = shutdown;
  shutdown = null;
  await stop?.();
}
