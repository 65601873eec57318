// Canned replies: the team's ready answers, with variables an agent's reply fills in
// ({{visitor.name}}, {{agent.name}}).
import type { AdminMe } from '@parley/protocol';
import { useState } from 'preact/hooks';
import type { Api } from '../api.js';
import { ProblemView, useAction, useLoad } from '../components.js';
import { fillVariables } from '../inbox/format.js';
import type { CannedReply } from './conversation.js';

function CannedForm({ initial, busy, onSave, onCancel }: { initial?: CannedReply; busy: boolean; onSave: (r: { title: string; body: string }) => void; onCancel?: () => void }) {
  const [title, setTitle] = useState(initial?.title ?? '');
  const [body, setBody] = useState(initial?.body ?? '');
  const idp = initial ? `canned-${initial.id}` : 'canned-new';
  return (
    <form
      class="card"
      onSubmit={(e) => {
        e.preventDefault();
        onSave({ title: title.trim(), body });
      }}
    >
      <label for={`${idp}-title`}>Title</label>
      <input id={`${idp}-title`} required maxLength={100} value={title} onInput={(e) => setTitle(e.currentTarget.value)} />
      <label for={`${idp}-body`}>Text</label>
      <textarea id={`${idp}-body`} required maxLength={4000} value={body} onInput={(e) => setBody(e.currentTarget.value)} aria-describedby={`${idp}-help`} />
      <p id={`${idp}-help`} class="muted">
        Variables: <code>{'{{visitor.name}}'}</code> (the verified visitor’s name; left out when unknown), <code>{'{{agent.name}}'}</code> (your name).
      </p>
      {body ? (
        <p class="muted preview" dir="auto">
          Preview: {fillVariables(body, { visitorName: 'Alex', agentName: 'Sam' })}
        </p>
      ) : null}
      <div class="row">
        <button type="submit" disabled={busy || !title.trim() || !body.trim()}>
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
  const list = useLoad(async () => {
    const r = await api<{ cannedReplies?: CannedReply[]; replies?: CannedReply[] }>('GET', '/canned-replies');
    return r.cannedReplies ?? r.replies ?? [];
  }, [api]);
  const [editing, setEditing] = useState<string | null>(null);
  const [adding, setAdding] = useState(0);
  const action = useAction();
  const canWrite = me.capabilities.includes('conversations:write');
  const save = (id: string | null, r: { title: string; body: string }) =>
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
      <p class="muted">Agents insert these from the conversation pane. The team shares one list.</p>
      <ProblemView problem={list.problem} />
      {list.data && !list.data.length ? <p class="muted">No canned reply yet.</p> : null}
      <ul class="list canned">
        {list.data?.map((c) =>
          editing === c.id ? (
            <li key={c.id}>
              <CannedForm initial={c} busy={action.busy} onSave={(r) => save(c.id, r)} onCancel={() => setEditing(null)} />
            </li>
          ) : (
            <li key={c.id}>
              <div class="canned-text">
                <strong dir="auto">{c.title}</strong>
                <p class="wrap" dir="auto">
                  {c.body}
                </p>
              </div>
              {canWrite ? (
                <span class="row">
                  <button type="button" class="secondary small" onClick={() => setEditing(c.id)} aria-label={`Edit ${c.title}`}>
                    Edit
                  </button>
                  <button type="button" class="danger small" onClick={() => remove(c)} aria-label={`Delete ${c.title}`}>
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
          <CannedForm key={adding} busy={action.busy} onSave={(r) => save(null, r)} />
        </>
      ) : null}
    </div>
  );
}
