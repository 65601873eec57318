// Secret API keys: create (the secret is shown once), rotate with a grace period, revoke.
import type { ApiKey, Capability } from '@parley/protocol';
import { CAPABILITIES } from '@parley/protocol/constants';
import { useState } from 'preact/hooks';
import type { Api } from '../api.js';
import { ProblemView, SecretOnce, useAction, useLoad, when, When } from '../components.js';

const GRACE = [
  { label: 'revoke the old key now', seconds: 0 },
  { label: 'one hour', seconds: 3600 },
  { label: 'one day', seconds: 86400 },
  { label: 'one week', seconds: 7 * 86400 },
];

export function KeysView({ api }: { api: Api }) {
  const list = useLoad(() => api<{ apiKeys: ApiKey[] }>('GET', '/api-keys'));
  const [name, setName] = useState('');
  const [caps, setCaps] = useState<Set<Capability>>(new Set(['handoffs:read', 'handoffs:write', 'conversations:read', 'conversations:write']));
  const [grace, setGrace] = useState(86400);
  const [secret, setSecret] = useState<{ label: string; value: string } | null>(null);
  const action = useAction();

  const toggle = (c: Capability) => {
    const next = new Set(caps);
    if (next.has(c)) next.delete(c);
    else next.add(c);
    setCaps(next);
  };
  const create = (e: Event) => {
    e.preventDefault();
    void action.run(async () => {
      const out = await api<{ apiKey: ApiKey; secret: string }>('POST', '/api-keys', { name: name.trim(), capabilities: [...caps] });
      setSecret({ label: `Secret of "${out.apiKey.name}"`, value: out.secret });
      setName('');
      list.reload();
    });
  };
  const rotate = (k: ApiKey) =>
    void action.run(async () => {
      const out = await api<{ apiKey: ApiKey; secret: string }>('POST', `/api-keys/${k.id}/rotate`, { graceSeconds: grace });
      setSecret({ label: `New secret of "${out.apiKey.name}"`, value: out.secret });
      list.reload();
    });
  const revoke = (k: ApiKey) =>
    void action.run(async () => {
      if (!confirm(`Revoke ${k.name} (${k.prefix}…)? Anything using it stops working at once.`)) return;
      await api('DELETE', `/api-keys/${k.id}`);
      list.reload();
    });

  return (
    <div>
      {secret ? <SecretOnce label={secret.label} secret={secret.value} onDone={() => setSecret(null)} /> : null}
      <ProblemView problem={list.problem} />
      <div class="row">
        <label for="grace">When rotating, keep the old key working for</label>
        <select id="grace" value={String(grace)} onChange={(e) => setGrace(Number(e.currentTarget.value))}>
          {GRACE.map((g) => (
            <option key={g.seconds} value={String(g.seconds)}>
              {g.label}
            </option>
          ))}
        </select>
      </div>
      <table>
        <caption class="sr-only">API keys</caption>
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Prefix</th>
            <th scope="col">Capabilities</th>
            <th scope="col">Last used</th>
            <th scope="col">State</th>
            <th scope="col">
              <span class="sr-only">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {list.data?.apiKeys.map((k) => {
            const ended = k.revokedAt && new Date(k.revokedAt) <= new Date();
            return (
              <tr key={k.id}>
                <td>{k.name}</td>
                <td>
                  <code>{k.prefix}…</code>
                </td>
                <td class="caps">{k.capabilities.join(', ')}</td>
                <td>
                  <When iso={k.lastUsedAt} />
                </td>
                <td>
                  {ended
                    ? `revoked ${when(k.revokedAt)}`
                    : k.revokedAt
                      ? `ends ${when(k.revokedAt)}`
                      : k.expiresAt
                        ? `expires ${when(k.expiresAt)}`
                        : 'active'}
                </td>
                <td class="actions">
                  {k.revokedAt ? null : (
                    <>
                      <button type="button" class="secondary" onClick={() => rotate(k)} aria-label={`Rotate ${k.name}`}>
                        Rotate
                      </button>
                      <button type="button" class="danger" onClick={() => revoke(k)} aria-label={`Revoke ${k.name}`}>
                        Revoke
                      </button>
                    </>
                  )}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
      <form onSubmit={create} class="card">
        <h2>Create a key</h2>
        <label for="key-name">Name</label>
        <input id="key-name" required maxLength={100} value={name} onInput={(e) => setName(e.currentTarget.value)} />
        <fieldset>
          <legend>Capabilities (a key can grant only what the signed-in key holds)</legend>
          <div class="caps-grid">
            {CAPABILITIES.map((c) => (
              <label key={c} class="check">
                <input type="checkbox" checked={caps.has(c)} onChange={() => toggle(c)} /> <code>{c}</code>
              </label>
            ))}
          </div>
        </fieldset>
        <button type="submit" disabled={action.busy || !name.trim() || !caps.size}>
          Create key
        </button>
      </form>
      <ProblemView problem={action.problem} />
    </div>
  );
}
