// Requests Node's HTTP parser refuses before Express sees them (headers over 16 KB, broken HTTP/1.1, a
// request that did not arrive within the server's timeouts) are answered with a problem too, written
// raw on the socket. There is no request yet, so the request id is made here; it is returned in the body
// and in X-Request-Id like any other.
import { randomUUID } from 'node:crypto';
import { STATUS_CODES, type Server } from 'node:http';
import type { NextFunction, Request, Response } from 'express';
import type { Duplex } from 'node:stream';
import { problemType, type Problem, type ProblemSlug } from '@parley/protocol';
import { HttpProblem, problemTitle } from './problem.js';

function refusal(code: string | undefined): { status: number; slug: ProblemSlug; detail: string } | null {
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT') return { status: 408, slug: 'request-timeout', detail: 'The request did not arrive in time.' };
  if (code === 'HPE_HEADER_OVERFLOW') return { status: 431, slug: 'headers-too-large', detail: 'The request headers are larger than 16 KB.' };
  if (code?.startsWith('HPE_')) return { status: 400, slug: 'malformed-request', detail: 'The request is not valid HTTP/1.1.' };
  return null;
}

export function answerClientErrors(server: Server): void {
  // Node answers an HTTP/1.1 request without a Host header itself, with a bare 400 and no body; the app
  // refuses it instead (requireHost), as a problem with a request id.
  (server as Server & { requireHostHeader: boolean }).requireHostHeader = false;
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
    const r = refusal(err.code);
    const busy = (socket as Duplex & { _httpMessage?: { headersSent?: boolean } })._httpMessage?.headersSent;
    if (!r || !socket.writable || busy) {
      socket.destroy();
      return;
    }
    const id = `req_${randomUUID().replaceAll('-', '')}`;
    const problem: Problem = { type: problemType(r.slug), title: problemTitle(r.slug), status: r.status, detail: r.detail, request_id: id };
    const body = JSON.stringify(problem);
    socket.end(
      `HTTP/1.1 ${r.status} ${STATUS_CODES[r.status]}\r\n` +
        'Content-Type: application/problem+json\r\n' +
        `Content-Length: ${Buffer.byteLength(body)}\r\n` +
        `X-Request-Id: ${id}\r\n` +
        'Cache-Control: no-store\r\n' +
        'Connection: close\r\n\r\n' +
        body,
    );
  });
}

/** An HTTP/1.1 request must name its Host (RFC 9112 §3.2): refused as a problem (see answerClientErrors). */
export function requireHost(req: Request, res: Response, next: NextFunction): void {
  if (req.httpVersionMajor === 1 && req.httpVersionMinor >= 1 && req.headers.host === undefined) {
    res.setHeader('Connection', 'close');
    next(new HttpProblem(400, 'malformed-request', 'An HTTP/1.1 request must carry a Host header.'));
    return;
  }
  next();
}
