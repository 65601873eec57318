// A retried send (the same clientMessageId) is the message stored before, whatever text the retry
// carries: found before anything of the retry is redacted, so none of its personal data is sealed in the
// conversation's vault, its placeholder numbering does not move, and nothing is written (attack).
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { CreatedTenant } from '../tenants/service.js';
import { startTestApp, type TestApp } from '../test/app.js';
import { call } from '../test/http.js';
import { Visitor } from '../test/widget.js';

let t: TestApp;
let acme: CreatedTenant;
const ORIGIN = 'https://help.acme.example';

beforeAll(async () => {
  t = await startTestApp();
  acme = await t.tenant('Acme', ['help.acme.example']);
});
afterAll(() => t.close());

const admin = (method: string, path: string, body?: unknown) => call(t.url, method, `/v1/admin${path}`, { key: acme.secretKey, body });

/** What the conversation holds that a retry could change: its vault, its redaction columns, its messages. */
const written = (conversationId: string) =>
  t.runtime.db.withTenant(acme.tenant.id, { requestId: null }, async (tx) => ({
    vault: (await tx.query<{ token: string }>('SELECT token FROM pii_vault WHERE conversation_id = $1 ORDER BY token', [conversationId])).rows.map(
      (r) => r.token,
    ),
    conversation: (
      await tx.query<{ redaction_state: unknown; redaction_key: Uint8Array | null; last_seq: number }>(
        'SELECT redaction_state, redaction_key, last_seq FROM conversations WHERE id = $1',
        [conversationId],
      )
    ).rows[0],
    messages: (
      await tx.query<{ seq: number; role: string; text: string; pii: unknown }>(
        'SELECT seq, role, text, pii FROM messages WHERE conversation_id = $1 ORDER BY seq',
        [conversationId],
      )
    ).rows,
  }));

describe('a retried send with other text', () => {
  test('is the stored message; nothing of the retry is redacted, sealed or stored, and the next real value is [EMAIL_1]', async () => {
    const v = new Visitor(t.url, acme.publishableKey, ORIGIN);
    expect((await v.start()).status).toBe(200);
    const id = (await v.call('POST', '/conversations', {})).body.conversation.id as string;
    const send = (text: string, clientMessageId: string) => v.call('POST', `/conversations/${id}/messages`, { text, clientMessageId });

    const first = await send('Hello, where is my parcel?', 'x-1');
    expect(first.status).toBe(200);
    const original = first.body.events[0].message;
    expect(original).toMatchObject({ role: 'visitor', text: 'Hello, where is my parcel?' });
    const before = await written(id);

    // The retry carries personal data the first send did not: the stored message comes back, as it was.
    const retry = await send('my email is bob.secret@example.com', 'x-1');
    expect(retry.status).toBe(200);
    expect(retry.body.events.map((e: { type: string }) => e.type)).toEqual(['message']);
    expect(retry.body.events[0].message).toEqual(original);
    expect(retry.text).not.toContain('bob.secret');
    // Nothing was written: no vault entry, no redaction state or token key, no message.
    expect(await written(id)).toEqual(before);
    expect(before.vault).toEqual([]);
    // Staff have nothing to reveal.
    expect((await admin('POST', `/conversations/${id}/reveal`, { token: '[EMAIL_1]', reason: 'customer asked for a callback' })).status).toBe(404);

    // The next real email is the conversation's first.
    const real = await send('Write to me at alice.real@example.com please', 'x-2');
    expect(real.status).toBe(200);
    const after = await written(id);
    expect(after.vault).toEqual(['[EMAIL_1]']);
    expect(after.messages.find((m) => m.role === 'visitor' && m.seq > 1)?.text).toBe('Write to me at [EMAIL_1] please');
    const revealed = await admin('POST', `/conversations/${id}/reveal`, { token: '[EMAIL_1]', reason: 'customer asked for a callback' });
    expect(revealed.body).toEqual({ token: '[EMAIL_1]', value: 'alice.real@example.com' });
  });
});
