// Keys from a tenant's JWKS URL, fetched through the outbound module (public destinations only, bounded
// size and time) and cached per tenant and URL in a bounded LRU: a TTL for freshness, a cooldown so an
// unknown kid or a failing URL cannot make visitors trigger a request each, and at most one fetch in
// flight per entry.
import type { JWK } from 'jose';

export interface JwksCacheOptions {
  maxEntries: number;
  ttlMs: number;
  /** Minimum time between two fetches of one entry (refresh for an unknown kid, retry after a failure). */
  cooldownMs: number;
  now: () => number;
}

const DEFAULTS: JwksCacheOptions = { maxEntries: 1000, ttlMs: 10 * 60_000, cooldownMs: 30_000, now: Date.now };
const MAX_KEYS = 100;

interface Entry {
  keys: JWK[] | null;
  fetchedAt: number;
  until: number;
  inflight: Promise<JWK[]> | null;
}

export class JwksUnavailable extends Error {}

export class JwksCache {
  private readonly entries = new Map<string, Entry>();
  private readonly opts: JwksCacheOptions;

  /** `fetch` must be the outbound module's (with JWKS-sized limits). */
  constructor(
    private readonly fetch: typeof globalThis.fetch,
    opts: Partial<JwksCacheOptions> = {},
  ) {
    this.opts = { ...DEFAULTS, ...opts };
  }

  get size(): number {
    return this.entries.size;
  }

  /** The public keys at `url` for `tenantId`; `refresh` asks for new keys (an unknown kid), subject to the cooldown. */
  async keys(tenantId: string, url: string, opts: { refresh?: boolean } = {}): Promise<JWK[]> {
    const id = `${tenantId}\n${url}`;
    const now = this.opts.now();
    let entry = this.entries.get(id);
    if (entry) {
      // Most recently used last: Map keeps insertion order.
      this.entries.delete(id);
      this.entries.set(id, entry);
      if (entry.inflight) return entry.inflight;
      const fresh = now < entry.until && !(opts.refresh && now - entry.fetchedAt >= this.opts.cooldownMs);
      if (fresh) {
        if (!entry.keys) throw new JwksUnavailable('the JWKS URL could not be fetched recently');
        return entry.keys;
      }
    } else {
      entry = { keys: null, fetchedAt: 0, until: 0, inflight: null };
      this.entries.set(id, entry);
      while (this.entries.size > this.opts.maxEntries) this.entries.delete(this.entries.keys().next().value!);
    }
    const e = entry;
    e.inflight = this.load(url).then(
      (keys) => {
        const at = this.opts.now();
        Object.assign(e, { keys, fetchedAt: at, until: at + this.opts.ttlMs, inflight: null });
        return keys;
      },
      (err) => {
        const at = this.opts.now();
        // Keep serving the last good keys through a failure, but ask again only after the cooldown.
        Object.assign(e, { fetchedAt: at, until: at + this.opts.cooldownMs, inflight: null });
        if (e.keys) return e.keys;
        throw err;
      },
    );
    return e.inflight;
  }

  private async load(url: string): Promise<JWK[]> {
    const res = await this.fetch(url, { headers: { accept: 'application/jwk-set+json, application/json' } });
    if (!res.ok) {
      await res.body?.cancel();
      throw new JwksUnavailable(`the JWKS URL answered ${res.status}`);
    }
    const body = (await res.json()) as { keys?: unknown };
    if (!body || !Array.isArray(body.keys)) throw new JwksUnavailable('the JWKS URL did not answer a key set');
    // Public keys only: a set that leaks private or symmetric material is not used for them.
    return (body.keys as JWK[])
      .filter((k) => k && typeof k === 'object' && typeof k.kty === 'string' && k.kty !== 'oct' && !('d' in k))
      .slice(0, MAX_KEYS);
  }
}
