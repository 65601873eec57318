// A local stand-in for a Pinecone index's data plane (we cannot reach Pinecone from tests): the real
// client talks HTTP to it. It implements what our store sends — upsert, query with a metadata equality
// filter, delete by ids or a whole namespace — with Pinecone's limits and API-key check, and records every request.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

interface Vector {
  values: number[];
  metadata: Record<string, unknown>;
}

export interface FakeRequest {
  path: string;
  namespace: string;
  count: number;
  bytes: number;
}

const cosine = (a: number[], b: number[]) => {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!;
    na += a[i]! ** 2;
    nb += b[i]! ** 2;
  }
  return na && nb ? dot / Math.sqrt(na * nb) : 0;
};

const matches = (metadata: Record<string, unknown>, filter: Record<string, unknown> | undefined) =>
  !filter ||
  Object.entries(filter).every(([k, cond]) =>
    cond && typeof cond === 'object' && '$eq' in cond ? metadata[k] === (cond as { $eq: unknown }).$eq : metadata[k] === cond,
  );

export async function startFakePinecone(opts: { apiKey: string }) {
  const spaces = new Map<string, Map<string, Vector>>();
  const requests: FakeRequest[] = [];
  const space = (ns: string) => spaces.get(ns) ?? spaces.set(ns, new Map()).get(ns)!;

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const send = (status: number, body: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      if (req.headers['api-key'] !== opts.apiKey) return send(401, { error: { code: 'UNAUTHENTICATED', message: 'Invalid API Key' }, status: 401 });
      const raw = Buffer.concat(chunks);
      const body = raw.length ? (JSON.parse(raw.toString('utf8')) as Record<string, any>) : {};
      const namespace: string = body.namespace ?? '';
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      if (req.method !== 'POST') return send(405, { error: { message: 'method not allowed' } });
      if (path === '/vectors/upsert') {
        const vectors = body.vectors as { id: string; values: number[]; metadata?: Record<string, unknown> }[];
        requests.push({ path, namespace, count: vectors.length, bytes: raw.length });
        if (vectors.length > 1000 || raw.length > 2 * 1024 * 1024)
          return send(400, { error: { code: 'INVALID_ARGUMENT', message: 'too many vectors or too large' }, status: 400 });
        for (const v of vectors) space(namespace).set(v.id, { values: v.values, metadata: v.metadata ?? {} });
        return send(200, { upsertedCount: vectors.length });
      }
      if (path === '/query') {
        requests.push({ path, namespace, count: body.topK, bytes: raw.length });
        const found = [...space(namespace)]
          .filter(([, v]) => matches(v.metadata, body.filter))
          .map(([id, v]) => ({ id, score: cosine(v.values, body.vector) }))
          .sort((a, b) => b.score - a.score)
          .slice(0, body.topK);
        return send(200, { matches: found, namespace, usage: { readUnits: 1 } });
      }
      if (path === '/vectors/delete') {
        if (body.deleteAll === true) {
          requests.push({ path, namespace, count: space(namespace).size, bytes: raw.length });
          spaces.delete(namespace);
          return send(200, {});
        }
        const ids: string[] = body.ids ?? [];
        requests.push({ path, namespace, count: ids.length, bytes: raw.length });
        if (ids.length > 1000) return send(400, { error: { code: 'INVALID_ARGUMENT', message: 'too many ids' }, status: 400 });
        for (const id of ids) space(namespace).delete(id);
        return send(200, {});
      }
      send(404, { error: { message: `no route ${path}` } });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    host: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    /** Vectors per namespace. */
    namespaces: (): Record<string, number> => Object.fromEntries([...spaces].map(([ns, m]) => [ns, m.size])),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
