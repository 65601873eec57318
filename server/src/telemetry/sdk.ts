// The OpenTelemetry SDK: OTLP/HTTP (JSON) trace export, with http, express and pg auto-instrumentation.
// Only ever loaded by ./index.ts, and only when an endpoint is configured.
import { register } from 'node:module';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import { ExpressInstrumentation } from '@opentelemetry/instrumentation-express';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { defaultResource, resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { ScrubUrls, ScrubVisitorsAndErrors } from './scrub.js';

export async function startSdk(env: NodeJS.ProcessEnv): Promise<() => Promise<void>> {
  // ESM imports of express, pg and http go through this hook, so the instrumentations can patch them;
  // only those: wrapping every module costs start-up time and trips over re-exports of TypeScript sources.
  register('@opentelemetry/instrumentation/hook.mjs', import.meta.url, { data: { include: ['express', 'pg', 'http', 'https'] } });
  const provider = new NodeTracerProvider({
    resource: defaultResource().merge(resourceFromAttributes({ 'service.name': env.OTEL_SERVICE_NAME || 'parley' })),
    // The exporter and the batch processor read the OTEL_EXPORTER_OTLP_* and OTEL_BSP_* variables.
    spanProcessors: [new ScrubUrls(), new ScrubVisitorsAndErrors(), new BatchSpanProcessor(new OTLPTraceExporter())],
  });
  provider.register();
  const unregister = registerInstrumentations({
    tracerProvider: provider,
    instrumentations: [
      new HttpInstrumentation({
        // The request span carries the request id the response was given (http/request-id.ts).
        applyCustomAttributesOnSpan: (span, _req, res) => {
          const id = 'getHeader' in res ? res.getHeader('x-request-id') : undefined;
          if (typeof id === 'string') span.setAttribute('parley.request_id', id);
        },
      }),
      new ExpressInstrumentation(),
      // Statements only, never their parameters (the default): parameters carry visitors' text.
      new PgInstrumentation({ enhancedDatabaseReporting: false }),
    ],
  });
  return async () => {
    unregister();
    await provider.shutdown();
  };
}
