// Try the tenant's redaction policy on sample text: what is found, and what the AI provider would see.
import { useState } from 'preact/hooks';
import type { Api } from '../api.js';
import { Highlighted, ProblemView, useAction } from '../components.js';
import { RedactedText } from '../inbox/redacted.js';

interface Scan {
  matches: { class: string; start: number; end: number; score: number; action: string }[];
  redacted: string;
}

export function PiiView({ api }: { api: Api }) {
  const [text, setText] = useState('');
  const [channel, setChannel] = useState('widget');
  const [result, setResult] = useState<{ text: string; scan: Scan } | null>(null);
  const action = useAction();
  const scan = (e: Event) => {
    e.preventDefault();
    void action.run(async () => setResult({ text, scan: await api<Scan>('POST', '/pii/scan', { text, channel }) }));
  };
  return (
    <div>
      <form onSubmit={scan} class="card">
        <label for="pii-text">Sample text (it is scanned, not stored)</label>
        <textarea id="pii-text" rows={6} required maxLength={20000} value={text} onInput={(e) => setText(e.currentTarget.value)} />
        <label for="pii-channel">Channel</label>
        <select id="pii-channel" value={channel} onChange={(e) => setChannel(e.currentTarget.value)}>
          <option value="widget">widget</option>
          <option value="api">api</option>
          <option value="email">email</option>
        </select>
        <button type="submit" disabled={!text} aria-disabled={action.busy}>
          Scan
        </button>
      </form>
      <ProblemView problem={action.problem} />
      {result ? (
        <section aria-labelledby="pii-result">
          <h2 id="pii-result">{result.scan.matches.length ? `${result.scan.matches.length} match(es)` : 'Nothing found'}</h2>
          <p class="sample" dir="auto">
            <Highlighted
              text={result.text}
              spans={result.scan.matches.map((m) => ({ start: m.start, end: m.end, label: `${m.class} · ${m.action} · ${m.score}` }))}
            />
          </p>
          <h3>What the AI provider sees</h3>
          <pre class="wrap" dir="auto">
            <RedactedText text={result.scan.redacted} />
          </pre>
        </section>
      ) : null}
    </div>
  );
}
