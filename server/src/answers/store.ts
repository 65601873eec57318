// SQL of the API channel.
import type { ConversationRow } from '../conversations/service.js';
import type { Tx } from '../db/types.js';

/** An API-channel conversation of the tenant, locked for the turn's decision; null for any other. */
export async function lockApiConversation(tx: Tx, id: string): Promise<ConversationRow | null> {
  const { rows } = await tx.query<ConversationRow>("SELECT * FROM conversations WHERE id = $1 AND channel = 'api' FOR UPDATE", [id]);
  return rows[0] ?? null;
}

/** Whether the tenant has configured any AI provider. */
export async function hasProvider(tx: Tx): Promise<boolean> {
  const { rows } = await tx.query('SELECT 1 FROM ai_providers LIMIT 1');
  return rows.length > 0;
}
