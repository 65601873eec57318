// Requests a tenant may gate behind a second admin's approval. The server answers such a request 202 with
// a proposal instead of running it; the page then waits (polling the proposal while it is shown) until
// another admin decides it on the Approvals page, and once it is approved the person finishes: the SAME
// request again, with `Parley-Approval: <proposal id>`, which runs it. Any view sends through `useGated`
// and shows `<GatedStatus>` where the answer belongs.
import type { Problem } from '@parley/protocol';
import { useEffect, useRef, useState } from 'preact/hooks';
import { ApprovalRequired, toProblem, type Api, type Method } from './api.js';
import { type RunOptions, useAction, When } from './components.js';
import { operationLabel, type GatedProposal } from './proposals.js';

/** How often a waiting page asks whether its proposal was decided. */
export const POLL_MS = 5_000;

export type GateStep = 'waiting' | 'approved' | 'rejected' | 'expired' | 'used';
export type Gate = { step: 'idle' } | { step: GateStep; proposal: GatedProposal };

interface Request {
  method: Method;
  path: string;
  body: unknown;
}

/** Where a proposal's status leaves the requester; one already executing, executed or failed was used. */
const stepOf = (proposal: GatedProposal): Gate => {
  const s = proposal.status;
  const step: GateStep = s === 'pending' ? 'waiting' : s === 'approved' || s === 'rejected' || s === 'expired' ? s : 'used';
  return { step, proposal };
};

export interface Gated {
  gate: Gate;
  busy: boolean;
  problem: Problem | null;
  /** Sends the request; `onDone` gets its answer, now or once it is approved and finished. */
  send: (method: Method, path: string, body?: unknown) => Promise<void>;
  /** Repeats the approved request with its approval. */
  finish: () => Promise<void>;
  /** Forgets the proposal here (it stays on the Approvals page until it is decided or expires). */
  dismiss: () => void;
}

/** `options.focus`: where the focus goes once done, if the button that sent it is gone or disabled by then. */
export function useGated<T>(api: Api, onDone: (result: T) => void, options?: RunOptions): Gated {
  const [gate, setGate] = useState<Gate>({ step: 'idle' });
  const [pollProblem, setPollProblem] = useState<Problem | null>(null);
  const action = useAction();
  const request = useRef<Request | null>(null);
  const done = useRef(onDone);
  done.current = onDone;

  const attempt = async (req: Request, approval?: string) => {
    setPollProblem(null);
    await action.run(async () => {
      try {
        const out = await api<T>(req.method, req.path, req.body, approval ? { 'Parley-Approval': approval } : undefined);
        setGate({ step: 'idle' });
        done.current(out);
      } catch (err) {
        if (!(err instanceof ApprovalRequired)) throw err;
        request.current = req;
        setGate(stepOf(err.proposal));
      }
    }, options);
  };

  // While waiting, and only while the view is shown: the effect's cleanup stops the poll on unmount.
  const waitingFor = gate.step === 'waiting' ? gate.proposal.id : null;
  useEffect(() => {
    if (!waitingFor) return;
    let live = true;
    const timer = setInterval(() => {
      api<{ proposal: GatedProposal }>('GET', `/approvals/${encodeURIComponent(waitingFor)}`).then(
        ({ proposal }) => {
          if (!live) return;
          setPollProblem(null);
          setGate(stepOf(proposal));
        },
        // A failed check is shown, and the next one still runs.
        (err) => live && setPollProblem(toProblem(err)),
      );
    }, POLL_MS);
    return () => {
      live = false;
      clearInterval(timer);
    };
  }, [waitingFor, api]);

  return {
    gate,
    busy: action.busy,
    problem: action.problem ?? pollProblem,
    send: (method, path, body) => attempt({ method, path, body }),
    finish: async () => {
      if (gate.step === 'approved' && request.current) await attempt(request.current, gate.proposal.id);
    },
    dismiss: () => {
      setPollProblem(null);
      setGate({ step: 'idle' });
    },
  };
}

/** Why another admin said no, when they gave a reason. */
const rejection = (p: GatedProposal) => p.decisions?.find((d) => d.decision === 'reject' && d.reason)?.reason ?? null;

/** Where a gated request stands: waiting (with the proposal and its expiry), approved (Finish), or closed. */
export function GatedStatus({ gated }: { gated: Gated }) {
  const { gate } = gated;
  if (gate.step === 'idle') return null;
  const p = gate.proposal;
  const what = operationLabel(p.operation);
  const id = <code dir="ltr">{p.id}</code>;
  const dismiss = (label: string) => (
    <button type="button" class="secondary" onClick={gated.dismiss} disabled={gated.busy}>
      {label}
    </button>
  );
  return (
    <div class={`notice gated gated-${gate.step}`} role="status">
      {gate.step === 'waiting' ? (
        <>
          <strong>Waiting for another admin’s approval</strong>
          <p>
            {what}: this workspace needs a second admin to approve it on the Approvals page. Request {id}, expires <When iso={p.expiresAt} />.
          </p>
          <p class="muted">Checked every {POLL_MS / 1000} seconds while this page is open.</p>
          {dismiss('Stop waiting')}
        </>
      ) : gate.step === 'approved' ? (
        <>
          <strong>Approved by another admin</strong>
          <p>
            {what}: request {id} is approved. Finish to run it now.
          </p>
          <div class="row">
            <button type="button" onClick={() => void gated.finish()} disabled={gated.busy}>
              {gated.busy ? 'Finishing…' : 'Finish'}
            </button>
            {dismiss('Cancel')}
          </div>
        </>
      ) : (
        <>
          <strong>
            {gate.step === 'rejected'
              ? 'Another admin rejected it'
              : gate.step === 'expired'
                ? 'The approval request expired'
                : 'This approval was already used'}
          </strong>
          <p>
            {what}: request {id}{' '}
            {gate.step === 'rejected'
              ? 'was rejected, so nothing ran.'
              : gate.step === 'expired'
                ? 'was not approved in time, so nothing ran.'
                : 'has already run or been used once.'}{' '}
            Send it again to ask anew.
          </p>
          {gate.step === 'rejected' && rejection(p) ? (
            <p>
              Their reason: <span class="wrap">{rejection(p)}</span>
            </p>
          ) : null}
          {dismiss('Dismiss')}
        </>
      )}
    </div>
  );
}
