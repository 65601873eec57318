// Deleting a tenant for good (issue 14). The engine runs in three steps, each safe to repeat after a crash:
//   1. crypto-shredding: the tenant's data keys are destroyed (and dropped from this process's cache), so
//      every value sealed under them is unreadable from then on, in backups too;
//   2. the tenant's vectors leave an external store (Pinecone: its whole namespace);
//   3. one transaction: the tenant log's pending entries are integrated and its final checkpoint signed and
//      recorded, every row carrying the tenant id is deleted (tables found in the catalog, children before
//      parents) and the platform log gets a tombstone: tenant id, time, counts per table, final checkpoint.
// An owner schedules a deletion with a grace period (cancellable until it is due); a leased job runs those
// that are due, and an operator runs one at once from the CLI.
import type { TenantDeletionRequest, TenantDeletionStatus } from '@parley/protocol';
import type { Logger } from 'pino';
import { PLATFORM_TENANT, isUuid, type Db, type ParleyDb, type Tx } from '../db/index.js';
import type { AdminCtx } from '../people/service.js';
import { mailFailure, type Mailer } from '../people/mailer.js';
import { newHolderId, runLeased, type LeasedRun } from '../jobs/lease.js';
import type { ActorRef } from '../db/types.js';
import type { AuditLog } from '../audit/log.js';
import { claimPending } from '../audit/integrator.js';
import type { Keyring } from '../crypto/keyring.js';
import type { VectorStore } from '../knowledge/vectors/store.js';
import { DomainError } from '../errors.js';
import {
  deleteScheduled,
  dueDeletions,
  eraseRows,
  insertScheduled,
  ownerAddresses,
  markDone,
  markErasing,
  markShredded,
  readDeletion,
  recordFinalCheckpoint,
  tenantExists,
  tenantTables,
  type DeletionRow,
} from './deletion-store.js';

export const TOMBSTONE_ACTION = 'tenant.deleted';

export interface DeletionDeps {
  db: ParleyDb;
  audit: AuditLog;
  keyring: Keyring;
  vectors: VectorStore;
}

export interface Tombstone {
  tenantId: string;
  deletedAt: string;
  /** Data key versions destroyed (step 1). */
  keysDestroyed: number;
  /** Rows deleted per table (tables with none left out). */
  counts: Record<string, number>;
  /** The tenant log's last signed checkpoint (C2SP note) and the verifier key it verifies with. */
  finalCheckpoint: { note: string; verifierKey: string };
}

interface Ctx {
  requestId: string | null;
  actor: ActorRef;
}

/**
 * The order in which the tables can be emptied of a tenant's rows: every table after all tables whose rows
 * reference it. Throws on a cycle of references between tables (none exists; a migration adding one must
 * make a reference deferrable or nullable and teach this order about it).
 */
export function deletionOrder(tables: readonly string[], references: readonly (readonly [string, string])[]): string[] {
  const children = new Map<string, Set<string>>(tables.map((t) => [t, new Set()]));
  for (const [child, parent] of references) children.get(parent)?.add(child);
  const done = new Set<string>();
  const order: string[] = [];
  while (order.length < tables.length) {
    const ready = [...children].filter(([t, kids]) => !done.has(t) && [...kids].every((k) => done.has(k))).map(([t]) => t);
    if (!ready.length) throw new Error(`tenant deletion: references form a cycle among ${tables.filter((t) => !done.has(t)).join(', ')}`);
    for (const t of ready.sort()) {
      done.add(t);
      order.push(t);
    }
  }
  return order;
}

const tombstoneOf = (row: DeletionRow): Tombstone => ({
  tenantId: row.tenant,
  deletedAt: row.completed_at!.toISOString(),
  keysDestroyed: row.keys_destroyed,
  counts: row.counts ?? {},
  finalCheckpoint: { note: row.final_checkpoint!, verifierKey: row.final_verifier_key! },
});

/**
 * Deletes a tenant now (the operator's `tenants delete --now`, and the job for due deletions). Repeating it
 * after a crash resumes; repeating it after it finished returns the same tombstone.
 */
export async function deleteTenantNow(deps: DeletionDeps, tenantId: string, ctx: Ctx): Promise<{ tombstone: Tombstone; alreadyDeleted: boolean }> {
  if (!isUuid(tenantId) || tenantId.toLowerCase() === PLATFORM_TENANT) throw new DomainError('not_found', 'No such tenant.');
  const id = tenantId.toLowerCase();
  const before = await deps.db.withPlatform(
    { requestId: ctx.requestId, audit: false, readOnly: true, reason: 'tenant deletion: its state only' },
    async (tx) => ({
      record: await readDeletion(tx, id),
      exists: await tenantExists(tx, id),
    }),
  );
  if (before.record?.state === 'done') return { tombstone: tombstoneOf(before.record), alreadyDeleted: true };
  if (!before.exists) throw new DomainError('not_found', 'No such tenant.');

  // 1. Crypto-shredding, committed on its own: whatever happens next, the keys are gone.
  await deps.db.withPlatform(
    { ...ctx, reason: 'tenant deletion: destroy its data keys', action: 'tenant.delete.shred', target: { type: 'tenant', id } },
    async (tx) => {
      await markErasing(tx, id);
      await markShredded(tx, id, await eraseRows(tx, 'tenant_data_keys', id));
    },
  );
  deps.keyring.forget(id);

  // 2. Vectors outside the database.
  await deps.vectors.dropTenant(id);

  // 3. The rows and the tombstone, together. The tombstone is this transaction's platform audit entry.
  const tombstone = await deps.db.withPlatform(
    { requestId: ctx.requestId, audit: false, reason: 'tenant deletion: writes its own tombstone entry to the platform log' },
    async (tx) => {
      const record = await readDeletion(tx, id, true);
      if (record?.state === 'done') return tombstoneOf(record);
      const finalCheckpoint = await closeTenantLog(tx, deps.audit, id);
      await recordFinalCheckpoint(tx, id, finalCheckpoint.note, finalCheckpoint.verifierKey);
      const { tables, references } = await tenantTables(tx);
      const counts: Record<string, number> = {};
      for (const table of deletionOrder(tables, references)) {
        const n = await eraseRows(tx, table, id);
        if (n) counts[table] = n;
      }
      const deletedAt = await markDone(tx, id, counts);
      const out: Tombstone = {
        tenantId: id,
        deletedAt: deletedAt.toISOString(),
        keysDestroyed: record?.keys_destroyed ?? 0,
        counts,
        finalCheckpoint,
      };
      await deps.audit.append(tx, {
        tenantId: null,
        requestId: ctx.requestId,
        actor: ctx.actor,
        action: TOMBSTONE_ACTION,
        target: { type: 'tenant', id },
        reason: 'tenant deletion',
        metadata: { ...out },
      });
      return out;
    },
  );
  return { tombstone, alreadyDeleted: false };
}

/** Integrates the log's last pending entries and signs its head: the checkpoint the tombstone keeps. */
async function closeTenantLog(tx: Tx, audit: AuditLog, tenantId: string): Promise<Tombstone['finalCheckpoint']> {
  const pending = await claimPending(tx, null, tenantId, false);
  if (pending.length) await audit.integrate(tx, tenantId, pending);
  const { note } = await audit.latestCheckpoint(tx, tenantId);
  const [verifierKey] = await audit.verifierKeys(tx, tenantId);
  return { note, verifierKey: verifierKey! };
}

// Owners' scheduling over the admin API. The tenant keeps working until the deletion falls due.

export interface SchedulingDeps {
  db: Db;
  audit: AuditLog;
  mailer: Mailer;
  logger: Logger;
}

const DAY_MS = 24 * 60 * 60 * 1000;

const statusOf = (row: DeletionRow | null): TenantDeletionStatus =>
  !row || row.state === 'done'
    ? { state: 'none', requestedAt: null, dueAt: null }
    : { state: row.state, requestedAt: row.requested_at.toISOString(), dueAt: row.due_at.toISOString() };

export async function deletionStatus(deps: SchedulingDeps, ctx: AdminCtx): Promise<TenantDeletionStatus> {
  return deps.db.withTenant(ctx.tenantId, ctx, async (tx) => statusOf(await readDeletion(tx, ctx.tenantId)));
}

export async function scheduleDeletion(deps: SchedulingDeps, ctx: AdminCtx, input: TenantDeletionRequest): Promise<TenantDeletionStatus> {
  const { status, owners } = await deps.db.withTenant(ctx.tenantId, ctx, async (tx) => {
    const row = await insertScheduled(tx, ctx.tenantId, new Date(Date.now() + input.graceDays * DAY_MS));
    if (!row) throw new DomainError('conflict', 'The deletion of this tenant is already scheduled.');
    await deps.audit.append(tx, {
      tenantId: ctx.tenantId,
      requestId: ctx.requestId,
      actor: ctx.actor,
      action: 'tenant.deletion.schedule',
      target: { type: 'tenant', id: ctx.tenantId },
      metadata: { graceDays: input.graceDays, dueAt: row.due_at.toISOString() },
    });
    return { status: statusOf(row), owners: await ownerAddresses(tx) };
  });
  await notifyOwners(deps, owners, {
    subject: 'Your Parley workspace is scheduled for deletion',
    text: [
      `An owner scheduled the deletion of your Parley workspace. It will be deleted for good on ${status.dueAt}: its data keys are destroyed and every conversation, knowledge source, key and member removed.`,
      '',
      'Until then it keeps working. Any owner can cancel the deletion in the console or with DELETE /v1/admin/tenant/deletion.',
    ].join('\n'),
  });
  return status;
}

export async function cancelDeletion(deps: SchedulingDeps, ctx: AdminCtx): Promise<void> {
  const owners = await deps.db.withTenant(ctx.tenantId, ctx, async (tx) => {
    if (!(await deleteScheduled(tx, ctx.tenantId))) throw new DomainError('not_found', 'No deletion of this tenant is scheduled (or it has begun).');
    await deps.audit.append(tx, {
      tenantId: ctx.tenantId,
      requestId: ctx.requestId,
      actor: ctx.actor,
      action: 'tenant.deletion.cancel',
      target: { type: 'tenant', id: ctx.tenantId },
    });
    return ownerAddresses(tx);
  });
  await notifyOwners(deps, owners, {
    subject: 'The deletion of your Parley workspace was cancelled',
    text: 'An owner cancelled the scheduled deletion of your Parley workspace. Nothing was deleted; it keeps working as before.',
  });
}

/** After the commit: a notice that fails to send does not undo the change (it is audited and shown by GET). */
async function notifyOwners(deps: SchedulingDeps, owners: string[], mail: { subject: string; text: string }): Promise<void> {
  for (const to of owners)
    await deps.mailer.send({ to, ...mail }).catch((err: unknown) => deps.logger.warn({ mail: mailFailure(err) }, 'tenant deletion notice failed'));
}

export const DELETION_JOB = 'tenant-deletions';

/**
 * Runs the deletions that are due (and resumes any interrupted), under the `tenant-deletions` lease: one
 * instance at a time; the engine is safe to repeat, so a run cut short by a lost lease is finished later.
 */
export function runDueDeletions(
  deps: DeletionDeps,
  holder: string = newHolderId(),
  opts: { signal?: AbortSignal; everyMs?: number; logger?: Logger } = {},
): Promise<LeasedRun<string[]>> {
  return runLeased(
    deps.db,
    { name: DELETION_JOB, holder, ttlMs: 10 * 60_000, everyMs: opts.everyMs ?? 60_000, ...(opts.signal ? { signal: opts.signal } : {}) },
    async (lease) => {
      const due = await deps.db.withPlatform({ requestId: null, audit: false, readOnly: true, reason: 'due tenant deletions: ids only' }, (tx) =>
        dueDeletions(tx, 20),
      );
      const deleted: string[] = [];
      for (const id of due) {
        if (lease.signal.aborted || opts.signal?.aborted) break;
        try {
          await deleteTenantNow(deps, id, { requestId: null, actor: { type: 'system', id: null } });
          deleted.push(id);
        } catch (err) {
          opts.logger?.warn({ tenantId: id, err: { message: (err as Error).message } }, 'tenant deletion failed; retried on the next run');
        }
      }
      return deleted;
    },
  );
}
