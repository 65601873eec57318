// GET /v1/openapi.json: the API's contract, generated once from protocol (see protocol/src/contract).
import { openApiDocument } from '@parley/protocol/contract';
import type { RequestHandler } from 'express';

export function openApiRoute(publicUrl: string): RequestHandler {
  let body: string | undefined;
  return (_req, res) => {
    body ??= JSON.stringify(openApiDocument({ serverUrl: new URL(publicUrl).origin }));
    res.setHeader('Cache-Control', 'public, max-age=300').type('application/json').send(body);
  };
}
