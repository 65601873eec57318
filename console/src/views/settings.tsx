// Widget appearance and handoff behaviour (saving bumps the tenant's policy version); which admin
// operations need a second admin's approval; for owners and admins, exporting the workspace; for owners,
// deleting it.
import type { AdminOperation } from '@parley/protocol';
import { useEffect, useState } from 'preact/hooks';
import type { ViewProps } from '../app.js';
import { ProblemView, useAction, useLoad } from '../components.js';
import { ApprovalOperations } from './approval-operations.js';
import { TenantDeletion } from './tenant-deletion.js';
import { TenantExport } from './tenant-export.js';

interface Settings {
  widget?: { greeting?: string; launcherText?: string; accentColor?: string };
  handoff?: { threshold?: number; sensitiveTopics?: string[] };
  approvals?: { operations?: AdminOperation[] };
}

/** No operation marked: one array, so the checklist is not reset on every render. */
const NONE: readonly AdminOperation[] = [];

export function SettingsView({ api, me }: ViewProps) {
  const s = useLoad(() => api<{ settings: Settings; policyVersion: number }>('GET', '/settings'));
  const [greeting, setGreeting] = useState('');
  const [launcherText, setLauncherText] = useState('');
  const [accent, setAccent] = useState('#2f6feb');
  const [threshold, setThreshold] = useState('0.35');
  const [topics, setTopics] = useState('');
  const [saved, setSaved] = useState<number | null>(null);
  const action = useAction();
  useEffect(() => {
    const x = s.data?.settings;
    if (!x) return;
    setGreeting(x.widget?.greeting ?? '');
    setLauncherText(x.widget?.launcherText ?? '');
    setAccent(x.widget?.accentColor ?? '#2f6feb');
    if (x.handoff?.threshold !== undefined) setThreshold(String(x.handoff.threshold));
    setTopics((x.handoff?.sensitiveTopics ?? []).join('\n'));
  }, [s.data]);

  const save = (e: Event) => {
    e.preventDefault();
    setSaved(null);
    void action.run(async () => {
      const out = await api<{ policyVersion: number }>('PATCH', '/settings', {
        widget: { greeting, launcherText, accentColor: accent },
        handoff: {
          threshold: Number(threshold),
          sensitiveTopics: topics
            .split('\n')
            .map((t) => t.trim())
            .filter(Boolean),
        },
      });
      setSaved(out.policyVersion);
    });
  };
  return (
    <>
      <form onSubmit={save} class="card">
        <ProblemView problem={s.problem} />
        <label for="greeting">Greeting</label>
        <textarea id="greeting" maxLength={500} value={greeting} onInput={(e) => setGreeting(e.currentTarget.value)} />
        <label for="launcher-text">Launcher text</label>
        <input id="launcher-text" maxLength={60} value={launcherText} onInput={(e) => setLauncherText(e.currentTarget.value)} />
        <label for="accent">Accent colour</label>
        <div class="row">
          <input id="accent" type="color" value={accent} onInput={(e) => setAccent(e.currentTarget.value)} />
          <code>{accent}</code>
        </div>
        <label for="threshold">Handoff threshold: answers below this confidence go to a person ({threshold})</label>
        <input id="threshold" type="range" min="0" max="1" step="0.05" value={threshold} onInput={(e) => setThreshold(e.currentTarget.value)} />
        <label for="topics">Sensitive topics, one per line (always handed to a person)</label>
        <textarea id="topics" rows={5} value={topics} onInput={(e) => setTopics(e.currentTarget.value)} />
        <button type="submit" disabled={action.busy}>
          Save settings
        </button>
        <span class="muted" aria-live="polite">
          {saved !== null ? ` Saved: policy version ${saved}.` : ''}
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
