// Reads a transaction would otherwise repeat, made once per transaction: its tenant, the tenant's
// settings row, its provider credentials, a conversation row lock already taken. Each is keyed by the
// transaction object, so nothing outlives the transaction or crosses into another one; the module that
// writes a memoised value forgets it in the same transaction.
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
