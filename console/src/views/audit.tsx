// The tenant's tamper-evident audit log: entries page by page, and the latest signed checkpoint.
import type { AuditEntry, CheckpointResponse as Checkpoint } from '@parley/protocol';
import { useState } from 'preact/hooks';
import type { Api } from '../api.js';
import { ProblemView, ScrollingTable, useAction, useLoad, When } from '../components.js';
import { verifyConsistency, verifyInclusion } from '../merkle.js';

const PAGE = 50;
const shortId = (id: string) => (id.length > 12 ? `${id.slice(0, 8)}…` : id);

/** Where this browser keeps the last checkpoint it verified for a log (by the log's origin). */
export const rememberedKey = (origin: string) => `parley.audit.checkpoint:${origin}`;

export type Continuity =
  | { kind: 'first' | 'same' | 'extended'; previous: { size: number; root: string } | null }
  | { kind: 'shrank' | 'forked'; previous: { size: number; root: string } };

/**
 * Checks the server's newest checkpoint against the one this browser verified last time: the log may only
 * grow, and the old tree must be a prefix of the new one (a consistency proof checked here). The new
 * checkpoint is remembered only when it passes, so a warning persists until someone looks into it.
 */
export async function checkContinuity(api: Api, cp: Checkpoint, storage: Storage = localStorage): Promise<Continuity> {
  const key = rememberedKey(cp.origin);
  let previous: { size: number; root: string } | null = null;
  try {
    const raw = storage.getItem(key);
    const parsed = raw ? (JSON.parse(raw) as { size?: unknown; root?: unknown }) : null;
    if (parsed && typeof parsed.size === 'number' && typeof parsed.root === 'string') previous = { size: parsed.size, root: parsed.root };
  } catch {
    previous = null;
  }
  const remember = () => storage.setItem(key, JSON.stringify({ size: cp.size, root: cp.root }));
  if (!previous || previous.size === 0) {
    remember();
    return { kind: 'first', previous };
  }
  if (cp.size < previous.size) return { kind: 'shrank', previous };
  if (cp.size === previous.size) return previous.root === cp.root ? { kind: 'same', previous } : { kind: 'forked', previous };
  const p = await api<{ proof: string[] }>('GET', `/audit/proof/consistency?from=${previous.size}&to=${cp.size}`);
  if (!(await verifyConsistency(previous.size, cp.size, p.proof, previous.root, cp.root))) return { kind: 'forked', previous };
  remember();
  return { kind: 'extended', previous };
}

function ContinuityView({ api, cp }: { api: Api; cp: Checkpoint }) {
  const c = useLoad(() => checkContinuity(api, cp), [cp.origin, cp.size, cp.root]);
  if (c.problem) return <ProblemView problem={c.problem} />;
  const r = c.data;
  if (!r) return null;
  if (r.kind === 'shrank' || r.kind === 'forked')
    return (
      <div role="alert" class="problem bad">
        <strong>
          {r.kind === 'shrank'
            ? `The audit log shrank: this browser verified ${r.previous.size} entries before, the server now signs ${cp.size}.`
            : `The audit log forked: the tree this browser verified before (${r.previous.size} entries, root ${r.previous.root.slice(0, 16)}…) is not part of the server's tree now.`}
        </strong>{' '}
        Entries were deleted or rewritten. Keep this browser's record, export the log and the checkpoint above, and contact your Parley operator.
      </div>
    );
  return (
    <p class="ok">
      {r.kind === 'first'
        ? '✓ Checkpoint remembered in this browser; later visits check that the log only grows from here.'
        : r.kind === 'same'
          ? '✓ Same tree as on your last visit.'
          : `✓ Consistent with the ${r.previous!.size}-entry tree this browser verified last time (consistency proof checked here).`}
    </p>
  );
}

/** Fetches the entry's inclusion proof against the checkpoint and checks it here, in the browser. */
function VerifyEntry({ api, entry, cp }: { api: Api; entry: AuditEntry; cp: Checkpoint | null }) {
  const [state, setState] = useState<'idle' | 'ok' | 'bad'>('idle');
  const action = useAction();
  if (!cp || entry.seq >= cp.size) return <span class="muted">after checkpoint</span>;
  if (state !== 'idle')
    return <span class={state === 'ok' ? 'ok' : 'bad'}>{state === 'ok' ? '✓ in the signed tree' : '✗ proof does not verify'}</span>;
  const check = () =>
    void action.run(async () => {
      const p = await api<{ leafHash: string; proof: string[] }>('GET', `/audit/proof/inclusion?index=${entry.seq}&size=${cp.size}`);
      // The leaf hash the proof starts from must be the one the entry listing showed.
      setState(p.leafHash === entry.leafHash && (await verifyInclusion(p.leafHash, entry.seq, cp.size, p.proof, cp.root)) ? 'ok' : 'bad');
    });
  return (
    <>
      <button type="button" class="secondary small" onClick={check} aria-disabled={action.busy} aria-label={`Verify entry ${entry.seq}`}>
        Verify
      </button>
      <ProblemView problem={action.problem} />
    </>
  );
}

export function AuditView({ api }: { api: Api }) {
  // Cursors of the pages seen so far, so "Previous" can go back.
  const [cursors, setCursors] = useState<number[]>([-1]);
  const after = cursors.at(-1)!;
  const page = useLoad(() => api<{ entries: AuditEntry[]; next: number | null }>('GET', `/audit?after=${after}&limit=${PAGE}`), [after]);
  const cp = useLoad(() => api<Checkpoint>('GET', '/audit/checkpoint'));
  return (
    <div class="audit">
      <section class="card" aria-labelledby="checkpoint-title">
        <h2 id="checkpoint-title">Signed checkpoint</h2>
        <ProblemView problem={cp.problem} />
        {cp.data ? (
          <>
            <p>
              {cp.data.size} entries · root <code>{cp.data.root}</code>
            </p>
            <ContinuityView api={api} cp={cp.data} />
            <pre class="wrap">{cp.data.checkpoint}</pre>
            <p>
              Verifier key <code class="wrap">{cp.data.verifierKey}</code>
            </p>
            <p class="muted">
              Verify an entry below to check its inclusion proof against this root in your browser. This browser remembers the last checkpoint it
              verified and checks on every visit that the new one extends it (<code>GET /v1/admin/audit/proof/consistency</code>). Keep your own
              copies too: the signed note is at <code>GET /v1/admin/audit/checkpoint</code> with <code>Accept: text/plain</code>, and every key that
              ever signed is at <code>/v1/audit/verifier-keys</code>. The Security guide in the docs shows how to check the checkpoint's signature.
            </p>
          </>
        ) : null}
      </section>
      <ProblemView problem={page.problem} />
      <ScrollingTable label="Audit entries">
        <thead>
          <tr>
            <th scope="col">#</th>
            <th scope="col">Time</th>
            <th scope="col">Actor</th>
            <th scope="col">Action</th>
            <th scope="col">Target</th>
            <th scope="col">Reason</th>
            <th scope="col">Request id</th>
            <th scope="col">Inclusion</th>
          </tr>
        </thead>
        <tbody>
          {page.data?.entries.map((e) => (
            <tr key={e.seq}>
              <td>{e.seq}</td>
              <td>
                <When iso={e.ts} />
              </td>
              <td>
                {e.actor.type}
                {e.actor.id ? <code> {shortId(e.actor.id)}</code> : null}
              </td>
              <td>
                <code>{e.action}</code>
              </td>
              <td>{e.target ? `${e.target.type} ${e.target.id ? shortId(e.target.id) : ''}` : ''}</td>
              <td>{e.reason ?? ''}</td>
              <td>{e.requestId ? <code>{e.requestId}</code> : ''}</td>
              <td>
                <VerifyEntry api={api} entry={e} cp={cp.data} />
              </td>
            </tr>
          ))}
        </tbody>
      </ScrollingTable>
      <div class="row">
        <button type="button" class="secondary" disabled={cursors.length < 2} onClick={() => setCursors(cursors.slice(0, -1))}>
          Previous
        </button>
        <button type="button" class="secondary" disabled={page.data?.next == null} onClick={() => setCursors([...cursors, page.data!.next!])}>
          Next
        </button>
      </div>
    </div>
  );
}
