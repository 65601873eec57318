// The database-derived gauges, read on each scrape. The queries touch only what is pending: the partial
// indexes of pending deliveries and of audit entries awaiting integration, and one primary-key lookup per
// audit log with entries no checkpoint covers.
import type { Db } from '../db/index.js';

export interface Lags {
  /** Seconds since the oldest pending webhook delivery was enqueued (0 when none is pending). */
  outboxSeconds: number;
  /** Seconds since the oldest audit entry still waiting for integration (no index, no proof yet) was appended (0 when none). */
  auditSeconds: number;
  /** Audit entries sequenced (committed) but not yet integrated. */
  auditPending: number;
  /** Seconds since the oldest integrated audit entry no signed checkpoint covers yet was appended (0 when none). */
  checkpointSeconds: number;
}

export async function readLags(db: Db): Promise<Lags> {
  return db.withPlatform(
    { requestId: null, audit: false, readOnly: true, reason: 'metrics scrape: ages of pending work only, no tenant content' },
    async (tx) => {
      const { rows } = await tx.query<{ outbox: number | null; audit: number | null; pending: number; checkpoint: number | null }>(
        `SELECT
           (SELECT EXTRACT(EPOCH FROM now() - min(created_at))::float8 FROM webhook_deliveries WHERE status = 'pending') AS outbox,
           p.audit, p.pending,
           (SELECT EXTRACT(EPOCH FROM now() - min(e.ts))::float8
              FROM audit_heads h JOIN audit_entries e ON e.tenant_id = h.tenant_id AND e.seq = h.last_checkpoint_size
             WHERE h.size > h.last_checkpoint_size) AS checkpoint
         FROM (SELECT EXTRACT(EPOCH FROM now() - min(ts))::float8 AS audit, count(*)::int AS pending
                 FROM audit_entries WHERE seq IS NULL) p`,
      );
      const r = rows[0];
      const secs = (v: number | null | undefined) => Math.max(0, Number(v ?? 0));
      return {
        outboxSeconds: secs(r?.outbox),
        auditSeconds: secs(r?.audit),
        auditPending: Number(r?.pending ?? 0),
        checkpointSeconds: secs(r?.checkpoint),
      };
    },
  );
}
