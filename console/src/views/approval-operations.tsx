// Which admin operations wait for a second owner's or admin's approval (settings `approvals.operations`).
// Saved on its own, so a change held for approval holds nothing else: marking an operation runs at once,
// while taking one off the list needs that approval too when the list itself is marked (approvals.relax),
// and then waits on the approval rail (useGated) like any gated request.
import type { AdminOperation } from '@parley/protocol';
import { ADMIN_OPERATION_LABELS } from '@parley/protocol/constants';
import { useEffect, useState } from 'preact/hooks';
import type { Api } from '../api.js';
import { ProblemView } from '../components.js';
import { GatedStatus, useGated } from '../gated.js';

/** Every operation, in the order the console lists them (its labels cover each one: the type says so). */
const OPERATIONS = Object.keys(ADMIN_OPERATION_LABELS) as AdminOperation[];
/** What the list's own operation means here, where the heading already says "Require approval for". */
const HERE: Partial<Record<AdminOperation, string>> = { 'approvals.relax': 'Taking operations off this list' };

export function ApprovalOperations({ api, current, canEdit }: { api: Api; current: readonly AdminOperation[] | undefined; canEdit: boolean }) {
  const [marked, setMarked] = useState<Set<AdminOperation>>(new Set());
  const [saved, setSaved] = useState(false);
  useEffect(() => setMarked(new Set(current ?? [])), [current]);
  const saving = useGated(api, () => setSaved(true));
  // Nothing is offered before the list has loaded: a choice made then would be overwritten by it.
  const editable = canEdit && !!current && saving.gate.step !== 'waiting' && saving.gate.step !== 'approved';

  const toggle = (op: AdminOperation, on: boolean) => {
    setSaved(false);
    const next = new Set(marked);
    if (on) next.add(op);
    else next.delete(op);
    setMarked(next);
  };
  const submit = (e: Event) => {
    e.preventDefault();
    setSaved(false);
    // In one order, so the same choice is always the same request.
    void saving.send('PATCH', '/settings', { approvals: { operations: OPERATIONS.filter((op) => marked.has(op)) } });
  };

  return (
    <section class="card" aria-labelledby="approval-operations-title">
      <h2 id="approval-operations-title">Require approval for</h2>
      <p>
        A marked operation waits until an owner or admin other than the person who asked approves it on the Approvals page; that person then finishes
        it. <a href="/docs/actions.html#admin-operations">Admin operations guide</a>
      </p>
      <form onSubmit={submit}>
        <fieldset disabled={!editable}>
          <legend class="sr-only">Operations that need another admin’s approval</legend>
          {OPERATIONS.map((op) => (
            <label class="check" key={op}>
              <input
                type="checkbox"
                name="approval-operation"
                value={op}
                checked={marked.has(op)}
                onChange={(e) => toggle(op, e.currentTarget.checked)}
              />{' '}
              {HERE[op] ?? ADMIN_OPERATION_LABELS[op]}
            </label>
          ))}
        </fieldset>
        {canEdit ? (
          <button type="submit" disabled={!editable} aria-disabled={saving.busy}>
            Save approvals
          </button>
        ) : (
          <p class="muted">Only owners and admins can change which operations need approval.</p>
        )}
        <span class="muted" aria-live="polite">
          {saved ? ' Saved.' : ''}
        </span>
        <GatedStatus gated={saving} />
        <ProblemView problem={saving.problem} />
      </form>
    </section>
  );
}
