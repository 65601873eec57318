// Redacted text as agents see it: each redaction token (e.g. [EMAIL_1]) marked, and a button to reveal
// it (break-glass: a reason, a capability and an audit entry every time) when the agent may.
import { PLACEHOLDER } from '@parley/protocol/placeholder';
import type { ComponentChildren } from 'preact';
import { useId, useState } from 'preact/hooks';
import type { Api } from '../api.js';
import { ProblemView, useAction } from '../components.js';

/**
 * Message text with redaction tokens such as [EMAIL_1] marked, each a button to reveal it. A token is
 * isolated left-to-right, so its brackets stay with it in right-to-left text.
 */
export function RedactedText({ text, onToken }: { text: string; onToken?: (token: string) => void }) {
  const out: ComponentChildren[] = [];
  let at = 0;
  for (const m of text.matchAll(PLACEHOLDER)) {
    if (m.index > at) out.push(text.slice(at, m.index));
    out.push(
      onToken ? (
        <button type="button" class="token" dir="ltr" key={m.index} onClick={() => onToken(m[0])} aria-label={`Redacted ${m[0]}: reveal`}>
          {m[0]}
        </button>
      ) : (
        <span class="token" dir="ltr" key={m.index}>
          {m[0]}
        </span>
      ),
    );
    at = m.index + m[0].length;
  }
  if (at < text.length) out.push(text.slice(at));
  return <>{out}</>;
}

/**
 * Break-glass: asks why a person needs withheld values, then shows what `reveal` returns. The server
 * audits every reveal with the reason.
 */
export function RevealForm({
  title,
  onReveal,
  onClose,
}: {
  title: string;
  onReveal: (reason: string) => Promise<ComponentChildren>;
  onClose: () => void;
}) {
  const id = useId();
  const [reason, setReason] = useState('');
  const [shown, setShown] = useState<ComponentChildren | null>(null);
  const { problem, busy, run } = useAction();
  const submit = (e: Event) => {
    e.preventDefault();
    void run(async () => setShown(await onReveal(reason)));
  };
  return (
    <section class="card reveal" aria-labelledby={`${id}-title`}>
      <h3 id={`${id}-title`}>{title}</h3>
      {shown === null ? (
        <form onSubmit={submit}>
          <label for={`${id}-reason`}>Why do you need it? (recorded in the audit log)</label>
          <textarea id={`${id}-reason`} required minLength={10} maxLength={500} value={reason} onInput={(e) => setReason(e.currentTarget.value)} />
          <div class="row">
            <button type="submit" disabled={reason.trim().length < 10} aria-disabled={busy}>
              Reveal
            </button>
            <button type="button" class="secondary" onClick={onClose}>
              Cancel
            </button>
          </div>
        </form>
      ) : (
        <div>
          {shown}
          <button type="button" class="secondary" onClick={onClose}>
            Hide
          </button>
        </div>
      )}
      <ProblemView problem={problem} />
    </section>
  );
}

/** The original value behind one redaction token of a conversation. */
export function Reveal({ api, conversationId, token, onClose }: { api: Api; conversationId: string; token: string; onClose: () => void }) {
  return (
    <RevealForm
      title={`Reveal ${token}`}
      onClose={onClose}
      onReveal={async (reason) => {
        const out = await api<{ value: string }>('POST', `/conversations/${conversationId}/reveal`, { token, reason });
        return (
          <p>
            <code class="revealed">{out.value}</code>
          </p>
        );
      }}
    />
  );
}
