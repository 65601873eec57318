// pino, with every place a secret or personal data could appear redacted at the source.
import { pino, type Logger } from 'pino';

export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-parley-key"]',
  'req.headers["x-parley-visitor"]',
  'headers.authorization',
  'authorization',
  'secret',
  'secretKey',
  'token',
  'refreshToken',
  'visitorSecret',
  'password',
  'apiKey',
  'masterKey',
  '*.secret',
  '*.secretKey',
  '*.token',
  '*.refreshToken',
  '*.visitorSecret',
  '*.password',
  '*.apiKey',
  '*.text',
  '*.email',
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
