// Canned replies: the team's ready answers, with variables filled in when an agent inserts one
// ({{visitor.name}}, {{agent.name}}), and an optional shortcut typed after `/` in the reply box.
import type { AdminMe, CannedReply } from '@parley/protocol';
import { MAX_CANNED_SHORTCUT_CHARS, MAX_CANNED_TITLE_CHARS, MAX_MESSAGE_CHARS, renderCannedReply } from '@parley/protocol/constants';
import { useState } from 'preact/hooks';
import type { Api } from '../api.js';
import { ProblemView, useAction, useLoad } from '../components.js';

interface Draft {
  title: string;
  body: string;
  shortcut: string | null;
}

function CannedForm({
  initial,
  busy,
  agentName,
  onSave,
  onCancel,
}: {
  initial?: CannedReply;
  busy: boolean;
  agentName: string;
  onSave: (r: Draft) => void;
  onCancel?: () => void;
}) {
  const [title, setTitle] = useState(initial?.title ?? '');
  const [body, setBody] = useState(initial?.body ?? '');
  const [shortcut, setShortcut] = useState(initial?.shortcut ?? '');
  const idp = initial ? `canned-${initial.id}` : 'canned-new';
  return (
    <form
      class="card"
      onSubmit={(e) => {
        e.preventDefault();
        onSave({ title: title.trim(), body, shortcut: shortcut.trim() || null });
      }}
    >
      <label for={`${idp}-title`}>Title</label>
      <input id={`${idp}-title`} required maxLength={MAX_CANNED_TITLE_CHARS} value={title} onInput={(e) => setTitle(e.currentTarget.value)} />
      <label for={`${idp}-body`}>Text</label>
      <textarea
        id={`${idp}-body`}
        required
        maxLength={MAX_MESSAGE_CHARS}
        value={body}
        onInput={(e) => setBody(e.currentTarget.value)}
        aria-describedby={`${idp}-help`}
      />
      <p id={`${idp}-help`} class="muted">
        Variables: <code>{'{{visitor.name}}'}</code> (the verified visitor’s name, or “there”), <code>{'{{agent.name}}'}</code> (the name of the agent
        who sends it).
      </p>
      {body ? (
        <p class="muted preview" dir="auto">
          Preview: {renderCannedReply(body, { visitorName: 'Alex', agentName })}
        </p>
      ) : null}
      <label for={`${idp}-shortcut`}>Shortcut (optional)</label>
      <input
        id={`${idp}-shortcut`}
        class="mono short"
        maxLength={MAX_CANNED_SHORTCUT_CHARS}
        pattern="[a-z0-9][a-z0-9_\-]{0,31}"
        value={shortcut}
        onInput={(e) => setShortcut(e.currentTarget.value)}
        aria-describedby={`${idp}-shortcut-help`}
      />
      <p id={`${idp}-shortcut-help`} class="muted">
        Lower-case letters, digits, - and _. Type <code>/</code> and the shortcut in a reply to insert it.
      </p>
      <div class="row">
        <button type="submit" disabled={!title.trim() || !body.trim()} aria-disabled={busy}>
          {initial ? 'Save' : 'Add canned reply'}
        </button>
        {onCancel ? (
          <button type="button" class="secondary" onClick={onCancel}>
            Cancel
          </button>
        ) : null}
      </div>
    </form>
  );
}

export function CannedRepliesView({ api, me }: { api: Api; me: AdminMe }) {
  const list = useLoad(async () => (await api<{ cannedReplies: CannedReply[] }>('GET', '/canned-replies')).cannedReplies, [api]);
  const [editing, setEditing] = useState<string | null>(null);
  const [adding, setAdding] = useState(0);
  const action = useAction();
  const canWrite = me.capabilities.includes('conversations:write');
  const agentName = me.member?.displayName ?? 'Sam';
  const save = (id: string | null, r: Draft) =>
    void action
      .run(async () => {
        await api(id ? 'PATCH' : 'POST', id ? `/canned-replies/${id}` : '/canned-replies', r);
      })
      .then((ok) => {
        if (!ok) return;
        setEditing(null);
        if (!id) setAdding((n) => n + 1);
        list.reload();
      });
  const remove = (c: CannedReply) => {
    if (!confirm(`Delete the canned reply “${c.title}”?`)) return;
    void action.run(async () => api('DELETE', `/canned-replies/${c.id}`)).then((ok) => ok && list.reload());
  };
  return (
    <div>
      <p class="muted">Agents insert these from the reply box of a conversation. The team shares one list.</p>
      <ProblemView problem={list.problem} />
      {list.data && !list.data.length ? <p class="muted">No canned reply yet.</p> : null}
      <ul class="list canned">
        {list.data?.map((c) =>
          editing === c.id ? (
            <li key={c.id}>
              <CannedForm initial={c} busy={action.busy} agentName={agentName} onSave={(r) => save(c.id, r)} onCancel={() => setEditing(null)} />
            </li>
          ) : (
            <li key={c.id}>
              <div class="canned-text">
                <strong dir="auto">{c.title}</strong> {c.shortcut ? <code>/{c.shortcut}</code> : null}
                <p class="wrap" dir="auto">
                  {c.body}
                </p>
              </div>
              {canWrite ? (
                <span class="row">
                  <button type="button" class="secondary small" onClick={() => setEditing(c.id)} aria-label={`Edit ${c.title}`}>
                    Edit
                  </button>
                  <button type="button" class="danger small" onClick={() => remove(c)} aria-disabled={action.busy} aria-label={`Delete ${c.title}`}>
                    Delete
                  </button>
                </span>
              ) : null}
            </li>
          ),
        )}
      </ul>
      <ProblemView problem={action.problem} />
      {canWrite ? (
        <>
          <h2>New canned reply</h2>
          <CannedForm key={adding} busy={action.busy} agentName={agentName} onSave={(r) => save(null, r)} />
        </>
      ) : null}
    </div>
  );
}
