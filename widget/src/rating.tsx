// The "resolved" notice with an optional rating (when offered): a score of 1 to 5, then an optional
// comment, sent once.
import { MAX_CSAT_COMMENT_CHARS } from '@parley/protocol/constants';
import { useEffect, useRef, useState } from 'preact/hooks';
import { fill, type Strings } from './i18n.js';

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
