// JSON bodies only: anything else with a body is 415, oversized is 413 (at once when Content-Length says
// so, or as a chunked body passes the limit), unparsable is 400, nested deeper than BODY_MAX_DEPTH is 400
// before any code recurses into it.
import express, { type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import { HttpProblem, problems } from './problem.js';

const JSON_TYPES = ['application/json', 'application/*+json'];

function hasBody(req: Request): boolean {
  const len = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (len !== undefined && len !== '0');
}

const tooLargeProblem = () => new HttpProblem(413, 'payload-too-large', 'The body is larger than this endpoint accepts.');

/**
 * Runs a body parser with its body held to `limitBytes` as it arrives. A body whose Content-Length is over
 * the limit is refused before any of it is read; one sent without a length (chunked) is refused the moment
 * it passes the limit. Either way the connection is closed after the answer. The parser alone would read
 * (and drop) the rest of the body before its 413: gigabytes, or a socket held by a client that never ends.
 */
export function bounded(parse: RequestHandler, limitBytes: number): RequestHandler {
  return (req, res, next) => {
    const refuse = () => {
      res.setHeader('Connection', 'close');
      next(tooLargeProblem());
    };
    if (Number(req.headers['content-length']) > limitBytes) return refuse();
    // The bytes on the wire, compressed or not: an inflated body over the limit is the parser's to refuse,
    // and its sender can then send at most `limitBytes` more before the socket is closed.
    let seen = 0;
    let refused = false;
    const count = (chunk: Buffer) => {
      seen += chunk.length;
      if (seen <= limitBytes || refused) return;
      refused = true;
      req.off('data', count);
      refuse();
    };
    // The parser subscribes in this same tick, so both see every chunk.
    if (req.headers['content-length'] === undefined) req.on('data', count);
    parse(req, res, (err?: unknown) => {
      req.off('data', count);
      if (!refused) next(err);
    });
  };
}

export function jsonBody(limitBytes: number): RequestHandler {
  const parse = bounded(express.json({ limit: limitBytes, type: JSON_TYPES, strict: true }), limitBytes);
  return (req: Request, res: Response, next: NextFunction) => {
    // Most requests (GETs, most DELETEs) have no body at all: nothing to check or parse. (An empty one
    // still goes to the parser, which makes an empty JSON body {}.)
    if (req.headers['content-length'] === undefined && req.headers['transfer-encoding'] === undefined) return next();
    if (hasBody(req) && !req.is(JSON_TYPES)) return next(new HttpProblem(415, 'unsupported-media-type', 'Send the body as application/json.'));
    parse(req, res, (err?: unknown) => {
      if (err) return next(err);
      const at = tooDeep(req.body, BODY_MAX_DEPTH);
      if (at)
        return next(
          problems.validation(
            [{ path: at, message: `must not nest deeper than ${BODY_MAX_DEPTH} levels`, code: 'too_deep' }],
            'The body nests too deeply.',
          ),
        );
      next();
    });
  };
}

/** How deep a request body may nest (free-form JSON fields allow less, see protocol's MAX_JSON_DEPTH). */
export const BODY_MAX_DEPTH = 64;

/** The JSON Pointer of the first container nested deeper than `max`, or null; walked without recursion. */
export function tooDeep(value: unknown, max: number): string | null {
  const stack: { v: unknown; depth: number; path: string }[] = [{ v: value, depth: 0, path: '' }];
  while (stack.length) {
    const { v, depth, path } = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    if (depth >= max) return path;
    for (const [k, child] of Object.entries(v)) {
      if (child !== null && typeof child === 'object')
        stack.push({ v: child, depth: depth + 1, path: `${path}/${k.replaceAll('~', '~0').replaceAll('/', '~1')}` });
    }
  }
  return null;
}

/** Maps body-parser's errors onto problems. */
export function bodyParserProblem(err: unknown): HttpProblem | null {
  const type = (err as { type?: string } | null)?.type;
  switch (type) {
    case 'entity.parse.failed':
      return new HttpProblem(400, 'malformed-json', 'The body is not valid JSON.');
    case 'entity.too.large':
      return tooLargeProblem();
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return new HttpProblem(415, 'unsupported-media-type', 'Send the body as UTF-8 JSON.');
    case 'request.aborted':
    case 'request.size.invalid':
      return new HttpProblem(400, 'malformed-json', 'The body was incomplete.');
    default:
      // body-parser reports a body that does not inflate as its Content-Encoding says (gzip, deflate,
      // br) as a bare 400 carrying the zlib error.
      if (
        (err as { status?: unknown } | null)?.status === 400 &&
        typeof (err as { code?: unknown }).code === 'string' &&
        /^(Z_|ERR_)/.test((err as { code: string }).code)
      ) {
        return new HttpProblem(400, 'malformed-request', 'The body is not compressed as its Content-Encoding says.');
      }
      return null;
  }
}
