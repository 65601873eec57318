// Evidence for auditors: build a signed evidence pack for a framework and a period and save its zip, download
// a kept version, keep one current as policies change, and the command that verifies a pack offline.
import type { EvidencePackSummary } from '@parley/protocol';
import { EVIDENCE_FRAMEWORKS, MAX_EVIDENCE_PERIOD_DAYS, type EvidenceFramework } from '@parley/protocol/constants';
import { useState } from 'preact/hooks';
import type { ViewProps } from '../app.js';
import { ProblemView, saveFile, ScrollingTable, useAction, useLoad, When } from '../components.js';

const FRAMEWORK_LABELS: Record<EvidenceFramework, string> = {
  soc2: 'SOC 2',
  'eu-ai-act': 'EU AI Act',
  'nist-ai-rmf': 'NIST AI RMF',
  'iso-42001': 'ISO/IEC 42001',
};
const DAY_MS = 86_400_000;
/** A UTC calendar day, as a date input holds it. */
const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);

const FrameworkSelect = ({ id, value, onChange }: { id: string; value: EvidenceFramework; onChange: (f: EvidenceFramework) => void }) => (
  <select id={id} value={value} onChange={(e) => onChange(e.currentTarget.value as EvidenceFramework)}>
    {EVIDENCE_FRAMEWORKS.map((f) => (
      <option key={f} value={f}>
        {FRAMEWORK_LABELS[f]}
      </option>
    ))}
  </select>
);

interface Subscription {
  framework: EvidenceFramework;
  periodDays: number;
  updatedAt: string;
}

/** The subscription: the evidence sweep keeps a pack of the last N days current as policies change. */
function KeptCurrent({ api }: { api: ViewProps['api'] }) {
  const sub = useLoad(() => api<{ subscription: Subscription | null }>('GET', '/evidence/subscription'));
  const [framework, setFramework] = useState<EvidenceFramework>('soc2');
  const [periodDays, setPeriodDays] = useState('90');
  const action = useAction();
  const s = sub.data?.subscription;
  const keep = (e: Event) => {
    e.preventDefault();
    void action.run(async () => {
      await api('PUT', '/evidence/subscription', { framework, periodDays: Number(periodDays) });
      sub.reload();
    });
  };
  const stop = () =>
    void action.run(async () => {
      await api('DELETE', '/evidence/subscription');
      // The versions built so far stay kept.
      sub.reload();
    });
  return (
    <>
      <ProblemView problem={sub.problem} />
      {s ? (
        <p role="status">
          Kept current: {FRAMEWORK_LABELS[s.framework]}, the last {s.periodDays} days (since <When iso={s.updatedAt} />
          ).{' '}
          <button type="button" class="danger" onClick={stop} aria-disabled={action.busy}>
            Stop keeping it current
          </button>
        </p>
      ) : null}
      {sub.data && !s ? (
        <form onSubmit={keep}>
          <p>Keep a pack current: within ten minutes of any policy change a new version is built and kept here.</p>
          <div class="row fields">
            <span>
              <label for="subscription-framework">Framework to keep current</label>
              <FrameworkSelect id="subscription-framework" value={framework} onChange={setFramework} />
            </span>
            <span>
              <label for="subscription-days">Period in days (1–{MAX_EVIDENCE_PERIOD_DAYS})</label>
              <input
                id="subscription-days"
                class="days"
                type="number"
                min={1}
                max={MAX_EVIDENCE_PERIOD_DAYS}
                required
                value={periodDays}
                onInput={(e) => setPeriodDays(e.currentTarget.value)}
              />
            </span>
          </div>
          <button type="submit" aria-disabled={action.busy}>
            Keep current
          </button>
        </form>
      ) : null}
      <ProblemView problem={action.problem} />
    </>
  );
}

export function EvidenceView({ api }: ViewProps) {
  const [framework, setFramework] = useState<EvidenceFramework>('soc2');
  // The last 90 days, as the CLI's default, in whole UTC days.
  const [from, setFrom] = useState(() => day(Date.now() - 90 * DAY_MS));
  const [to, setTo] = useState(() => day(Date.now()));
  const [saved, setSaved] = useState<string | null>(null);
  const build = useAction();
  const packs = useLoad(() => api<{ packs: EvidencePackSummary[] }>('GET', '/evidence/packs'));
  const kept = useAction();

  const submit = (e: Event) => {
    e.preventDefault();
    setSaved(null);
    void build.run(async () => {
      const zip = await api<Blob>('POST', '/evidence/packs', { framework, from: `${from}T00:00:00.000Z`, to: `${to}T23:59:59.999Z` });
      const name = `evidence-${framework}-${from}-${to}.zip`;
      saveFile(zip, name);
      setSaved(name);
    });
  };
  const download = (version: number) =>
    void kept.run(async () => saveFile(await api<Blob>('GET', `/evidence/packs/${version}`), `evidence-v${version}.zip`));

  return (
    <>
      <form onSubmit={submit} class="card" aria-labelledby="evidence-build-title">
        <h2 id="evidence-build-title">Evidence for auditors</h2>
        <p>
          A signed zip of the audit log, the policies and the controls they meet in the framework you pick. Anyone can check it offline.{' '}
          <a href="/docs/evidence.html">Evidence guide</a>
        </p>
        <label for="evidence-framework">Framework</label>
        <FrameworkSelect id="evidence-framework" value={framework} onChange={setFramework} />
        <div class="row fields">
          <span>
            <label for="evidence-from">From (UTC)</label>
            <input id="evidence-from" type="date" dir="ltr" required value={from} max={to} onInput={(e) => setFrom(e.currentTarget.value)} />
          </span>
          <span>
            <label for="evidence-to">To (UTC, inclusive)</label>
            <input id="evidence-to" type="date" dir="ltr" required value={to} min={from} onInput={(e) => setTo(e.currentTarget.value)} />
          </span>
        </div>
        <button type="submit" aria-disabled={build.busy}>
          {build.busy ? 'Building…' : 'Build and download'}
        </button>
        <span class="muted" aria-live="polite">
          {saved ? (
            <>
              {' '}
              Saved <bdi dir="ltr">{saved}</bdi>.
            </>
          ) : null}
        </span>
        <ProblemView problem={build.problem} />
      </form>

      <section class="card" aria-labelledby="evidence-verify-title">
        <h2 id="evidence-verify-title">Verify a pack</h2>
        <p>
          With the verifier key from <code dir="ltr">GET /v1/audit/verifier-key</code>, offline:
        </p>
        <pre class="command" dir="ltr">
          <code>npx parley evidence verify pack.zip --key '&lt;verifier key&gt;'</code>
        </pre>
        <p class="muted">It exits 0 when every check holds, and prints one FAIL line per file that does not.</p>
      </section>

      <section class="card" aria-labelledby="evidence-kept-title">
        <h2 id="evidence-kept-title">Kept versions</h2>
        <KeptCurrent api={api} />
        <ProblemView problem={packs.problem} />
        {!packs.data && !packs.problem ? <p class="muted">Loading…</p> : null}
        {packs.data && !packs.data.packs.length ? <p class="muted">None yet.</p> : null}
        {packs.data?.packs.length ? (
          <ScrollingTable label="Kept versions">
            <thead>
              <tr>
                <th scope="col">Version</th>
                <th scope="col">Framework</th>
                <th scope="col">Built</th>
                <th scope="col">Replaced</th>
                <th scope="col">
                  <span class="sr-only">Download</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {packs.data.packs.map((p) => (
                <tr key={p.version}>
                  <td>{p.version}</td>
                  <td>{FRAMEWORK_LABELS[p.framework]}</td>
                  <td>
                    <When iso={p.createdAt} />
                  </td>
                  <td>
                    <When iso={p.supersededAt} />
                  </td>
                  <td>
                    <button type="button" class="secondary" aria-disabled={kept.busy} onClick={() => download(p.version)}>
                      Download v{p.version}
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </ScrollingTable>
        ) : null}
        <ProblemView problem={kept.problem} />
      </section>
    </>
  );
}
