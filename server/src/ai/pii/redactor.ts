// The tenant's redaction applied to conversations: inbound text is redacted before it is stored or
// sent anywhere, reversible values are sealed in the vault with the tenant's key, and only the
// visitor's own conversation restores them for the visitor. Placeholder numbering remembers values only
// by a fingerprint keyed with the conversation's token key, sealed with the tenant's data key in
// `conversations.redaction_key` and gone with the conversation. `inbound` writes (the vault, the
// numbering) as it redacts: callers give it only text they store, never a retried send's (turn.ts).
import { PLACEHOLDER } from '@parley/protocol/placeholder';
import type { Keyring } from '../../crypto/keyring.js';
import type { Tx } from '../../db/types.js';
import type { Redactor } from '../../conversations/turn.js';
import type { ConversationRow } from '../../conversations/service.js';
import { canonicalJson } from '../../audit/canonical.js';
import { loadRedactionState, newTokenKey, redact, restore, type PiiPolicy } from './index.js';
import { tenantSettings } from '../../tenants/settings.js';
import * as store from './store.js';

export const vaultContext = (conversationId: string, token: string) => `pii-vault/${conversationId}/${token}`;
export const tokenKeyContext = (conversationId: string) => `pii-tokens/${conversationId}`;

export const tenantPolicy = async (tx: Tx): Promise<PiiPolicy> => (await tenantSettings(tx)).pii as PiiPolicy;

/** Whether restoring `text` for the visitor (restoreForVisitor) asks the database: it has placeholders. */
export const restoresFromVault = (text: string): boolean => text.search(PLACEHOLDER) >= 0;

export class ConversationRedactor implements Redactor {
  constructor(private readonly keyring: Keyring) {}

  async inbound(tx: Tx, c: ConversationRow, text: string, channel: 'widget' | 'api' | 'email') {
    const policy = await tenantPolicy(tx);
    const key = await this.tokenKey(tx, c);
    const state = loadRedactionState(c.redaction_state);
    // Most messages name no one new: the row is written only when its state changes.
    const stored = canonicalJson(c.redaction_state ?? null);
    const out = redact(text, policy, channel, state, key);
    for (const v of out.vault) {
      const sealed = await this.keyring.seal(tx, c.tenant_id, v.value, vaultContext(c.id, v.token));
      await store.storeVaultEntry(tx, c.tenant_id, c.id, { token: v.token, class: v.class, sealed });
    }
    if (canonicalJson(out.state) !== stored) await store.storeRedactionState(tx, c.id, out.state);
    c.redaction_state = out.state as unknown as Record<string, unknown>;
    // Positions refer to the original text; classes and actions are what review needs, never values.
    const pii = out.matches.map((m) => ({ class: m.class, start: m.start, end: m.end, score: Number(m.score.toFixed(3)), action: m.action }));
    return { text: out.redacted, pii };
  }

  /**
   * The conversation's token key, created on first use. Random rather than derived from the data key, so
   * rotation only re-seals it (placeholders stay stable) and deleting the conversation destroys it.
   */
  private async tokenKey(tx: Tx, c: ConversationRow): Promise<Buffer> {
    const context = tokenKeyContext(c.id);
    let sealed = c.redaction_key;
    if (!sealed) {
      const fresh = await this.keyring.seal(tx, c.tenant_id, newTokenKey(), context);
      // A concurrent first message may have set one already: keep theirs.
      sealed = await store.claimRedactionKey(tx, c.id, fresh);
      c.redaction_key = sealed;
    }
    return this.keyring.open(tx, c.tenant_id, sealed, context);
  }

  async restoreForVisitor(tx: Tx, c: ConversationRow, text: string): Promise<string> {
    if (!restoresFromVault(text)) return text;
    const tokens = [...new Set(text.match(PLACEHOLDER))];
    const rows = await store.vaultEntries(tx, c.id, tokens);
    const vault = [];
    for (const r of rows)
      vault.push({ token: r.token, value: await this.keyring.openString(tx, c.tenant_id, r.sealed, vaultContext(c.id, r.token)) });
    return restore(text, vault);
  }
}
