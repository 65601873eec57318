// Redacted text as agents see it: each redaction token (e.g. [EMAIL_1]) marked, and a button to reveal
// it (break-glass: a reason, a capability and an audit entry every time) when the agent may.
import { PLACEHOLDER } from '@parley/protocol/placeholder';
import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import type { Api } from '../api.js';
import { ProblemView, useAction } from '../components.js';

/** Message text with redaction tokens such as [EMAIL_1] marked, each a button to reveal it. */
export function RedactedText({ text, onToken }: { text: string; onToken?: (token: string) => void }) {
  const out: ComponentChildren[] = [];
  let at = 0;
  for (const m of text.matchAll(PLACEHOLDER)) {
    if (m.index > at) out.push(text.slice(at, m.index));
    out.push(
      onToken ? (
        <button type="button" class="token" key={m.index} onClick={() => onToken(m[0])} aria-label={`Redacted ${m[0]}: reveal`}>
          {m[0]}
        </button>
      ) : (
        <span class="token" key={m.index}>
          {m[0]}
        </span>
      ),
    );
    at = m.index + m[0].length;
  }
  if (at < text.length) out.push(text.slice(at));
  return <>{out}</>;
}

export function Reveal({ api, conversationId, token, onClose }: { api: Api; conversationId: string; token: string; onClose: () => void }) {
  const [reason, setReason] = useState('');
  const [value, setValue] = useState<string | null>(null);
  const { problem, busy, run } = useAction();
  const submit = (e: Event) => {
    e.preventDefault();
    void run(async () => {
      const out = await api<{ value: string }>('POST', `/conversations/${conversationId}/reveal`, { token, reason });
      setValue(out.value);
    });
  };
  return (
    <section class="card" aria-labelledby="reveal-title">
      <h3 id="reveal-title">Reveal {token}</h3>
      {value === null ? (
        <form onSubmit={submit}>
          <label for="reveal-reason">Why do you need the original value? (recorded in the audit log)</label>
          <textarea id="reveal-reason" required minLength={10} maxLength={500} value={reason} onInput={(e) => setReason(e.currentTarget.value)} />
          <div class="row">
            <button type="submit" disabled={busy || reason.trim().length < 10}>
              Reveal
            </button>
            <button type="button" class="secondary" onClick={onClose}>
              Cancel
            </button>
          </div>
        </form>
      ) : (
        <div>
          <p>
            <code class="revealed">{value}</code>
          </p>
          <button type="button" class="secondary" onClick={onClose}>
            Hide
          </button>
        </div>
      )}
      <ProblemView problem={problem} />
    </section>
  );
}
