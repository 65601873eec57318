// Conversation events across instances (DESIGN "Many instances"): the statement that stores an event
// also calls pg_notify, so the notification leaves with the commit and never for a rollback. It carries
// ids only (tenant, conversation or empty, event id), never text: a room woken by it reads the event from
// the table like any other wake-up. Each instance on PostgreSQL keeps one LISTEN connection outside the
// pool (db/notices.ts) and passes what it hears to its own bus. Notifications sent while that connection
// was down are lost, so every (re)connection wakes all local rooms to catch up from the table. The
// embedded database serves one process: there the bus is fed by the routes alone and nobody listens.
import type { NoticeChannel } from '../db/notices.js';
import type { ConversationBus } from './bus.js';

export const EVENTS_CHANNEL = 'parley_conversation_events';

/**
 * The select list entry that notifies for the row `e` of a CTE inserting into conversation_events
 * (`WITH e AS (INSERT … RETURNING id, tenant_id, conversation_id) SELECT …, ${notifyEvent} FROM e`).
 */
export const notifyEvent = `pg_notify('${EVENTS_CHANNEL}', e.tenant_id || ':' || coalesce(e.conversation_id::text, '') || ':' || e.id) AS notified`;

/** Reads a notification's payload; null for anything malformed. */
export function parseEventNotice(payload: string | undefined): { tenantId: string; conversationId: string | null; id: number } | null {
  const [tenantId, conversationId, id] = (payload ?? '').split(':');
  const n = Number(id);
  if (!tenantId || conversationId === undefined || !Number.isSafeInteger(n) || n <= 0) return null;
  return { tenantId, conversationId: conversationId || null, id: n };
}

/** The events channel, heard into `bus`: each notice wakes its room; a (re)connection wakes every room. */
export function conversationEvents(bus: ConversationBus): NoticeChannel {
  return {
    channel: EVENTS_CHANNEL,
    heard(payload) {
      const e = parseEventNotice(payload);
      if (e) bus.publish(e);
    },
    listening(on) {
      // Whatever was committed while nobody listened is in the table: every room reads it now.
      if (on) bus.wakeAll();
    },
  };
}
