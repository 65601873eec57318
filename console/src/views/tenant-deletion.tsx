// The danger zone of the settings: an owner schedules the deletion of the whole workspace after typing its
// name, with a grace period in which any owner can cancel it here (the owners' emails say so). A tenant may
// require a second admin's approval to schedule it: the request then waits on the approval rail (useGated).
import type { AdminMe, TenantDeletionStatus } from '@parley/protocol';
import { TENANT_DELETION_GRACE_DAYS as GRACE } from '@parley/protocol/constants';
import { useRef, useState } from 'preact/hooks';
import type { Api } from '../api.js';
import { ProblemView, useAction, useLoad, When } from '../components.js';
import { GatedStatus, useGated } from '../gated.js';

export function TenantDeletion({ api, me }: { api: Api; me: AdminMe }) {
  const status = useLoad(() => api<TenantDeletionStatus>('GET', '/tenant/deletion'));
  const [graceDays, setGraceDays] = useState(String(GRACE.default));
  const [typed, setTyped] = useState('');
  const action = useAction();
  // Scheduling or cancelling replaces the control that was used: focus goes to the section's heading.
  const heading = useRef<HTMLHeadingElement>(null);
  const name = me.tenant.name;
  const s = status.data;
  const scheduling = useGated(api, () => {
    setTyped('');
    status.reload();
    heading.current?.focus();
  });
  const waiting = scheduling.gate.step === 'waiting' || scheduling.gate.step === 'approved';

  const schedule = (e: Event) => {
    e.preventDefault();
    void scheduling.send('POST', '/tenant/deletion', { graceDays: Number(graceDays) });
  };
  const cancel = () =>
    void action.run(async () => {
      await api('DELETE', '/tenant/deletion');
      status.reload();
      heading.current?.focus();
    });

  return (
    <section class="card danger-zone" aria-labelledby="delete-workspace-title">
      <h2 id="delete-workspace-title" tabIndex={-1} ref={heading}>
        Delete workspace
      </h2>
      <ProblemView problem={status.problem} />
      {!s && !status.problem ? <p class="muted">Loading…</p> : null}
      {s?.state === 'none' ? (
        <form onSubmit={schedule}>
          <p>
            Deletes every conversation, source, key and member of <strong dir="auto">{name}</strong> after a grace period. Until then any owner can
            cancel it here; every owner is emailed.
          </p>
          <label for="deletion-grace">
            Grace period in days ({GRACE.min}–{GRACE.max})
          </label>
          <input
            id="deletion-grace"
            class="days"
            type="number"
            min={GRACE.min}
            max={GRACE.max}
            step={1}
            required
            disabled={waiting}
            value={graceDays}
            onInput={(e) => setGraceDays(e.currentTarget.value)}
          />
          <label for="deletion-confirm">
            Type the workspace name, <strong dir="auto">{name}</strong>, to confirm
          </label>
          <input id="deletion-confirm" autocomplete="off" disabled={waiting} value={typed} onInput={(e) => setTyped(e.currentTarget.value)} />
          <button type="submit" class="danger" disabled={waiting || typed !== name} aria-disabled={scheduling.busy}>
            Schedule deletion
          </button>
          <GatedStatus gated={scheduling} />
          <ProblemView problem={scheduling.problem} />
        </form>
      ) : null}
      {s?.state === 'scheduled' ? (
        <>
          <p role="status">
            Deletion scheduled for <When iso={s.dueAt} /> (asked <When iso={s.requestedAt} />
            ).
          </p>
          <button type="button" onClick={cancel} aria-disabled={action.busy}>
            Cancel deletion
          </button>
        </>
      ) : null}
      {s?.state === 'erasing' ? <p role="status">The workspace is being deleted; it can no longer be cancelled.</p> : null}
      <ProblemView problem={action.problem} />
    </section>
  );
}
