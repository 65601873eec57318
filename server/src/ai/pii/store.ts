// The PII vault and a conversation's redaction columns: every statement the redactor and the reveal flow
// need, in one place. Values arrive here sealed; nothing in clear is written or read.
import type { Tx } from '../../db/types.js';

export interface VaultRow {
  token: string;
  class: string;
  sealed: Uint8Array;
}

/** A value taken out of a message, sealed. A token already stored (a concurrent turn) keeps its first value. */
export async function storeVaultEntry(tx: Tx, tenantId: string, conversationId: string, v: VaultRow): Promise<void> {
  await tx.query('INSERT INTO pii_vault (tenant_id, conversation_id, token, class, sealed) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING', [
    tenantId,
    conversationId,
    v.token,
    v.class,
    v.sealed,
  ]);
}

export async function vaultEntry(tx: Tx, conversationId: string, token: string): Promise<Omit<VaultRow, 'token'> | null> {
  const { rows } = await tx.query<Omit<VaultRow, 'token'>>('SELECT sealed, class FROM pii_vault WHERE conversation_id = $1 AND token = $2', [
    conversationId,
    token,
  ]);
  return rows[0] ?? null;
}

export async function vaultEntries(tx: Tx, conversationId: string, tokens: readonly string[]): Promise<Omit<VaultRow, 'class'>[]> {
  const { rows } = await tx.query<Omit<VaultRow, 'class'>>('SELECT token, sealed FROM pii_vault WHERE conversation_id = $1 AND token = ANY($2)', [
    conversationId,
    tokens,
  ]);
  return rows;
}

export async function storeRedactionState(tx: Tx, conversationId: string, state: unknown): Promise<void> {
  await tx.query('UPDATE conversations SET redaction_state = $2 WHERE id = $1', [conversationId, JSON.stringify(state)]);
}

/** Sets the conversation's sealed token key unless one is set already; returns the one that holds. */
export async function claimRedactionKey(tx: Tx, conversationId: string, sealed: Uint8Array): Promise<Uint8Array> {
  const set = await tx.query<{ redaction_key: Uint8Array }>(
    'UPDATE conversations SET redaction_key = $2 WHERE id = $1 AND redaction_key IS NULL RETURNING redaction_key',
    [conversationId, sealed],
  );
  if (set.rows[0]) return set.rows[0].redaction_key;
  const { rows } = await tx.query<{ redaction_key: Uint8Array }>('SELECT redaction_key FROM conversations WHERE id = $1', [conversationId]);
  return rows[0]!.redaction_key;
}
