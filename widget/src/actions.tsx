// Actions on the approval rail, as the visitor sees them: the assistant's offer (its inputs, then
// Confirm or Not now), and a proposal's state until its outcome. The endpoint's summary is the
// tenant's untrusted text: it is shown as text, never as markup. A part loaded when a conversation
// first has an offer or a proposal (lazy.ts).
import type { ActionOffer, WidgetProposal } from '@parley/browser';
import { useState } from 'preact/hooks';
import { CARD } from './card.js';
import type { Strings } from './i18n.js';
import { stage } from './stage.js';

export const en = {
  confirm: 'Confirm',
  notNow: 'Not now',
  waiting: 'Waiting for a person to confirm…',
  done: 'Done.',
  declined: 'Declined: nothing was done.',
  expired: 'Expired: nobody confirmed it in time, so nothing was done.',
  failed: 'It could not be done. A member of our team can help.',
};

export const css = [
  CARD,
  `\
form.act{display:block}.act input{display:block;width:100%;margin-top:2px}.act input[type=checkbox]{width:auto}\
.act .alt{background:none;color:var(--fg);border:1px solid var(--line)}.act .who{margin:0}.sum{margin:4px 0 0;white-space:pre-wrap;font-size:13px;color:var(--muted)}\
`,
];

type Args = Record<string, string | number | boolean>;

export function Offer({
  offer,
  t,
  confirm,
  dismiss,
}: {
  offer: ActionOffer;
  t: Strings;
  confirm: (args: Args) => Promise<void>;
  dismiss: () => void;
}) {
  const [busy, setBusy] = useState(false);
  const submit = (e: Event) => {
    e.preventDefault();
    if (busy) return;
    const args: Args = {};
    // Empty optional inputs are left out; numbers and booleans keep their JSON type.
    for (const el of (e.currentTarget as HTMLFormElement).querySelectorAll('input')) {
      const v = el.type === 'checkbox' ? el.checked : el.type === 'number' ? el.valueAsNumber : el.value;
      if (v !== '' && !Number.isNaN(v)) args[el.name] = v;
    }
    setBusy(true);
    confirm(args).catch(() => setBusy(false));
  };
  return (
    <form class="card act" onSubmit={submit}>
      <p dir="auto">{offer.description}</p>
      {offer.fields.map((f) => (
        <label key={f.name}>
          <span dir="auto">{f.description ?? f.name}</span>
          <input
            name={f.name}
            dir="auto"
            type={f.type === 'boolean' ? 'checkbox' : f.type === 'number' || f.type === 'integer' ? 'number' : 'text'}
            step={f.type === 'number' ? 'any' : undefined}
            required={f.required && f.type !== 'boolean'}
          />
        </label>
      ))}
      <div class="row">
        <button type="submit" disabled={busy}>
          {t.confirm}
        </button>
        <button type="button" class="alt" onClick={dismiss}>
          {t.notNow}
        </button>
      </div>
    </form>
  );
}

export function Proposal({ p, t }: { p: WidgetProposal; t: Strings }) {
  const s = p.status;
  return (
    <div class={`card act ${s}`} role="status">
      <span class="who">
        <bdi>{p.action.name}</bdi>
      </span>
      {stage(p) < 3 ? t.waiting : s === 'executed' ? t.done : s === 'rejected' ? t.declined : s === 'expired' ? t.expired : t.failed}
      {s === 'executed' && p.result?.summary && (
        <p class="sum" dir="auto">
          {p.result.summary}
        </p>
      )}
    </div>
  );
}
