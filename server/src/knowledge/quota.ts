// Per-tenant knowledge quotas: sources, stored content bytes and chunks. Totals are read from the
// database in the transaction that writes, after taking the tenant's knowledge_stats row lock, so
// concurrent writers of one tenant are serialised and cannot both slip under a limit; a write that
// would take a total past its limit throws, rolling the whole transaction back (nothing half-written).
import type { KnowledgeQuota } from '../config.js';
import type { Tx } from '../db/types.js';
import { DomainError } from '../errors.js';

export type KnowledgeTotals = KnowledgeQuota;
const LIMITS = ['sources', 'bytes', 'chunks'] as const;

export function quotaExceeded(limit: keyof KnowledgeTotals | 'crawls', max: number, used: number, adding?: number): DomainError {
  return new DomainError(
    'quota_exceeded',
    `Your knowledge is limited to ${max} ${limit}; ${used} are used${adding === undefined ? '' : ` and this request would add ${adding}`}. Nothing was stored.`,
    { quota: { limit, max, used, ...(adding === undefined ? {} : { adding }) } },
  );
}

/** Takes the tenant's knowledge write lock (its statistics row) until the transaction ends. */
export async function lockKnowledge(tx: Tx, tenantId: string): Promise<void> {
  await tx.query('INSERT INTO knowledge_stats (tenant_id) VALUES ($1) ON CONFLICT (tenant_id) DO NOTHING', [tenantId]);
  await tx.query('SELECT 1 FROM knowledge_stats WHERE tenant_id = $1 FOR UPDATE', [tenantId]);
}

/** The tenant's totals, as this transaction sees them. */
export async function knowledgeUsage(tx: Tx): Promise<KnowledgeTotals> {
  const { rows } = await tx.query<{ sources: number; bytes: string | number; chunks: number | null }>(
    `SELECT (SELECT count(*)::int FROM knowledge_sources) AS sources,
            (SELECT coalesce(sum(content_bytes), 0)::bigint FROM knowledge_sources) AS bytes,
            (SELECT chunk_count FROM knowledge_stats) AS chunks`,
  );
  const r = rows[0]!;
  return { sources: r.sources, bytes: Number(r.bytes), chunks: r.chunks ?? 0 };
}

/** Before any work (a fetch, a queued crawl): refuses when a total is already at its limit. */
export function requireRoom(usage: KnowledgeTotals, limits: KnowledgeQuota): void {
  for (const k of LIMITS) if (usage[k] >= limits[k]) throw quotaExceeded(k, limits[k], usage[k]);
}

/** After a write, in its transaction: refuses a total past its limit that this write increased. */
export function requireWithin(before: KnowledgeTotals, after: KnowledgeTotals, limits: KnowledgeQuota): void {
  for (const k of LIMITS) if (after[k] > limits[k] && after[k] > before[k]) throw quotaExceeded(k, limits[k], before[k], after[k] - before[k]);
}
