// Manual spans through @opentelemetry/api: a no-op tracer unless the SDK was started (./index.ts).
// Attributes are ids, sizes, counts and outcomes; never message, question or answer text.
import { INVALID_SPAN_CONTEXT, ProxyTracerProvider, SpanStatusCode, trace, type Attributes, type Span } from '@opentelemetry/api';
import { isSensitiveField } from '../lifecycle/classification.js';

const tracer = trace.getTracer('parley');

// What the API delegates to while no tracer provider is registered: a tracer whose spans record nothing.
const NO_PROVIDER = new ProxyTracerProvider().getDelegate();
const NOTHING_RECORDED: Span = trace.wrapSpanContext(INVALID_SPAN_CONTEXT);

/**
 * Whether spans go anywhere: a tracer provider is registered (the SDK, ./index.ts, or any other). Without one,
 * a span would still cost its context's copy and the attributes' filtering, on every transaction.
 */
const tracing = (): boolean => (trace.getTracerProvider() as ProxyTracerProvider).getDelegate?.() !== NO_PROVIDER;

/** The attributes minus any whose name the classification registry marks personal, restricted or secret. */
export const traceable = (attributes: Attributes): Attributes => Object.fromEntries(Object.entries(attributes).filter(([k]) => !isSensitiveField(k)));

/** Runs `fn` inside an active span; a throw marks the span failed with the error's class name only. */
export function inSpan<T>(name: string, attributes: Attributes, fn: (span: Span) => Promise<T>): Promise<T> {
  if (!tracing()) {
    try {
      return fn(NOTHING_RECORDED);
    } catch (err) {
      return Promise.reject(err);
    }
  }
  return tracer.startActiveSpan(name, { attributes: traceable(attributes) }, async (span) => {
    try {
      return await fn(span);
    } catch (err) {
      // Messages can quote input (a constraint's values, a provider's echo): the class name is enough.
      span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.name : 'Error' });
      throw err;
    } finally {
      span.end();
    }
  });
}
