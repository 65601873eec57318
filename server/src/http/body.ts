// JSON bodies only: anything else with a body is 415, oversized is 413, unparsable is 400.
import express, { type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import { HttpProblem } from './problem.js';

const JSON_TYPES = ['application/json', 'application/*+json'];

function hasBody(req: Request): boolean {
  const len = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (len !== undefined && len !== '0');
}

export function jsonBody(limitBytes: number): RequestHandler[] {
  const requireJson = (req: Request, _res: Response, next: NextFunction) => {
    if (hasBody(req) && !req.is(JSON_TYPES)) {
      return next(new HttpProblem(415, 'unsupported-media-type', 'Send the body as application/json.'));
    }
    next();
  };
  return [requireJson, express.json({ limit: limitBytes, type: JSON_TYPES, strict: true })];
}

/** Maps body-parser's errors onto problems. */
export function bodyParserProblem(err: unknown): HttpProblem | null {
  const type = (err as { type?: string } | null)?.type;
  switch (type) {
    case 'entity.parse.failed':
      return new HttpProblem(400, 'malformed-json', 'The body is not valid JSON.');
    case 'entity.too.large':
      return new HttpProblem(413, 'payload-too-large', 'The body is larger than this endpoint accepts.');
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return new HttpProblem(415, 'unsupported-media-type', 'Send the body as UTF-8 JSON.');
    case 'request.aborted':
    case 'request.size.invalid':
      return new HttpProblem(400, 'malformed-json', 'The body was incomplete.');
    default:
      return null;
  }
}
