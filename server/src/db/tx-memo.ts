// Reads a transaction would otherwise repeat, made once per transaction: its tenant, the tenant's
// settings row, its provider credentials, a conversation row lock already taken. Each is keyed by the
// transaction object, so nothing outlives the transaction or crosses into another one unless carried
// (carryReads: plain reads only, into the same tenant's next read); the module that writes a memoised
// value forgets it in the same transaction.
import type { Tx } from './types.js';

const memos = new WeakMap<Tx, Map<string, Promise<unknown>>>();

/** `read()` once per transaction and key; a failed read is not kept. */
export function oncePerTx<T>(tx: Tx, key: string, read: () => Promise<T>): Promise<T> {
  let m = memos.get(tx);
  if (!m) memos.set(tx, (m = new Map()));
  const hit = m.get(key) as Promise<T> | undefined;
  if (hit) return hit;
  const p = read();
  m.set(key, p);
  p.catch(() => m.delete(key));
  return p;
}

/** A memoised read if this transaction made it already, else undefined (nothing is read). */
export function memoInTx<T>(tx: Tx, key: string): Promise<T> | undefined {
  return memos.get(tx)?.get(key) as Promise<T> | undefined;
}

/** Forgets a memoised read (after this transaction wrote what it read). */
export function forgetInTx(tx: Tx, key: string): void {
  memos.get(tx)?.delete(key);
}

/** Reads made in one transaction of a tenant that a later read transaction of the same tenant starts from (Db.withTenantRead). */
export interface CarriedReads {
  tenantId: string;
  reads: ReadonlyMap<string, Promise<unknown>>;
}

// Keys (or key prefixes ending in ':') of reads another transaction may be given: plain reads of rows,
// never a lock, each registered by the module that memoises it.
const carryable: string[] = [];

/** Lets the read memoised under `key` (a prefix, if it ends in ':') be carried to a later transaction. */
export function carryableRead(key: string): string {
  carryable.push(key);
  return key;
}

/**
 * The carryable reads `tx` has made or started, for a read transaction that follows it at once (the answer
 * to a message just stored): there they are not asked again, as if read a moment earlier.
 */
export function carryReads(tx: Tx, tenantId: string): CarriedReads {
  const reads = new Map<string, Promise<unknown>>();
  for (const [key, read] of memos.get(tx) ?? []) if (carryable.some((c) => (c.endsWith(':') ? key.startsWith(c) : key === c))) reads.set(key, read);
  return { tenantId, reads };
}

/** Starts `tx`, scoped to `tenantId`, from reads carried from an earlier transaction of that tenant. */
export function seedReads(tx: Tx, tenantId: string, carried: CarriedReads): void {
  if (carried.tenantId !== tenantId) throw new Error("reads carry only into the same tenant's transaction");
  for (const [key, read] of carried.reads) void oncePerTx(tx, key, () => read);
}

/** Records the tenant a transaction was scoped to as it opened (db/index.ts), so txTenant need not ask. */
export function scopedTo(tx: Tx, tenantId: string | null): void {
  void oncePerTx(tx, 'tenant', async () => tenantId);
}

/** The tenant this transaction is scoped to (`withTenant`), or null. */
export async function txTenant(tx: Tx): Promise<string | null> {
  return oncePerTx(tx, 'tenant', async () => {
    const { rows } = await tx.query<{ tenant: string | null }>("SELECT current_setting('app.tenant_id', true) AS tenant");
    return rows[0]?.tenant || null;
  });
}
