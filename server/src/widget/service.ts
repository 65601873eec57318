// Rules of the widget API that need the database: the settings a page's widget starts with, and who
// may start a conversation (a verified visitor only, when the site requires Sign-In Pro).
import type { Tx } from '../db/types.js';
import { DomainError } from '../errors.js';
import { createConversation, type ConversationRow } from '../conversations/service.js';
import { identityMode } from '../identity/store.js';

interface WidgetSettings {
  greeting?: string;
  launcherText?: string;
  locale?: string;
  theme?: 'light' | 'dark' | 'auto';
  accentColor?: string;
  position?: 'bottom-right' | 'bottom-left';
}

/** The widget's settings of the tenant set on `tx`, with their defaults. */
export async function widgetSettings(tx: Tx) {
  const t = (await tx.query<{ name: string; settings: { widget?: WidgetSettings } }>('SELECT name, settings FROM tenants')).rows[0]!;
  const ws = t.settings.widget ?? {};
  return {
    tenantName: t.name,
    // Unset texts stay unset: the widget says them in the visitor's language.
    ...(ws.greeting ? { greeting: ws.greeting } : {}),
    ...(ws.launcherText ? { launcherText: ws.launcherText } : {}),
    locale: ws.locale ?? 'auto',
    theme: ws.theme ?? 'auto',
    accentColor: ws.accentColor ?? '#2f6feb',
    position: ws.position ?? 'bottom-right',
    identityMode: await identityMode(tx),
  };
}

/** A visitor's new conversation; refused to an unverified visitor when the site requires Sign-In Pro. */
export async function startConversation(
  tx: Tx,
  input: { tenantId: string; visitorId: string; origin: string; subject: string | null },
): Promise<ConversationRow> {
  if ((await identityMode(tx)) === 'required' && !input.subject) {
    throw new DomainError('identity_required', 'This site requires you to be signed in to chat.');
  }
  return createConversation(tx, input);
}
