// Actions on the approval rail, as the visitor sees them: the assistant's offer (its inputs, then
// Confirm or Not now), and a proposal's state until its outcome. The endpoint's summary is the
// tenant's untrusted text: it is shown as text, never as markup.
import type { ActionOffer, WidgetProposal } from '@parley/browser';
import { useState } from 'preact/hooks';
import type { Strings } from './i18n.js';

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

const OPEN = ['pending', 'approved', 'executing'];
/** How far along a proposal is: a late answer never takes a newer status back. */
export const stage = (p: WidgetProposal) => (OPEN.includes(p.status) ? OPEN.indexOf(p.status) : 3);

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
