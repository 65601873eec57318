// The tenant's tamper-evident audit log: entries page by page, and the latest signed checkpoint.
import type { AuditEntry } from '@parley/protocol';
import { useState } from 'preact/hooks';
import type { Api } from '../api.js';
import { ProblemView, useAction, useLoad, when } from '../components.js';
import { verifyInclusion } from '../merkle.js';

const PAGE = 50;
const shortId = (id: string) => (id.length > 12 ? `${id.slice(0, 8)}…` : id);
type Checkpoint = { origin: string; size: number; root: string; checkpoint: string; verifierKey: string };

/** Fetches the entry's inclusion proof against the checkpoint and checks it here, in the browser. */
function VerifyEntry({ api, entry, cp }: { api: Api; entry: AuditEntry; cp: Checkpoint | null }) {
  const [state, setState] = useState<'idle' | 'ok' | 'bad'>('idle');
  const action = useAction();
  if (!cp || entry.seq >= cp.size) return <span class="muted">after checkpoint</span>;
  if (state !== 'idle') return <span class={state === 'ok' ? 'ok' : 'bad'}>{state === 'ok' ? '✓ in the signed tree' : '✗ proof does not verify'}</span>;
  const check = () =>
    void action.run(async () => {
      const p = await api<{ leafHash: string; proof: string[] }>('GET', `/audit/proof/inclusion?index=${entry.seq}&size=${cp.size}`);
      // The leaf hash the proof starts from must be the one the entry listing showed.
      setState(p.leafHash === entry.leafHash && (await verifyInclusion(p.leafHash, entry.seq, cp.size, p.proof, cp.root)) ? 'ok' : 'bad');
    });
  return (
    <>
      <button type="button" class="secondary small" onClick={check} disabled={action.busy} aria-label={`Verify entry ${entry.seq}`}>
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
    <div>
      <section class="card" aria-labelledby="checkpoint-title">
        <h2 id="checkpoint-title">Signed checkpoint</h2>
        <ProblemView problem={cp.problem} />
        {cp.data ? (
          <>
            <p>
              {cp.data.size} entries · root <code>{cp.data.root}</code>
            </p>
            <pre class="wrap">{cp.data.checkpoint}</pre>
            <p>
              Verifier key <code class="wrap">{cp.data.verifierKey}</code>
            </p>
            <p class="muted">
              Verify an entry below to check its inclusion proof against this root in your browser. Keep checkpoints you fetch: a later one
              must be consistent with them (<code>GET /v1/admin/audit/proof/consistency</code>). The Security guide in the docs shows how to
              check the checkpoint's signature with the verifier key.
            </p>
          </>
        ) : null}
      </section>
      <ProblemView problem={page.problem} />
      <table>
        <caption class="sr-only">Audit entries</caption>
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
              <td>{when(e.ts)}</td>
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
      </table>
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
