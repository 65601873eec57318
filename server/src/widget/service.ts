// Rules of the widget API that need the database: the settings a page's widget starts with, and who
// may start a conversation (a verified visitor only, when the site requires Sign-In Pro).
import { retireVisitor, visitorExists, visitorGone } from './visitors.js';
import { normaliseOrigin, type RefusalLog } from '../audit/refusals.js';
import type { Tx } from '../db/types.js';
import { DomainError } from '../errors.js';
import { createConversation, type ConversationRow } from '../conversations/service.js';
import { identityMode } from '../identity/store.js';
import { readSubscriptions } from '../webhooks/outbox.js';
import { tenantProfile } from '../tenants/settings.js';

/** The widget's settings of the tenant set on `tx`, as a page's widget starts with them. */
export async function widgetSettings(tx: Tx) {
  const { name, settings } = await tenantProfile(tx);
  return { tenantName: name, ...settings.widget, identityMode: await identityMode(tx) };
}

/** A visitor's new conversation; refused to an unverified visitor when the site requires Sign-In Pro. */
export async function startConversation(
  tx: Tx,
  input: { tenantId: string; visitorId: string; origin: string; subject: string | null },
): Promise<ConversationRow> {
  // Asked together (one message with BEGIN, db/postgres.ts): the conversation is then stored with COMMIT
  // unless a webhook endpoint wants to hear of it.
  const [mode, exists] = await Promise.all([identityMode(tx), visitorExists(tx, input.visitorId), readSubscriptions(tx, input.tenantId)]);
  // An erased visitor's access token lives on for minutes: it starts nothing new about them.
  if (!exists) throw visitorGone();
  if (mode === 'required' && !input.subject) {
    throw new DomainError('identity_required', 'This site requires you to be signed in to chat.');
  }
  return createConversation(tx, { ...input, last: true });
}

/**
 * A refresh token presented after it was spent was copied, and with it the browser storage that keeps the
 * visitor secret beside it. Its family is revoked already (tokens.redeem); the visitor is retired too
 * (its secret resumes nothing, its other families are revoked), so the copy cannot come back through
 * POST /session. The real visitor starts afresh as well. Audited through the refusal log.
 */
export async function refreshReused(
  tx: Tx,
  refusals: RefusalLog,
  r: { tenantId: string; requestId: string; origin: string; visitorRef: string },
): Promise<void> {
  await retireVisitor(tx, r.visitorRef);
  await refusals.record(tx, {
    tenantId: r.tenantId,
    requestId: r.requestId,
    action: 'widget.refresh_reuse',
    subject: { field: 'origin', value: normaliseOrigin(r.origin) },
  });
}
