// What an admin knowledge search reads before it scores, kept in process for a few seconds: the tenant's
// retrieval settings, its index version and statistics, and whether it has an embedding model. With them
// at hand, a search of a tenant whose index copy and passages are in memory (memory-index.ts) asks the
// database nothing. Kept only while this instance hears the database's retrieval notices (migration 122:
// a change to the tenant's chunks, settings or providers, through any instance, a job or the CLI, drops
// its entry as it commits); a lost listening connection stops the keeping until it listens again, since
// notices sent meanwhile are gone. Writes through this instance drop the tenant's entry before their
// response leaves (app.ts). The key that asks is still resolved on every request (tenants/key-cache.ts).
import type { IndexStats } from './memory-index.js';
import { TenantCache } from '../tenants/tenant-cache.js';
import type { EffectiveSettings } from '@parley/protocol';

export const RETRIEVAL_CHANGES_CHANNEL = 'parley_retrieval_changes';

export interface RetrievalInputs {
  tenantId: string;
  settings: EffectiveSettings['retrieval'];
  /** The tenant's index version and statistics (knowledge_stats), null when it has none yet. */
  stats: IndexStats | null;
  /** Whether the tenant has an embedding model: a search then reads its credentials as before. */
  embedder: boolean;
}

export class RetrievalInputsCache {
  readonly channel = RETRIEVAL_CHANGES_CHANNEL;
  private readonly cache: TenantCache<RetrievalInputs>;
  private trusted = false;

  constructor(ttlMs: number, maxEntries = 10_000, now: () => number = Date.now) {
    this.cache = new TenantCache(ttlMs, maxEntries, now);
  }

  /** Whether kept inputs may be used at all (this instance hears the notices). */
  get keeping(): boolean {
    return this.trusted;
  }

  /** The tenant's inputs, from `load` unless kept. */
  get(tenantId: string, load: () => Promise<RetrievalInputs>): Promise<RetrievalInputs> {
    if (!this.trusted) return load();
    return this.cache.get(tenantId, load, (v) => v.tenantId);
  }

  /** Told by the connection that hears RETRIEVAL_CHANGES_CHANNEL whether it does; either way, nothing kept is trusted. */
  listening(on: boolean): void {
    this.trusted = on;
    this.cache.invalidate();
  }

  /** A notice's payload: the tenant whose inputs changed (empty: every tenant). */
  heard(payload: string | undefined): void {
    this.cache.invalidate(payload || undefined);
  }

  /** Drops what is kept of a tenant (every tenant's when none is named). */
  invalidate(tenantId?: string): void {
    this.cache.invalidate(tenantId);
  }
}
