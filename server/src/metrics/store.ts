// The database-derived gauges, read on each scrape. Both queries touch only what is pending: the
// partial index of pending deliveries, and one primary-key lookup per audit log with uncovered entries.
import type { Db } from '../db/index.js';

export interface Lags {
  /** Seconds since the oldest pending webhook delivery was enqueued (0 when none is pending). */
  outboxSeconds: number;
  /** Seconds since the oldest audit entry no signed checkpoint covers yet was appended (0 when none). */
  auditSeconds: number;
}

export async function readLags(db: Db): Promise<Lags> {
  return db.withPlatform(
    { requestId: null, audit: false, readOnly: true, reason: 'metrics scrape: ages of pending work only, no tenant content' },
    async (tx) => {
      const { rows } = await tx.query<{ outbox: number | null; audit: number | null }>(
        `SELECT
           (SELECT EXTRACT(EPOCH FROM now() - min(created_at))::float8 FROM webhook_deliveries WHERE status = 'pending') AS outbox,
           (SELECT EXTRACT(EPOCH FROM now() - min(e.ts))::float8
              FROM audit_heads h JOIN audit_entries e ON e.tenant_id = h.tenant_id AND e.seq = h.last_checkpoint_size
             WHERE h.size > h.last_checkpoint_size) AS audit`,
      );
      const r = rows[0];
      return { outboxSeconds: Math.max(0, Number(r?.outbox ?? 0)), auditSeconds: Math.max(0, Number(r?.audit ?? 0)) };
    },
  );
}
