// Writing sources for the admin API and for crawl jobs alike: ingest, drop replaced vectors, record
// each stored size, enforce the tenant's quota and audit, all in one tenant transaction.
import type { AuditLog } from '../audit/log.js';
import type { KnowledgeQuota } from '../config.js';
import type { Db } from '../db/index.js';
import type { ActorRef, Tx, TxContext } from '../db/types.js';
import { sourceSynced } from '../webhooks/events.js';
import { ingestSources, type InlineSource } from './ingest.js';
import { knowledgeUsage, lockKnowledge, requireRoom, requireWithin } from './quota.js';
import { countExternalIds, setContentBytes, type SourceRow, type UpsertResult } from './store.js';
import type { VectorStore } from './vectors/store.js';

export interface WriteDeps {
  db: Db;
  audit: AuditLog;
  vectors: VectorStore;
  quota: KnowledgeQuota;
}

export interface WriteItem {
  input: InlineSource;
  kind: SourceRow['kind'];
}

/** Would this write create a source: one without an externalId, or with one not stored yet? */
async function addsSource(tx: Tx, items: WriteItem[]): Promise<boolean> {
  const ids = items.map((i) => i.input.externalId ?? null);
  if (ids.includes(null)) return true;
  const wanted = [...new Set(ids as string[])];
  return (await countExternalIds(tx, wanted)) < wanted.length;
}

/**
 * Stores the sources in one transaction, or nothing: a write past the tenant's quota throws a
 * quota-exceeded problem. `alsoInTx` runs in the same transaction (a crawl job's progress).
 */
export async function writeSources(
  deps: WriteDeps,
  tenantId: string,
  /** The request's (with a member's authority, its transaction holds them) or the crawl job's. */
  ctx: TxContext & { actor: ActorRef },
  items: WriteItem[],
  alsoInTx?: (tx: Tx, results: UpsertResult[]) => Promise<void>,
): Promise<UpsertResult[]> {
  return deps.db.withTenant(tenantId, ctx, async (tx) => {
    await lockKnowledge(tx, tenantId);
    const before = await knowledgeUsage(tx);
    // Before the work, as kind:url and sitemaps are checked before their fetch: a tenant at a limit cannot
    // add a source, so it is refused without chunking and indexing everything first. A write that only
    // replaces sources may still fit (requireWithin below decides).
    if (await addsSource(tx, items)) requireRoom(before, deps.quota);
    const removed: string[] = [];
    const results = await ingestSources(
      tx,
      tenantId,
      items.map(({ input, kind }) => ({ input, storedAs: kind })),
      removed,
    );
    const changed = results.flatMap((r, i) => (r.changed ? [{ id: r.source.id, bytes: Buffer.byteLength(items[i]!.input.content) }] : []));
    if (changed.length) await setContentBytes(tx, changed);
    requireWithin(before, await knowledgeUsage(tx), deps.quota);
    await deps.vectors.remove(tx, tenantId, removed);
    for (const [i, res] of results.entries()) {
      if (!res.changed) continue;
      await deps.audit.append(tx, {
        tenantId,
        requestId: ctx.requestId,
        actor: ctx.actor,
        action: res.replaced ? 'knowledge.source_replace' : 'knowledge.source_create',
        target: { type: 'knowledge_source', id: res.source.id },
        metadata: { kind: items[i]!.kind, chunks: res.source.chunk_count },
      });
      await sourceSynced(tx, tenantId, res.source);
    }
    await alsoInTx?.(tx, results);
    return results;
  });
}
