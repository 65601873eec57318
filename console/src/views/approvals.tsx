// Approvals: the calls the assistant proposed, shown exactly as they will be sent, and the admin operations
// the tenant gates behind a second admin's approval (`kind: 'admin'`: no action, an operation, its
// arguments), for a person to approve or reject (approvals:decide). Pending ones refresh on the inbox
// stream's `action` events (every conversation's, for whoever decides) and by polling, which also catches
// admin operations (they have no conversation). The server enforces every rule; the view mirrors it.
import type { AdminMe, Proposal, ProposalStatus } from '@parley/protocol';
import { useEffect, useState } from 'preact/hooks';
import type { Api } from '../api.js';
import { ProblemView, useAction, useLoad, When } from '../components.js';
import { useLive } from '../inbox/context.js';
import { proposalTitle } from '../proposals.js';

const POLL_MS = 15_000;
const HISTORY: { value: ProposalStatus | ''; label: string }[] = [
  { value: '', label: 'everything' },
  { value: 'executed', label: 'executed' },
  { value: 'failed', label: 'failed' },
  { value: 'rejected', label: 'rejected' },
  { value: 'expired', label: 'expired' },
  { value: 'approved', label: 'approved, not yet run' },
];

const who = (p: { kind: string; id: string }) =>
  p.kind === 'visitor' ? `a visitor (${p.id})` : p.kind === 'member' ? `member ${p.id}` : `API key ${p.id}`;

/** An admin operation's proposal (the requester is an admin; no action, an operation). */
const isAdmin = (p: Proposal) => p.kind === 'admin' || !p.action;

/**
 * Approvals a pending proposal still needs: an admin operation another admin's; a sensitive action an
 * admin's, or two people's.
 */
export function stillNeeds(p: Proposal): string | null {
  // An approval whose decider can no longer decide (removed, disabled, demoted, key revoked) counts for nothing.
  const yes = p.decisions.filter((d) => d.decision === 'approve' && d.counts).length;
  if (isAdmin(p)) return yes ? null : 'Needs another admin’s approval.';
  if (p.action?.risk !== 'sensitive') return yes ? null : 'Needs one approval.';
  const left = Math.max(0, 2 - yes);
  return left === 1 ? 'Sensitive: needs one more approval (or an admin’s).' : 'Sensitive: needs two approvals, or one from an admin.';
}

function Call({ p }: { p: Proposal }) {
  const admin = isAdmin(p);
  const check = p.status === 'pending' ? ': check them before approving.' : '.';
  return (
    <dl class="call">
      <dt>Arguments</dt>
      <dd>
        <p class="muted">{admin ? `Exactly what the operation runs with${check}` : `Filled from untrusted text (the conversation)${check}`}</p>
        <pre class="wrap" dir="ltr">
          {JSON.stringify(p.arguments, null, 2)}
        </pre>
      </dd>
      {admin ? null : (
        <>
          <dt>Verified subject</dt>
          <dd>{p.subject ? <code dir="ltr">{p.subject}</code> : <span class="muted">none</span>}</dd>
        </>
      )}
      <dt>Asked by</dt>
      <dd>{who(p.requestedBy)}</dd>
      <dt>Reason given</dt>
      <dd>{p.reason ? <span class="wrap">{p.reason}</span> : <span class="muted">none</span>}</dd>
      {admin ? null : (
        <>
          <dt>Conversation</dt>
          <dd>{p.conversationId ? <ConversationLink id={p.conversationId} /> : <span class="muted">none</span>}</dd>
        </>
      )}
      <dt>Asked</dt>
      <dd>
        <When iso={p.createdAt} />
      </dd>
      <dt>Expires</dt>
      <dd>
        <When iso={p.expiresAt} />
      </dd>
    </dl>
  );
}

/** An action by its name and risk; an admin operation by its label, with the operation's own name. */
function Title({ p }: { p: Proposal }) {
  if (p.action)
    return (
      <>
        <code dir="ltr">{p.action.name}</code> <span class={`badge risk-${p.action.risk}`}>{p.action.risk}</span>
      </>
    );
  return (
    <>
      {proposalTitle(p)} <span class="badge">admin</span>
      {p.operation ? (
        <>
          {' '}
          <code dir="ltr" class="operation">
            {p.operation}
          </code>
        </>
      ) : null}
    </>
  );
}

function ConversationLink({ id }: { id: string }) {
  const live = useLive();
  if (!live) return <code dir="ltr">{id}</code>;
  return (
    <button type="button" class="secondary" onClick={() => live.open(id)} aria-label={`Open the conversation ${id}`}>
      Open the conversation <code dir="ltr">{id.slice(0, 8)}</code>
    </button>
  );
}

function Outcome({ p }: { p: Proposal }) {
  // Whether a decision counts matters while the proposal waits to run; a decided one's history stays as it was.
  const waits = p.status === 'pending' || p.status === 'approved';
  return (
    <>
      {p.decisions.length ? (
        <ul class="decisions">
          {p.decisions.map((d) => (
            <li key={`${d.by.id}-${d.at}`}>
              {d.decision === 'approve' ? 'Approved' : 'Rejected'} by {d.by.kind} <code dir="ltr">{d.by.id.slice(0, 8)}</code>, <When iso={d.at} />
              {d.reason ? <span class="wrap">: {d.reason}</span> : null}
              {d.counts || !waits ? null : (
                <>
                  {' '}
                  <span class="badge">no longer counts</span> <span class="muted">(they can no longer decide)</span>
                </>
              )}
            </li>
          ))}
        </ul>
      ) : null}
      {p.result ? (
        <p>
          The endpoint answered <strong>{p.result.statusCode}</strong>
          {p.result.summary ? (
            <>
              {' '}
              (untrusted): <code class="wrap">{p.result.summary}</code>
            </>
          ) : null}
        </p>
      ) : null}
      {p.error ? <p class="problem-text">Error: {p.error}</p> : null}
    </>
  );
}

function Pending({ api, me, p, onDone }: { api: Api; me: AdminMe; p: Proposal; onDone: () => void }) {
  const [reason, setReason] = useState('');
  const action = useAction();
  const mine = !!me.member && p.requestedBy.kind === 'member' && p.requestedBy.id === me.member.id;
  const decided = !!me.member && p.decisions.some((d) => d.by.kind === 'member' && d.by.id === me.member!.id);
  const needs = stillNeeds(p);
  const decide = (what: 'approve' | 'reject') =>
    void action.run(async () => {
      await api('POST', `/approvals/${p.id}/${what}`, reason.trim() ? { reason: reason.trim() } : {});
      setReason('');
      onDone();
    });
  const headingId = `proposal-${p.id}`;
  const name = proposalTitle(p);
  return (
    <article class="card proposal" aria-labelledby={headingId}>
      <h2 id={headingId}>
        <Title p={p} />
      </h2>
      {needs ? <p class="badge warn">{needs}</p> : null}
      <Call p={p} />
      <Outcome p={p} />
      {mine ? (
        <p class="muted">You asked for this: someone else decides it.</p>
      ) : decided ? (
        <p class="muted">You approved this; another person’s decision is needed.</p>
      ) : (
        <div class="decide">
          <label for={`reason-${p.id}`}>Reason (optional)</label>
          <input id={`reason-${p.id}`} maxLength={500} value={reason} onInput={(e) => setReason(e.currentTarget.value)} />
          <div class="row">
            <button type="button" aria-disabled={action.busy} onClick={() => decide('approve')} aria-label={`Approve ${name}`}>
              Approve
            </button>
            <button type="button" class="danger" aria-disabled={action.busy} onClick={() => decide('reject')} aria-label={`Reject ${name}`}>
              Reject
            </button>
          </div>
        </div>
      )}
      <ProblemView problem={action.problem} />
    </article>
  );
}

function History({ api, tick }: { api: Api; tick: number }) {
  const [status, setStatus] = useState<ProposalStatus | ''>('');
  const list = useLoad(() => api<{ proposals: Proposal[] }>('GET', `/approvals${status ? `?status=${status}` : ''}`), [status, tick]);
  const rows = list.data?.proposals.filter((p) => p.status !== 'pending') ?? [];
  return (
    <section class="card" aria-labelledby="history-title">
      <h2 id="history-title">History</h2>
      <div class="row">
        <label for="history-status">Show</label>
        <select id="history-status" value={status} onChange={(e) => setStatus(e.currentTarget.value as typeof status)}>
          {HISTORY.map((h) => (
            <option key={h.value} value={h.value}>
              {h.label}
            </option>
          ))}
        </select>
        <button type="button" class="secondary" onClick={() => list.reload()}>
          Refresh
        </button>
      </div>
      <ProblemView problem={list.problem} />
      {rows.map((p) => (
        <details key={p.id} class="proposal-history">
          <summary>
            {p.action ? <code dir="ltr">{p.action.name}</code> : proposalTitle(p)}{' '}
            <span class={`badge ${p.status === 'failed' ? 'disabled' : p.status === 'executed' ? 'active' : ''}`}>{p.status}</span>{' '}
            <When iso={p.createdAt} />
            {p.result ? <span class="muted"> · answered {p.result.statusCode}</span> : null}
          </summary>
          <Call p={p} />
          <Outcome p={p} />
        </details>
      ))}
      {list.data && !rows.length ? <p class="muted">Nothing here yet.</p> : null}
    </section>
  );
}

export function ApprovalsView({ api, me }: { api: Api; me: AdminMe }) {
  const pending = useLoad(() => api<{ proposals: Proposal[] }>('GET', '/approvals?status=pending'));
  const live = useLive();
  const [history, setHistory] = useState(0);
  const reload = () => {
    pending.reload();
    setHistory((n) => n + 1);
  };
  // Live: the inbox stream's `action` events. Admin operations raise none, so a poll also runs.
  useEffect(() => live?.live.onAction(reload), [live]);
  useEffect(() => {
    const t = setInterval(reload, POLL_MS);
    return () => clearInterval(t);
  }, []);
  const list = pending.data?.proposals ?? [];
  return (
    <div>
      <p class="muted">
        The assistant proposes calls of your actions, and admins ask here for the operations this workspace gates behind a second admin’s approval;
        nothing is sent or run until it is approved here. Each call is shown exactly as your endpoint will receive it.{' '}
        {live?.live.state === 'live' ? 'Actions update live; everything refreshes' : 'Refreshes'} at least every 15 seconds.
      </p>
      <ProblemView problem={pending.problem} />
      <section aria-labelledby="pending-title">
        <h2 id="pending-title">
          Waiting for a decision <span class="badge pending">{list.length}</span>
        </h2>
        {pending.data && !list.length ? <p class="muted">Nothing is waiting.</p> : null}
        {list.map((p) => (
          <Pending key={p.id} api={api} me={me} p={p} onDone={reload} />
        ))}
      </section>
      <History api={api} tick={history} />
    </div>
  );
}
