// Sign-In Pro: the tenant id tokens are signed for, the mode, public keys (preferred: the private key never
// leaves you) and shared secrets. A tenant may require a second admin's approval to change what Sign-In Pro
// trusts (the mode, a key or JWKS URL added, a new secret): saving or creating a secret then waits on the
// approval rail (useGated) and runs when the requester finishes it; the new secret is shown then, once.
// Revoking a secret never waits.
import type { IdentitySettingsResponse as Identity } from '@parley/protocol';
import { useEffect, useState } from 'preact/hooks';
import { toProblem, type Api } from '../api.js';
import { ProblemView, SecretOnce, useAction, useLoad, When } from '../components.js';
import { GatedStatus, useGated } from '../gated.js';

export function IdentityView({ api }: { api: Api }) {
  const s = useLoad(() => api<Identity>('GET', '/identity'));
  const [mode, setMode] = useState<Identity['mode']>('optional');
  const [keys, setKeys] = useState('[]');
  const [jwksUrl, setJwksUrl] = useState('');
  const [secret, setSecret] = useState<string | null>(null);
  const [saved, setSaved] = useState(false);
  const action = useAction();
  const saving = useGated(api, () => {
    setSaved(true);
    s.reload();
  });
  const waiting = saving.gate.step === 'waiting' || saving.gate.step === 'approved';
  const creating = useGated<{ secret: string }>(api, (out) => {
    setSecret(out.secret);
    s.reload();
  });
  const creatingWaits = creating.gate.step === 'waiting' || creating.gate.step === 'approved';
  useEffect(() => {
    if (!s.data) return;
    setMode(s.data.mode);
    setKeys(JSON.stringify(s.data.publicKeys, null, 2));
    setJwksUrl(s.data.jwksUrl ?? '');
  }, [s.data]);

  const save = (e: Event) => {
    e.preventDefault();
    setSaved(false);
    action.setProblem(null);
    let publicKeys: unknown;
    try {
      publicKeys = JSON.parse(keys || '[]');
    } catch {
      action.setProblem(toProblem(new Error('Public keys must be a JSON array of JWKs.')));
      return;
    }
    void saving.send('PUT', '/identity', { mode, publicKeys, ...(jwksUrl.trim() ? { jwksUrl: jwksUrl.trim() } : {}) });
  };
  // While one runs or waits for approval the button says so (aria-disabled, keeping the focus) and does nothing.
  const createSecret = () => {
    if (!creating.busy && !creatingWaits) void creating.send('POST', '/identity/secrets');
  };
  const revoke = (id: string, kid: string) =>
    void action.run(async () => {
      if (!confirm(`Revoke the secret ${kid}? Sessions signed with it are refused from now on.`)) return;
      await api('DELETE', `/identity/secrets/${id}`);
      s.reload();
    });

  return (
    <div>
      <p>
        Your backend signs the logged-in user's session with <code>signUserSession</code> from <code>@parley/node</code>. Prefer a key pair: register
        the public key here and keep the private key on your server.
      </p>
      <ProblemView problem={s.problem} />
      {s.data ? (
        <section class="card" aria-labelledby="sign-for-title">
          <h2 id="sign-for-title">Sign for this workspace</h2>
          <p class="muted">
            Tokens name the workspace they are for, so another workspace that registers the same key refuses them. Pass the tenant id as{' '}
            <code>tenant</code> to <code>signUserSession</code> (required with a private key), or sign the audience with any JWT library.
          </p>
          <dl class="registered">
            <div>
              <dt>Tenant id</dt>
              <dd>
                <code dir="ltr">{s.data.tenantId}</code>
              </dd>
            </div>
            <div>
              <dt>Token audience (aud)</dt>
              <dd>
                <code dir="ltr">{s.data.audience}</code>
              </dd>
            </div>
          </dl>
        </section>
      ) : null}
      <form onSubmit={save} class="card">
        <fieldset disabled={waiting}>
          <legend>Mode</legend>
          <label class="check">
            <input type="radio" name="mode" value="optional" checked={mode === 'optional'} onChange={() => setMode('optional')} /> Optional: anonymous
            visitors can chat too
          </label>
          <label class="check">
            <input type="radio" name="mode" value="required" checked={mode === 'required'} onChange={() => setMode('required')} /> Required: only
            signed-in users
          </label>
        </fieldset>
        <label for="public-keys">Public keys (JSON array of JWKs: OKP, EC or RSA; never a private key)</label>
        <textarea id="public-keys" class="mono" rows={8} value={keys} disabled={waiting} onInput={(e) => setKeys(e.currentTarget.value)} />
        <label for="jwks-url">Or a JWKS URL</label>
        <input
          id="jwks-url"
          type="url"
          value={jwksUrl}
          disabled={waiting}
          onInput={(e) => setJwksUrl(e.currentTarget.value)}
          placeholder="https://example.com/.well-known/jwks.json"
        />
        <button type="submit" disabled={waiting} aria-disabled={saving.busy}>
          Save
        </button>
        <span class="muted" aria-live="polite">
          {saved ? ' Saved.' : ''}
        </span>
        <GatedStatus gated={saving} />
        <ProblemView problem={saving.problem} />
      </form>
      <section class="card" aria-labelledby="secrets-title">
        <h2 id="secrets-title">Shared secrets</h2>
        <p class="muted">For backends that cannot hold a key pair. Anyone with the secret can sign sessions.</p>
        {secret ? <SecretOnce label="New Sign-In Pro secret" secret={secret} onDone={() => setSecret(null)} /> : null}
        <ul class="list">
          {s.data?.secrets.map((x) => (
            <li key={x.id}>
              <code>{x.kid}</code> created <When iso={x.createdAt} />{' '}
              {x.revokedAt ? (
                <>
                  · revoked <When iso={x.revokedAt} />
                </>
              ) : null}
              {x.revokedAt ? null : (
                <button type="button" class="danger" onClick={() => revoke(x.id, x.kid)} aria-label={`Revoke secret ${x.kid}`}>
                  Revoke
                </button>
              )}
            </li>
          ))}
        </ul>
        <button type="button" class="secondary" onClick={createSecret} aria-disabled={creating.busy || creatingWaits}>
          Create a secret
        </button>
        <GatedStatus gated={creating} />
        <ProblemView problem={creating.problem} />
      </section>
      <ProblemView problem={action.problem} />
    </div>
  );
}
