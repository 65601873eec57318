// Widget appearance and how the assistant answers (saving bumps the tenant's policy version); which admin
// operations need a second admin's approval; for owners and admins, exporting the workspace; for owners,
// deleting it.
import type { AdminOperation, SettingsResponse } from '@parley/protocol';
import { SYNONYM_GROUP } from '@parley/protocol/constants';
import { useEffect, useState } from 'preact/hooks';
import type { ViewProps } from '../app.js';
import { ProblemView, useAction, useLoad } from '../components.js';
import { ApprovalOperations } from './approval-operations.js';
import { TenantDeletion } from './tenant-deletion.js';
import { TenantExport } from './tenant-export.js';

type RetrievalMode = SettingsResponse['effective']['retrieval']['mode'];
const MODES: { value: RetrievalMode; label: string }[] = [
  { value: 'auto', label: 'Automatic (hybrid once an embedding model is set, else keywords)' },
  { value: 'bm25', label: 'Keywords (BM25)' },
  { value: 'dense', label: 'Meaning (embeddings)' },
  { value: 'hybrid', label: 'Both (hybrid)' },
];

/** No operation marked: one array, so the checklist is not reset on every render. */
const NONE: readonly AdminOperation[] = [];

const lines = (text: string) =>
  text
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);

/** The synonym lines that are not a group of two or more words joined by "=", by line number. */
export function badSynonymLines(text: string): number[] {
  return text.split('\n').flatMap((l, i) => (l.trim() && !SYNONYM_GROUP.test(l.trim()) ? [i + 1] : []));
}

export function SettingsView({ api, me }: ViewProps) {
  const s = useLoad(() => api<SettingsResponse>('GET', '/settings'));
  const [greeting, setGreeting] = useState('');
  const [launcherText, setLauncherText] = useState('');
  const [accent, setAccent] = useState('#2f6feb');
  const [threshold, setThreshold] = useState('0.7');
  const [suggest, setSuggest] = useState('0.4');
  const [topics, setTopics] = useState('');
  const [mode, setMode] = useState<RetrievalMode>('auto');
  const [synonyms, setSynonyms] = useState('');
  const [vocabulary, setVocabulary] = useState(true);
  const [saved, setSaved] = useState<number | null>(null);
  const action = useAction();
  useEffect(() => {
    const x = s.data?.settings;
    if (!x) return;
    // What applies now, defaults included: saving an untouched form changes nothing.
    const now = s.data?.effective;
    setGreeting(x.widget?.greeting ?? '');
    setLauncherText(x.widget?.launcherText ?? '');
    setAccent(x.widget?.accentColor ?? now?.widget.accentColor ?? '#2f6feb');
    setThreshold(String(x.handoff?.threshold ?? now?.handoff.threshold ?? 0.7));
    setSuggest(String(x.handoff?.suggestThreshold ?? now?.handoff.suggestThreshold ?? 0.4));
    setTopics((x.handoff?.sensitiveTopics ?? []).join('\n'));
    setMode(x.retrieval?.mode ?? now?.retrieval.mode ?? 'auto');
    setSynonyms((x.retrieval?.synonyms ?? []).join('\n'));
    setVocabulary(x.retrieval?.supportVocabulary ?? now?.retrieval.supportVocabulary ?? true);
  }, [s.data]);

  const bad = badSynonymLines(synonyms);
  const save = (e: Event) => {
    e.preventDefault();
    setSaved(null);
    void action.run(async () => {
      const out = await api<{ policyVersion: number }>('PATCH', '/settings', {
        widget: { greeting, launcherText, accentColor: accent },
        handoff: { threshold: Number(threshold), suggestThreshold: Number(suggest), sensitiveTopics: lines(topics) },
        retrieval: { mode, synonyms: lines(synonyms), supportVocabulary: vocabulary },
      });
      setSaved(out.policyVersion);
    });
  };
  return (
    <>
      <form onSubmit={save} class="card">
        <ProblemView problem={s.problem} />
        <fieldset>
          <legend>Widget</legend>
          <label for="greeting">Greeting</label>
          <textarea id="greeting" maxLength={500} value={greeting} onInput={(e) => setGreeting(e.currentTarget.value)} />
          <label for="launcher-text">Launcher text</label>
          <input id="launcher-text" maxLength={60} value={launcherText} onInput={(e) => setLauncherText(e.currentTarget.value)} />
          <label for="accent">Accent colour</label>
          <div class="row">
            <input id="accent" type="color" value={accent} onInput={(e) => setAccent(e.currentTarget.value)} />
            <code>{accent}</code>
          </div>
        </fieldset>
        <fieldset>
          <legend>Answers</legend>
          <label for="threshold">Answer at or above this confidence ({threshold})</label>
          <input id="threshold" type="range" min="0" max="1" step="0.05" value={threshold} onInput={(e) => setThreshold(e.currentTarget.value)} />
          <label for="suggest">Below it, offer “Did you mean …?” from this confidence ({suggest}); lower still, hand off to a person</label>
          <input id="suggest" type="range" min="0" max="1" step="0.05" value={suggest} onInput={(e) => setSuggest(e.currentTarget.value)} />
          {Number(suggest) >= Number(threshold) ? (
            <p class="muted" role="status">
              At or above the answer threshold: the assistant never offers, it answers or hands off.
            </p>
          ) : null}
          <label for="topics">Sensitive topics, one per line (always handed to a person)</label>
          <textarea id="topics" rows={4} value={topics} onInput={(e) => setTopics(e.currentTarget.value)} />
          <label for="retrieval-mode">Search the knowledge by</label>
          <select id="retrieval-mode" value={mode} onChange={(e) => setMode(e.currentTarget.value as RetrievalMode)}>
            {MODES.map((m) => (
              <option value={m.value} key={m.value}>
                {m.label}
              </option>
            ))}
          </select>
          <label for="synonyms">Synonyms your visitors use, one group per line (parcel = package = order)</label>
          <textarea
            id="synonyms"
            rows={4}
            dir="auto"
            value={synonyms}
            aria-invalid={bad.length > 0}
            aria-describedby={bad.length ? 'synonyms-error' : undefined}
            onInput={(e) => setSynonyms(e.currentTarget.value)}
          />
          {bad.length ? (
            <p id="synonyms-error" class="field-error">
              {bad.length === 1 ? 'Line' : 'Lines'} {bad.join(', ')}: join two or more words or phrases with “=”.
            </p>
          ) : null}
          <label class="check">
            <input id="support-vocabulary" type="checkbox" checked={vocabulary} onChange={(e) => setVocabulary(e.currentTarget.checked)} /> Also use
            the built-in support vocabulary (“voucher” finds “gift card”, “dispatched” finds “shipped”)
          </label>
        </fieldset>
        <button type="submit" disabled={bad.length > 0} aria-disabled={action.busy}>
          Save settings
        </button>
        <span class="muted" aria-live="polite">
          {saved !== null ? ` Settings saved (version ${saved}).` : ''}
        </span>
        <ProblemView problem={action.problem} />
      </form>
      <ApprovalOperations
        api={api}
        current={s.data ? (s.data.settings.approvals?.operations ?? NONE) : undefined}
        canEdit={me.capabilities.includes('settings:write')}
      />
      {me.capabilities.includes('tenant:export') ? <TenantExport api={api} me={me} /> : null}
      {/* Owners only: the server refuses anyone else, so nobody else is shown it. */}
      {me.member?.role === 'owner' ? <TenantDeletion api={api} me={me} /> : null}
    </>
  );
}
