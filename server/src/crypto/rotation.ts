// Data key rotation and KEK re-wrapping. Rotation adds a key version (new seals use it as soon as the
// transaction commits), re-seals every registered sealed column under it in batches, then retires the
// versions no value uses any more. Older versions stay unwrappable, so a value that was missed (or
// written concurrently under the old version) still opens and is moved by the next rotation.
import type { AuditInput } from '../audit/log.js';
import type { ParleyDb } from '../db/index.js';
import type { ActorRef, Tx } from '../db/types.js';
import { KekRefusedError } from './kek.js';
import { SealError, type Keyring } from './keyring.js';
import { SEALED_COLUMNS, type SealedColumn } from './sealed-columns.js';

export interface Auditor {
  append(tx: Tx, input: AuditInput): Promise<unknown>;
}

export interface RotationDeps {
  keyring: Keyring;
  audit: Auditor;
  requestId: string | null;
  actor: ActorRef;
  columns?: readonly SealedColumn[];
  batchSize?: number;
  /** Only rotate when the newest active key is at least this many days old (a concurrent sweep already did it). */
  ifOlderThanDays?: number;
}

export interface RotationResult {
  fromVersions: number[];
  toVersion: number;
  /** Values re-sealed, per `table.column`. */
  resealed: Record<string, number>;
  /** Values that no longer open (tampered or moved); they keep their version, which is then not retired. */
  failed: number;
  retired: number[];
}

const IDENT = /^[a-z_][a-z0-9_]*$/;
const q = (name: string) => {
  if (!IDENT.test(name)) throw new TypeError(`not a plain identifier: ${name}`);
  return `"${name}"`;
};

/** Key version stored in bytes 2–5 of a sealed value (see keyring.ts), as SQL. */
const versionBytes = (col: string) => `substring(${col} from 2 for 4)`;

async function resealColumn(
  tx: Tx,
  tenantId: string,
  c: SealedColumn,
  toVersion: number,
  deps: RotationDeps,
): Promise<{ done: number; failed: number }> {
  const col = q(c.column);
  const keys = c.key.map(q);
  const cols = [...c.key, ...(c.bind ?? [])].map(q).join(', ');
  const batch = deps.batchSize ?? 200;
  let done = 0;
  let failed = 0;
  let after: unknown[] | null = null;
  for (;;) {
    const params: unknown[] = [tenantId, toVersion, batch];
    const page: string = after ? `AND (${keys.join(', ')}) > (${after.map((v) => `$${params.push(v)}`).join(', ')})` : '';
    const { rows }: { rows: Record<string, unknown>[] } = await tx.query<Record<string, unknown>>(
      `SELECT ${cols}, ${col} AS sealed FROM ${q(c.table)}
        WHERE tenant_id = $1 AND ${col} IS NOT NULL AND ${versionBytes(col)} <> int4send($2::int) ${page}
        ORDER BY ${keys.join(', ')} LIMIT $3 FOR UPDATE`,
      params,
    );
    for (const row of rows) {
      const context = c.context(row);
      let resealed: Buffer;
      try {
        const plain = await deps.keyring.open(tx, tenantId, row.sealed as Uint8Array, context);
        resealed = await deps.keyring.seal(tx, tenantId, plain, context);
      } catch (err) {
        if (!(err instanceof SealError)) throw err;
        failed++;
        continue;
      }
      const where = c.key.map((k, i) => `${q(k)} = $${i + 3}`).join(' AND ');
      await tx.query(`UPDATE ${q(c.table)} SET ${col} = $2 WHERE tenant_id = $1 AND ${where}`, [tenantId, resealed, ...c.key.map((k) => row[k])]);
      done++;
    }
    if (rows.length < batch) return { done, failed };
    const last: Record<string, unknown> = rows[rows.length - 1]!;
    after = c.key.map((k) => last[k]);
  }
}

async function versionsInUse(tx: Tx, tenantId: string, columns: readonly SealedColumn[]): Promise<Set<number>> {
  const used = new Set<number>();
  for (const c of columns) {
    const col = q(c.column);
    const { rows } = await tx.query<{ v: Uint8Array }>(
      `SELECT DISTINCT ${versionBytes(col)} AS v FROM ${q(c.table)} WHERE tenant_id = $1 AND ${col} IS NOT NULL`,
      [tenantId],
    );
    for (const r of rows) if (r.v.length === 4) used.add(Buffer.from(r.v).readUInt32BE(0));
  }
  return used;
}

/**
 * Rotates one tenant's data key inside `tx` and appends `data_key.rotate` to the tenant's audit log.
 * Returns null when `ifOlderThanDays` is set and the active key is younger than that.
 */
export async function rotateDataKeys(tx: Tx, tenantId: string, deps: RotationDeps): Promise<RotationResult | null> {
  // Serialises rotations of one tenant (two sweeping instances, a sweep and the CLI).
  const { rows: current } = await tx.query<{ version: number; retired: boolean; age_days: number }>(
    `SELECT version, retired_at IS NOT NULL AS retired, extract(epoch FROM now() - created_at) / 86400 AS age_days
       FROM tenant_data_keys WHERE tenant_id = $1 ORDER BY version FOR UPDATE`,
    [tenantId],
  );
  const active = current.filter((r) => !r.retired);
  if (deps.ifOlderThanDays !== undefined && active.some((r) => Number(r.age_days) < deps.ifOlderThanDays!)) return null;

  const toVersion = await deps.keyring.createVersion(tx, tenantId);
  const columns = deps.columns ?? SEALED_COLUMNS;
  const resealed: Record<string, number> = {};
  let failed = 0;
  for (const c of columns) {
    const r = await resealColumn(tx, tenantId, c, toVersion, deps);
    resealed[`${c.table}.${c.column}`] = r.done;
    failed += r.failed;
  }
  const used = await versionsInUse(tx, tenantId, columns);
  const retire = active.map((r) => r.version).filter((v) => !used.has(v));
  if (retire.length) {
    await tx.query('UPDATE tenant_data_keys SET retired_at = now() WHERE tenant_id = $1 AND version = ANY($2::int[])', [tenantId, retire]);
  }
  const result: RotationResult = { fromVersions: active.map((r) => r.version), toVersion, resealed, failed, retired: retire };
  await deps.audit.append(tx, {
    tenantId,
    requestId: deps.requestId,
    actor: deps.actor,
    action: 'data_key.rotate',
    target: { type: 'data_key', id: String(toVersion) },
    metadata: { ...result },
  });
  return result;
}

/** Tenants whose newest active data key is older than `days`. */
export async function tenantsDueForRotation(tx: Tx, days: number): Promise<string[]> {
  const { rows } = await tx.query<{ tenant_id: string }>(
    `SELECT tenant_id FROM tenant_data_keys WHERE retired_at IS NULL
      GROUP BY tenant_id HAVING max(created_at) <= now() - make_interval(days => $1::int) ORDER BY tenant_id`,
    [days],
  );
  return rows.map((r) => r.tenant_id);
}

/**
 * The background sweep: finds due tenants (key metadata only, like the checkpoint sweep), then rotates
 * each one on the audited platform path, one transaction per tenant so one failure does not stop the rest.
 */
export async function rotationSweep(
  db: ParleyDb,
  deps: { keyring: Keyring; audit: Auditor; days: number },
): Promise<{ rotated: number; failures: { tenantId: string; message: string }[] }> {
  const due = await db.withPlatform({ requestId: null, audit: false, reason: 'finding due tenants: key metadata only' }, (tx) =>
    tenantsDueForRotation(tx, deps.days),
  );
  const actor: ActorRef = { type: 'system', id: 'data-key-rotation' };
  let rotated = 0;
  const failures: { tenantId: string; message: string }[] = [];
  for (const tenantId of due) {
    try {
      const r = await db.withPlatform(
        {
          requestId: null,
          actor,
          reason: `scheduled data key rotation (every ${deps.days} days)`,
          action: 'data_key.rotate',
          target: { type: 'tenant', id: tenantId },
        },
        (tx) => rotateDataKeys(tx, tenantId, { keyring: deps.keyring, audit: deps.audit, requestId: null, actor, ifOlderThanDays: deps.days }),
      );
      if (r) rotated++;
    } catch (err) {
      failures.push({ tenantId, message: (err as Error).message });
    }
  }
  return { rotated, failures };
}

export interface RewrapResult {
  rewrapped: number;
  /** Wrapped keys the configured KEKs refused (altered or copied rows). */
  refused: number;
  /** Wrapped keys whose KEK is not configured, by kek id: set PARLEY_PREVIOUS_MASTER_KEY. */
  missing: Record<string, number>;
}

/**
 * Re-wraps every data key whose KEK is not the current one (e.g. after moving from the local master
 * key to KMS). The data keys themselves do not change, so no sealed value needs touching. Platform path.
 */
export async function rewrapDataKeys(tx: Tx, deps: Omit<RotationDeps, 'columns' | 'batchSize' | 'ifOlderThanDays'>): Promise<RewrapResult> {
  const target = deps.keyring.kek;
  const { rows } = await tx.query<{ tenant_id: string; version: number; kek_id: string; wrapped: Uint8Array }>(
    'SELECT tenant_id, version, kek_id, wrapped FROM tenant_data_keys WHERE kek_id <> $1 ORDER BY tenant_id, version FOR UPDATE',
    [target.id],
  );
  const out: RewrapResult = { rewrapped: 0, refused: 0, missing: {} };
  const perTenant = new Map<string, { versions: number[]; from: Set<string> }>();
  for (const r of rows) {
    const from = deps.keyring.kekFor(r.kek_id);
    if (!from) {
      out.missing[r.kek_id] = (out.missing[r.kek_id] ?? 0) + 1;
      continue;
    }
    let dek: Buffer;
    try {
      dek = await from.unwrap(Buffer.from(r.wrapped), r.tenant_id);
    } catch (err) {
      if (!(err instanceof KekRefusedError)) throw err;
      out.refused++;
      continue;
    }
    const wrapped = await target.wrap(dek, r.tenant_id);
    await tx.query('UPDATE tenant_data_keys SET kek_id = $3, wrapped = $4 WHERE tenant_id = $1 AND version = $2', [
      r.tenant_id,
      r.version,
      target.id,
      wrapped,
    ]);
    const t = perTenant.get(r.tenant_id) ?? { versions: [], from: new Set<string>() };
    t.versions.push(r.version);
    t.from.add(r.kek_id);
    perTenant.set(r.tenant_id, t);
    out.rewrapped++;
  }
  for (const [tenantId, t] of perTenant) {
    await deps.audit.append(tx, {
      tenantId,
      requestId: deps.requestId,
      actor: deps.actor,
      action: 'data_key.rewrap',
      target: { type: 'tenant', id: tenantId },
      metadata: { versions: t.versions, fromKekIds: [...t.from], toKekId: target.id },
    });
  }
  return out;
}
