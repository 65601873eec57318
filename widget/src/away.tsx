// Outside business hours: when the team will reply, in the visitor's own language and time zone, and a
// field to leave an email for that reply. A part loaded when a handoff first comes outside business
// hours (lazy.ts).
import { MAX_EMAIL_CHARS } from '@parley/protocol/constants';
import { useState } from 'preact/hooks';
import { CARD } from './card.js';
import { fillNodes, type Strings } from './i18n.js';

export const en = {
  away: "We're away right now.",
  back: "We'll reply from {when}.",
  emailAsk: "Leave your email and we'll reply there.",
  email: 'Email',
  emailSent: "Thanks! We'll reply to {email}.",
};

export const css = [CARD];

/** The next opening as the visitor reads dates: their locale (a malformed tag falls back to its
 * language), their time zone (the browser's). */
export function when(iso: string, tag: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  const format = (l: string) =>
    new Intl.DateTimeFormat(l, { weekday: 'long', day: 'numeric', month: 'long', hour: 'numeric', minute: '2-digit' }).format(d);
  try {
    return format(tag);
  } catch {
    return format(tag.split('-')[0]!);
  }
}

type State = { kind: 'idle' | 'sending' | 'failed' } | { kind: 'done'; email: string };

/** `left`: an email was left before (a replayed conversation): the notice only, the field is not offered again. */
export function Away({
  t,
  tag,
  nextOpenAt,
  left,
  leave,
}: {
  t: Strings;
  tag: string;
  nextOpenAt?: string | null | undefined;
  left?: boolean;
  leave: (email: string) => Promise<void>;
}) {
  const [email, setEmail] = useState('');
  const [state, setState] = useState<State>({ kind: 'idle' });
  const at = nextOpenAt ? when(nextOpenAt, tag) : '';
  const submit = (e: Event) => {
    e.preventDefault();
    const value = email.trim();
    if (!value || state.kind === 'sending') return;
    setState({ kind: 'sending' });
    leave(value).then(
      () => setState({ kind: 'done', email: value }),
      () => setState({ kind: 'failed' }),
    );
  };
  return (
    <div class="card">
      <p>
        {t.away}
        {at && <> {fillNodes(t.back, { when: at })}</>}
      </p>
      {left && state.kind !== 'done' ? null : state.kind === 'done' ? (
        <p role="status">{fillNodes(t.emailSent, { email: <bdi>{state.email}</bdi> })}</p>
      ) : (
        <form onSubmit={submit}>
          <label for="parley-email">{t.emailAsk}</label>
          <div class="row">
            <input
              id="parley-email"
              type="email"
              required
              autocomplete="email"
              maxLength={MAX_EMAIL_CHARS}
              value={email}
              onInput={(e) => setEmail((e.target as HTMLInputElement).value)}
              placeholder={t.email}
            />
            <button type="submit" disabled={state.kind === 'sending'}>
              {t.send}
            </button>
          </div>
          {state.kind === 'failed' && <p role="alert">{t.error}</p>}
        </form>
      )}
    </div>
  );
}
