// Secret API keys: create (the secret is shown once), rotate with a grace period, revoke. A tenant may
// require a second admin's approval for a privileged key (keys:write, pii:reveal, privacy:export or
// privacy:erase): creating one then waits on the approval rail (useGated), as does rotating one, and the
// secret is shown once the requester finishes it.
// A key is worth no more than its maker is now: what their role lacks is shown held back.
import type { ApiKey, Capability } from '@parley/protocol';
import { CAPABILITIES } from '@parley/protocol/constants';
import { useEffect, useRef, useState } from 'preact/hooks';
import type { Api } from '../api.js';
import { ProblemView, ScrollingTable, SecretOnce, useAction, useLoad, When } from '../components.js';
import { GatedStatus, useGated } from '../gated.js';

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
  const created = useGated<{ apiKey: ApiKey; secret: string }>(api, (out) => {
    setSecret({ label: `Secret of "${out.apiKey.name}"`, value: out.secret });
    setName('');
    list.reload();
  });
  // Rotating a privileged key waits for approval as creating one does.
  const rotated = useGated<{ apiKey: ApiKey; secret: string }>(api, (out) => {
    setSecret({ label: `New secret of "${out.apiKey.name}"`, value: out.secret });
    list.reload();
  });
  const pending = (g: typeof created) => g.gate.step === 'waiting' || g.gate.step === 'approved';
  const waiting = pending(created);
  // A new secret takes the focus (and is selected, ready to copy): it appears at the top, away from the
  // button that was pressed, which may itself be gone (an approved request's Finish).
  const secretBox = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (secret) secretBox.current?.querySelector('input')?.focus();
  }, [secret]);

  const toggle = (c: Capability) => {
    const next = new Set(caps);
    if (next.has(c)) next.delete(c);
    else next.add(c);
    setCaps(next);
  };
  const create = (e: Event) => {
    e.preventDefault();
    void created.send('POST', '/api-keys', { name: name.trim(), capabilities: [...caps] });
  };
  const rotate = (k: ApiKey) => void rotated.send('POST', `/api-keys/${k.id}/rotate`, { graceSeconds: grace });
  const revoke = (k: ApiKey) =>
    void action.run(async () => {
      if (!confirm(`Revoke ${k.name} (${k.prefix}…)? Anything using it stops working at once.`)) return;
      await api('DELETE', `/api-keys/${k.id}`);
      list.reload();
    });

  return (
    <div class="keys">
      <div ref={secretBox}>{secret ? <SecretOnce label={secret.label} secret={secret.value} onDone={() => setSecret(null)} /> : null}</div>
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
      <GatedStatus gated={rotated} />
      <ProblemView problem={rotated.problem} />
      <ScrollingTable label="API keys">
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Prefix</th>
            <th scope="col">Capabilities</th>
            <th scope="col">Made by</th>
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
                <td class="caps">
                  {k.capabilities.filter((c) => !k.heldBack.includes(c)).join(', ')}
                  {k.madeBy && k.heldBack.length ? (
                    <div class="held">
                      {k.madeBy.status === 'disabled' ? 'Paused' : 'Held back'} while {k.madeBy.displayName} is{' '}
                      {k.madeBy.status === 'disabled' ? 'disabled' : `an ${k.madeBy.role}`}: <del>{k.heldBack.join(', ')}</del>
                    </div>
                  ) : null}
                </td>
                <td>{k.madeBy ? `${k.madeBy.displayName} (${k.madeBy.role})` : <span class="muted">command line</span>}</td>
                <td>
                  <When iso={k.lastUsedAt} />
                </td>
                <td>
                  {ended ? (
                    <>
                      revoked <When iso={k.revokedAt} />
                    </>
                  ) : k.revokedAt ? (
                    <>
                      ends <When iso={k.revokedAt} />
                    </>
                  ) : k.expiresAt ? (
                    <>
                      expires <When iso={k.expiresAt} />
                    </>
                  ) : (
                    'active'
                  )}
                </td>
                <td class="actions">
                  {k.revokedAt ? null : (
                    <>
                      <button
                        type="button"
                        class="secondary"
                        disabled={pending(rotated)}
                        aria-disabled={rotated.busy}
                        onClick={() => rotate(k)}
                        aria-label={`Rotate ${k.name}`}
                      >
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
      </ScrollingTable>
      <form onSubmit={create} class="card">
        <h2>Create a key</h2>
        <label for="key-name">Name</label>
        <input id="key-name" required maxLength={100} value={name} disabled={waiting} onInput={(e) => setName(e.currentTarget.value)} />
        <fieldset disabled={waiting}>
          <legend>Capabilities (a new key can hold only capabilities you hold yourself)</legend>
          <div class="caps-grid">
            {CAPABILITIES.map((c) => (
              <label key={c} class="check">
                <input type="checkbox" checked={caps.has(c)} onChange={() => toggle(c)} /> <code>{c}</code>
              </label>
            ))}
          </div>
        </fieldset>
        <button type="submit" disabled={waiting || !name.trim() || !caps.size} aria-disabled={created.busy}>
          Create key
        </button>
        <GatedStatus gated={created} />
        <ProblemView problem={created.problem} />
      </form>
      <ProblemView problem={action.problem} />
    </div>
  );
}
