// Words for the inbox: why a conversation was handed over, who the visitor is, how long they have waited.
import type { InboxRow } from './types.js';

const REASONS: Readonly<Record<string, string>> = {
  visitor_request: 'Asked for a person',
  low_confidence: 'The assistant was not sure of the answer',
  sensitive_topic: 'Sensitive topic',
  budget: 'AI budget reached',
  provider_error: 'The AI provider failed',
  identity_required: 'Needs a signed-in visitor',
  agent: 'Started by an agent',
};

/** Why a conversation reached a person, in words; an unknown code is shown readably rather than hidden. */
export const reasonText = (reason: string | null | undefined): string =>
  !reason ? 'Handed to a person' : (REASONS[reason] ?? reason.replace(/_/g, ' ').replace(/^./, (c) => c.toUpperCase()));

/** The visitor as agents see them: their verified name, or the pseudonymous reference. */
export const visitorName = (v: InboxRow['visitor']): string => (v.verified && v.name ? v.name : v.ref);

/** "just now", "4 min", "2 h 5 min", "3 d": how long ago, short enough for a row. */
export function waited(iso: string | null | undefined, now: number): string {
  if (!iso) return '';
  const s = Math.max(0, Math.floor((now - Date.parse(iso)) / 1000));
  if (s < 60) return 'just now';
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min`;
  const h = Math.floor(m / 60);
  if (h < 24) return m % 60 ? `${h} h ${m % 60} min` : `${h} h`;
  return `${Math.floor(h / 24)} d`;
}
