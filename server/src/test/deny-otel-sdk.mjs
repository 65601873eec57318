// `node --import` this file to make loading the OpenTelemetry SDK (anything of @opentelemetry/ but the
// api, or the server's telemetry/sdk module) fail: proves tracing costs nothing when it is off.
import { register } from 'node:module';

register(
  `data:text/javascript,${encodeURIComponent(`
export async function resolve(specifier, context, next) {
  const sdk = (specifier.startsWith('@opentelemetry/') && specifier !== '@opentelemetry/api') ||
    (/\\/telemetry\\/[^/]*$/.test(context.parentURL ?? '') && /^\\.\\/sdk(\\.js|\\.ts)?$/.test(specifier));
  if (sdk) throw new Error('the tracing SDK was loaded: ' + specifier);
  return next(specifier, context);
}`)}`,
);
