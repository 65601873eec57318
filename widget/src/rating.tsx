// The "resolved" notice with an optional rating (when offered): a score of 1 to 5, then an optional
// comment, sent once. A part loaded when a conversation is first resolved (lazy.ts).
import { MAX_CSAT_COMMENT_CHARS } from '@parley/protocol/constants';
import { useEffect, useRef, useState } from 'preact/hooks';
import { CARD } from './card.js';
import { fill, type Strings } from './i18n.js';

export const en = {
  resolved: 'This conversation has been resolved.',
  rate: 'How did we do?',
  stars: '{n} out of 5',
  comment: 'Anything to add? (optional)',
  rated: 'Thank you for your feedback!',
};

export const css = [
  CARD,
  '.stars{display:flex;gap:2px}.stars button{background:none;color:var(--muted);font-size:24px;line-height:1;padding:2px 4px}.stars .on{color:#b36b00}',
];

type State = 'idle' | 'sending' | 'done' | 'failed';

export function Rating({ t, rate }: { t: Strings; rate: ((score: number, comment?: string) => Promise<void>) | null }) {
  const [score, setScore] = useState(0);
  const [comment, setComment] = useState('');
  const [state, setState] = useState<State>('idle');
  // The whole card in view when it comes, and again when a score brings the comment and Send below it.
  const card = useRef<HTMLDivElement>(null);
  useEffect(() => card.current!.scrollIntoView?.({ block: 'nearest' }), [!score]);
  const submit = (e: Event) => {
    e.preventDefault();
    if (!rate || !score || state === 'sending') return;
    setState('sending');
    rate(score, comment.trim() || undefined).then(
      () => setState('done'),
      () => setState('failed'),
    );
  };
  return (
    <div class="card" ref={card}>
      <p>{t.resolved}</p>
      {!rate ? null : state === 'done' ? (
        <p role="status">{t.rated}</p>
      ) : (
        <form onSubmit={submit}>
          <p id="parley-rate">{t.rate}</p>
          <div class="stars" role="group" aria-labelledby="parley-rate">
            {[1, 2, 3, 4, 5].map((n) => (
              <button
                key={n}
                type="button"
                aria-label={fill(t.stars, { n })}
                aria-pressed={n === score}
                class={n <= score ? 'on' : ''}
                onClick={() => setScore(n)}
              >
                {n <= score ? '★' : '☆'}
              </button>
            ))}
          </div>
          {score > 0 && (
            <>
              <textarea
                dir={comment ? 'auto' : undefined}
                rows={2}
                maxLength={MAX_CSAT_COMMENT_CHARS}
                aria-label={t.comment}
                placeholder={t.comment}
                value={comment}
                onInput={(e) => setComment((e.target as HTMLTextAreaElement).value)}
              />
              {state === 'failed' && <p role="alert">{t.error}</p>}
              <button type="submit" disabled={state === 'sending'}>
                {t.send}
              </button>
            </>
          )}
        </form>
      )}
    </div>
  );
}
