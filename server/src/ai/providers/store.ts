// The tenant's provider rows: keys arrive and leave sealed; only `api_key_last4` is ever shown.
import type { ProviderName } from '@parley/protocol';
import type { Tx } from '../../db/index.js';

export interface ProviderRow {
  provider: ProviderName;
  model: string;
  embedding_model: string | null;
  base_url: string | null;
  api_key_last4: string;
  created_at: Date;
  updated_at: Date;
}
const COLUMNS = 'provider, model, embedding_model, base_url, api_key_last4, created_at, updated_at';

// A type, not an interface: the sealed column's context reads it as a plain record (crypto/sealed-columns.ts).
export type SealedProviderRow = {
  provider: ProviderName;
  api_key_sealed: Uint8Array;
  base_url: string | null;
  model: string;
  embedding_model: string | null;
};

/** Inserts or replaces the tenant's `provider`; `created` says which (the row locked first, so concurrent sets agree). */
export async function upsertProvider(
  tx: Tx,
  p: {
    tenantId: string;
    provider: ProviderName;
    sealed: Uint8Array;
    last4: string;
    baseUrl: string | null;
    model: string;
    embeddingModel: string | null;
  },
): Promise<{ row: ProviderRow; created: boolean }> {
  const existing = await tx.query('SELECT 1 FROM ai_providers WHERE provider = $1 FOR UPDATE', [p.provider]);
  const { rows } = await tx.query<ProviderRow>(
    `INSERT INTO ai_providers (tenant_id, provider, api_key_sealed, api_key_last4, base_url, model, embedding_model)
     VALUES ($1, $2, $3, $4, $5, $6, $7)
     ON CONFLICT (tenant_id, provider) DO UPDATE SET api_key_sealed = EXCLUDED.api_key_sealed,
       api_key_last4 = EXCLUDED.api_key_last4, base_url = EXCLUDED.base_url, model = EXCLUDED.model,
       embedding_model = EXCLUDED.embedding_model, updated_at = now()
     RETURNING ${COLUMNS}`,
    [p.tenantId, p.provider, p.sealed, p.last4, p.baseUrl, p.model, p.embeddingModel],
  );
  return { row: rows[0]!, created: existing.rows.length === 0 };
}

export async function listProviderRows(tx: Tx): Promise<ProviderRow[]> {
  return (await tx.query<ProviderRow>(`SELECT ${COLUMNS} FROM ai_providers ORDER BY provider`)).rows;
}

/** Deletes the tenant's `provider`; what was removed, for the audit entry, or undefined. */
export async function deleteProvider(tx: Tx, provider: ProviderName): Promise<{ model: string; api_key_last4: string } | undefined> {
  const { rows } = await tx.query<{ model: string; api_key_last4: string }>(
    'DELETE FROM ai_providers WHERE provider = $1 RETURNING model, api_key_last4',
    [provider],
  );
  return rows[0];
}

/** The tenant's providers with their sealed keys, most recently configured first. */
export async function sealedProviders(tx: Tx, tenantId: string): Promise<SealedProviderRow[]> {
  return (
    await tx.query<SealedProviderRow>(
      'SELECT provider, api_key_sealed, base_url, model, embedding_model FROM ai_providers WHERE tenant_id = $1 ORDER BY updated_at DESC, provider',
      [tenantId],
    )
  ).rows;
}
