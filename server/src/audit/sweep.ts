// Time-based checkpoints: signs the head of every log that grew since its last checkpoint. Checkpoints
// are derived data (a signature over existing entries), so this sweep reads no tenant content and is
// not itself an audited action — auditing it would grow the platform log on every sweep.
import type { ParleyDb } from '../db/index.js';
import type { AuditLog } from './log.js';
import { AuditTampered } from './vouch.js';

export async function checkpointSweep(db: ParleyDb, audit: AuditLog): Promise<number> {
  return db.withPlatform({ requestId: null, audit: false, reason: 'checkpoint signing: derived data, no tenant content' }, async (tx) => {
    const { rows } = await tx.query<{ tenant_id: string }>(
      'SELECT tenant_id FROM audit_heads WHERE size > last_checkpoint_size AND NOT (tenant_id = ANY($1::uuid[])) FOR UPDATE SKIP LOCKED',
      [audit.heldLogs()],
    );
    let signed = 0;
    for (const h of rows) {
      try {
        // Checked before anything is written (vouch.ts): a refusal leaves the transaction clean for the rest.
        if (await audit.checkpointIfBehind(tx, h.tenant_id)) signed++;
      } catch (err) {
        if (!(err instanceof AuditTampered)) throw err;
        audit.hold(err);
      }
    }
    return signed;
  });
}
