// Knowledge through the admin API for tests: a sitemap crawl queued and followed to its end.
import { expect } from 'vitest';
import type { Res } from './http.js';

/** `(method, path, body?)` against `/v1/admin` as one tenant's key. */
export type AdminCall = (method: string, path: string, body?: unknown) => Promise<Res>;

/**
 * Queues a crawl of the sitemap at `url` (answered 202) and reads its job every 50 ms until it is done or
 * failed, 300 reads at most; returns the job as last read.
 */
export async function crawlSitemap(admin: AdminCall, url: string) {
  const res = await admin('POST', '/knowledge/sources', { kind: 'sitemap', url });
  expect(res.status).toBe(202);
  let job = res.body.job;
  for (let i = 0; i < 300 && job.status !== 'done' && job.status !== 'failed'; i++) {
    await new Promise((r) => setTimeout(r, 50));
    job = (await admin('GET', `/knowledge/jobs/${job.id}`)).body.job;
  }
  return job;
}
