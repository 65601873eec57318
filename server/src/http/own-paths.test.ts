// A router passed over for paths it cannot match answers every path it can exactly as before.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type NextFunction, type Request, type Response, Router } from 'express';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { firstSegments, ownPaths } from './own-paths.js';

describe('the first segments a router matches', () => {
  test('literal routes and middleware under a path: their first segments, in lower case', () => {
    const r = Router();
    r.get('/Knowledge/search', () => {});
    r.post('/knowledge/sources/:id', () => {});
    r.use(['/mfa', '/passkey'], () => {});
    r.get('/', () => {});
    expect(firstSegments(r)).toEqual(new Set(['knowledge', 'mfa', 'passkey', '']));
  });

  test.each([
    ['a middleware for every path', (r: Router) => r.use(() => {})],
    ['a parameter first', (r: Router) => r.get('/:tenantId/metadata', () => {})],
    ['a regular expression', (r: Router) => r.get(/^\/docs/, () => {})],
    ['a wildcard', (r: Router) => r.get('/*rest', () => {})],
    ['an optional group', (r: Router) => r.get('{/a}/b', () => {})],
    ['a first segment beyond ASCII', (r: Router) => r.get('/caf\u00e9', () => {})],
  ])('none when the router has %s: it is entered by every request', (_, add) => {
    const r = Router();
    r.get('/knowledge', () => {});
    add(r);
    expect(firstSegments(r)).toBeNull();
  });

  test('a case-sensitive router keeps the case', () => {
    const r = Router({ caseSensitive: true });
    r.get('/Knowledge', () => {});
    expect(firstSegments(r)).toEqual(new Set(['Knowledge']));
  });
});

describe('routers entered only for their own first segments', () => {
  let server: Server;
  let url: string;
  const entered: string[] = [];
  beforeAll(async () => {
    const app = express();
    const parent = Router();
    const knowledge = Router();
    knowledge.get('/knowledge/search', (_req, res) => void res.json({ by: 'knowledge' }));
    const anyPath = Router();
    anyPath.use((req: Request, _res, next) => {
      entered.push(req.path);
      next();
    });
    const late = Router();
    const failing = Router();
    failing.get('/fails', () => {
      throw new Error('failed');
    });
    // After the failing one: an error passes it, as it passes any router.
    const afterFailing = Router();
    afterFailing.use((_req, _res, next) => {
      entered.push('after failing');
      next();
    });
    parent.use(ownPaths(knowledge, failing, anyPath, late, afterFailing));
    // Added after the first request: read again.
    parent.get('/probe', (_req, res) => void res.json({ by: 'probe' }));
    parent.use((req, res) => void res.status(404).json({ path: req.path }));
    parent.use((err: Error, _req: Request, res: Response, _next: NextFunction) => void res.status(500).json({ error: err.message }));
    app.use('/v1', parent);
    server = createServer(app);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    expect(await (await fetch(`${url}/v1/probe`)).json()).toEqual({ by: 'probe' });
    late.get('/late', (_req, res) => void res.json({ by: 'late' }));
  });
  afterAll(() => new Promise((resolve) => server.close(resolve)));

  test.each([
    ['/v1/knowledge/search', 200, { by: 'knowledge' }],
    ['/v1/KNOWLEDGE/Search/', 200, { by: 'knowledge' }],
    ['/v1/knowledge/search?q=1', 200, { by: 'knowledge' }],
    ['/v1/late', 200, { by: 'late' }],
    ['/v1/knowledgeable/search', 404, { path: '/knowledgeable/search' }],
    ['/v1/%6Bnowledge/search', 404, { path: '/%6Bnowledge/search' }],
  ])('%s answers as Express alone would', async (path, status, body) => {
    const res = await fetch(url + path);
    expect(res.status).toBe(status);
    expect(await res.json()).toEqual(body);
  });

  test('a router with a middleware for every path sees every request that reaches it, in its turn', async () => {
    entered.length = 0;
    await fetch(`${url}/v1/knowledge/search`);
    await fetch(`${url}/v1/elsewhere`);
    expect(entered).toEqual(['/elsewhere', 'after failing']);
  });

  test('an error passes the routers after it to the error handler', async () => {
    entered.length = 0;
    const res = await fetch(`${url}/v1/fails`);
    expect(res.status).toBe(500);
    expect(await res.json()).toEqual({ error: 'failed' });
    expect(entered).toEqual([]);
  });

  test("the routers' layers can be read through it, in order", () => {
    const a = Router();
    a.get('/a', () => {});
    const b = Router();
    b.get('/b', () => {});
    const both = ownPaths(a, b);
    b.get('/c', () => {});
    expect(both.stack.map((l) => (l as { route?: { path: string } }).route?.path)).toEqual(['/a', '/b', '/c']);
  });
});
