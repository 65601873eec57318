// Actions: the calls the assistant may propose (actions:write). Each is an HTTPS endpoint of the tenant's,
// a JSON Schema of its inputs and a risk; the per-action signing secret is shown once, on create.
import type { Action, ActionRisk, AdminMe } from '@parley/protocol';
import { useState } from 'preact/hooks';
import type { Api } from '../api.js';
import { ProblemView, ScrollingTable, SecretOnce, useAction, useLoad } from '../components.js';

const RISKS: { value: ActionRisk; label: string }[] = [
  { value: 'read', label: 'read: runs at once, no approval' },
  { value: 'write', label: 'write: one person approves' },
  { value: 'sensitive', label: 'sensitive: an admin, or two people, approve' },
];
const EXAMPLE_SCHEMA = '{\n  "type": "object",\n  "properties": {\n    "orderId": { "type": "string" }\n  },\n  "required": ["orderId"]\n}';

interface Draft {
  name: string;
  description: string;
  schema: string;
  endpoint: string;
  risk: ActionRisk;
  hours: string;
}
const empty: Draft = { name: '', description: '', schema: EXAMPLE_SCHEMA, endpoint: '', risk: 'write', hours: '24' };
const draftOf = (a: Action): Draft => ({
  name: a.name,
  description: a.description,
  schema: JSON.stringify(a.inputSchema, null, 2),
  endpoint: a.endpoint,
  risk: a.risk,
  hours: String(a.expiresAfterSeconds / 3600),
});

/** The schema textarea as JSON, or why it is not a usable one. */
export function parseSchema(text: string): { ok: true; value: Record<string, unknown> } | { ok: false; error: string } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return { ok: false, error: `Not valid JSON: ${(err as Error).message}` };
  }
  if (!value || typeof value !== 'object' || Array.isArray(value) || (value as { type?: unknown }).type !== 'object')
    return { ok: false, error: 'Must be a JSON Schema object with "type": "object".' };
  return { ok: true, value: value as Record<string, unknown> };
}

function ActionForm({
  initial,
  editing,
  busy,
  onSubmit,
  onCancel,
}: {
  initial: Draft;
  editing: boolean;
  busy: boolean;
  onSubmit: (d: Draft, schema: Record<string, unknown>) => void;
  onCancel?: () => void;
}) {
  const [d, setD] = useState<Draft>(initial);
  const set = (k: keyof Draft) => (e: { currentTarget: { value: string } }) => setD({ ...d, [k]: e.currentTarget.value });
  const schema = parseSchema(d.schema);
  const p = editing ? 'edit-action' : 'action';
  return (
    <form
      class="card"
      onSubmit={(e) => {
        e.preventDefault();
        if (schema.ok) onSubmit(d, schema.value);
      }}
    >
      <h2>{editing ? `Edit ${initial.name}` : 'Add an action'}</h2>
      <label for={`${p}-name`}>Name (what the assistant calls it: lower case, digits, underscores)</label>
      <input
        id={`${p}-name`}
        required
        disabled={editing}
        pattern="[a-z][a-z0-9_]{0,63}"
        maxLength={64}
        dir="ltr"
        placeholder="refund_order"
        value={d.name}
        onInput={set('name')}
      />
      <label for={`${p}-description`}>Description (the assistant is told this)</label>
      <textarea id={`${p}-description`} required maxLength={1000} rows={2} value={d.description} onInput={set('description')} />
      <label for={`${p}-schema`}>Inputs (JSON Schema)</label>
      <textarea
        id={`${p}-schema`}
        class="mono"
        dir="ltr"
        rows={8}
        spellcheck={false}
        value={d.schema}
        onInput={set('schema')}
        aria-invalid={!schema.ok}
        aria-describedby={`${p}-schema-check`}
      />
      <p id={`${p}-schema-check`} class={schema.ok ? 'muted' : 'problem-text'} aria-live="polite">
        {schema.ok ? 'Valid JSON.' : schema.error}
      </p>
      <label for={`${p}-endpoint`}>Endpoint (https, a public host; Parley POSTs each approved call here, signed)</label>
      <input
        id={`${p}-endpoint`}
        type="url"
        required
        maxLength={2000}
        dir="ltr"
        placeholder="https://api.example.com/parley/actions/refund"
        value={d.endpoint}
        onInput={set('endpoint')}
      />
      <div class="row fields action-fields">
        <div>
          <label for={`${p}-risk`}>Risk</label>
          <select id={`${p}-risk`} value={d.risk} onChange={set('risk')}>
            {RISKS.map((r) => (
              <option key={r.value} value={r.value}>
                {r.label}
              </option>
            ))}
          </select>
        </div>
        <div>
          <label for={`${p}-hours`}>A proposal expires after (hours)</label>
          <input id={`${p}-hours`} type="number" min={1} max={720} step="any" required value={d.hours} onInput={set('hours')} />
        </div>
      </div>
      <div class="row">
        <button type="submit" disabled={!schema.ok} aria-disabled={busy}>
          {editing ? 'Save' : 'Add action'}
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

export function ActionsView({ api }: { api: Api; me: AdminMe }) {
  const list = useLoad(() => api<{ actions: Action[] }>('GET', '/actions'));
  const [secret, setSecret] = useState<{ label: string; value: string } | null>(null);
  const [editing, setEditing] = useState<Action | null>(null);
  const [formKey, setFormKey] = useState(0);
  const action = useAction();
  const body = (d: Draft, schema: Record<string, unknown>) => ({
    description: d.description.trim(),
    inputSchema: schema,
    endpoint: d.endpoint.trim(),
    risk: d.risk,
    expiresAfterSeconds: Math.round(Number(d.hours) * 3600),
  });
  const create = (d: Draft, schema: Record<string, unknown>) =>
    void action.run(async () => {
      const out = await api<{ action: Action; secret: string }>('POST', '/actions', { name: d.name.trim(), ...body(d, schema) });
      setSecret({ label: `Signing secret of ${out.action.name}`, value: out.secret });
      setFormKey((k) => k + 1);
      list.reload();
    });
  const save = (a: Action) => (d: Draft, schema: Record<string, unknown>) =>
    void action.run(async () => {
      await api('PATCH', `/actions/${a.id}`, body(d, schema));
      setEditing(null);
      list.reload();
    });
  const setEnabled = (a: Action, enabled: boolean) =>
    void action.run(async () => {
      await api('PATCH', `/actions/${a.id}`, { enabled });
      list.reload();
    });
  const remove = (a: Action) =>
    void action.run(async () => {
      if (!confirm(`Remove the action ${a.name}? The assistant can no longer propose it.`)) return;
      await api('DELETE', `/actions/${a.id}`);
      if (editing?.id === a.id) setEditing(null);
      list.reload();
    });

  return (
    <div>
      {secret ? (
        <>
          <SecretOnce label={secret.label} secret={secret.value} onDone={() => setSecret(null)} />
          <p class="muted">
            Parley signs each call it sends with this secret (Standard Webhooks headers). Check it in your endpoint with <code>verifyWebhook</code>{' '}
            from <code>@parley/node</code> before doing anything.
          </p>
        </>
      ) : null}
      <p class="muted">
        The assistant may propose calls of these actions. A call of a <code>write</code> or <code>sensitive</code> action waits on the Approvals page
        for a person; its arguments come from the conversation and are checked against the schema.
      </p>
      <ProblemView problem={list.problem} />
      {/* Focusable: on a phone the table scrolls sideways, also when it has no rows (and so no buttons). */}
      <ScrollingTable label="Actions">
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Endpoint</th>
            <th scope="col">Risk</th>
            <th scope="col">Expires after</th>
            <th scope="col">State</th>
            <th scope="col">
              <span class="sr-only">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {list.data?.actions.map((a) => (
            <tr key={a.id}>
              <td>
                <code dir="ltr">{a.name}</code>
                <div class="muted">{a.description}</div>
              </td>
              <td class="endpoint-url">
                <code dir="ltr">{a.endpoint}</code>
              </td>
              <td>
                <span class={`badge risk-${a.risk}`}>{a.risk}</span>
              </td>
              <td>
                <bdi>{a.expiresAfterSeconds % 3600 ? `${Math.round(a.expiresAfterSeconds / 60)} min` : `${a.expiresAfterSeconds / 3600} h`}</bdi>
              </td>
              <td>
                <span class={`badge ${a.enabled ? 'active' : 'disabled'}`}>{a.enabled ? 'enabled' : 'disabled'}</span>
              </td>
              <td class="actions">
                <button type="button" class="secondary" onClick={() => setEditing(a)} aria-label={`Edit ${a.name}`}>
                  Edit
                </button>
                <button
                  type="button"
                  class="secondary"
                  onClick={() => setEnabled(a, !a.enabled)}
                  aria-label={`${a.enabled ? 'Disable' : 'Enable'} ${a.name}`}
                >
                  {a.enabled ? 'Disable' : 'Enable'}
                </button>
                <button type="button" class="danger" onClick={() => remove(a)} aria-label={`Remove ${a.name}`}>
                  Remove
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </ScrollingTable>
      {list.data && !list.data.actions.length ? <p class="muted">No actions yet.</p> : null}
      <ProblemView problem={action.problem} />
      {editing ? (
        <ActionForm
          key={editing.id}
          initial={draftOf(editing)}
          editing
          busy={action.busy}
          onSubmit={save(editing)}
          onCancel={() => setEditing(null)}
        />
      ) : (
        <ActionForm key={`new-${formKey}`} initial={empty} editing={false} busy={action.busy} onSubmit={create} />
      )}
    </div>
  );
}
