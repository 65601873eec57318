// "Did you mean" offers: a visitor's pick is answered with its passage only when the assistant offered
// that passage in the same conversation, so a pick is not a way to read chunks by id.
import type { Tx } from '../db/types.js';
import type { Passage } from './extractive.js';

/** The offered passage `chunkId` of `conversationId`, or null when it was not offered there (or is gone). */
export async function offeredPassage(tx: Tx, conversationId: string, chunkId: string): Promise<Passage | null> {
  const { rows } = await tx.query<{ id: string; title: string; url: string | null; text: string }>(
    `SELECT c.id, c.title, coalesce(c.anchor_url, src.url) AS url, c.text
       FROM knowledge_chunks c JOIN knowledge_sources src ON src.id = c.source_id
      WHERE c.id::text = $2
        AND EXISTS (SELECT 1 FROM messages m
                     WHERE m.conversation_id = $1 AND m.role = 'assistant'
                       AND m.citations @> jsonb_build_array(jsonb_build_object('chunkId', $2::text, 'suggested', true)))`,
    [conversationId, chunkId],
  );
  const r = rows[0];
  return r ? { chunkId: r.id, title: r.title, url: r.url, text: r.text, score: 1 } : null;
}
