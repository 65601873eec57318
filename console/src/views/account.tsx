// My account, for every member: where I am signed in (ending other sessions), my second factors — an
// authenticator app (TOTP), passkeys, recovery codes — and my password.
import type { MyMfa, Session } from '@parley/protocol';
import { useState } from 'preact/hooks';
import { unwrap } from '../api.js';
import type { ViewProps } from '../app.js';
import { ProblemView, ScrollingTable, useAction, useLoad, When } from '../components.js';
import { RecoveryCodes, TotpSecret } from '../signin.js';
import { optionsOf, webauthn } from '../webauthn.js';

const METHODS: Record<string, string> = { password: 'password', oidc: 'SSO (OIDC)', saml: 'SSO (SAML)', passkey: 'passkey', invite: 'invitation' };

/** A user agent string shortened to the browser and system people recognise. */
export function describeAgent(ua: string | null): string {
  if (!ua) return 'Unknown browser';
  const browser = /Edg\//.test(ua)
    ? 'Edge'
    : /Firefox\//.test(ua)
      ? 'Firefox'
      : /Chrome\//.test(ua)
        ? 'Chrome'
        : /Safari\//.test(ua)
          ? 'Safari'
          : null;
  const os = /Windows/.test(ua)
    ? 'Windows'
    : /Android/.test(ua)
      ? 'Android'
      : /iPhone|iPad/.test(ua)
        ? 'iOS'
        : /Mac OS X/.test(ua)
          ? 'macOS'
          : /Linux/.test(ua)
            ? 'Linux'
            : null;
  return browser || os ? [browser, os].filter(Boolean).join(' on ') : ua.slice(0, 60);
}

function Sessions({ api }: ViewProps) {
  const list = useLoad(() => api<{ sessions: Session[] }>('GET', '/me/sessions'));
  const action = useAction();
  const others = list.data?.sessions.filter((s) => !s.current) ?? [];
  const revoke = (ids: string[]) =>
    void action.run(async () => {
      for (const id of ids) await api('DELETE', `/me/sessions/${id}`);
      list.reload();
    });
  return (
    <section aria-labelledby="sessions-title">
      <h2 id="sessions-title">Where you are signed in</h2>
      <ProblemView problem={list.problem} />
      {list.data ? (
        <ScrollingTable label="Sessions">
          <thead>
            <tr>
              <th>Browser</th>
              <th>Signed in</th>
              <th>Last active</th>
              <th>Ends</th>
              <th>
                <span class="sr-only">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {list.data.sessions.map((s) => (
              <tr key={s.id} aria-current={s.current ? 'true' : undefined}>
                <td>
                  {describeAgent(s.userAgent)} {s.current ? <span class="badge assigned">this session</span> : null}
                </td>
                <td>
                  <When iso={s.createdAt} /> <span class="muted">with {METHODS[s.method] ?? s.method}</span>
                </td>
                <td>
                  <When iso={s.lastSeenAt} />
                </td>
                <td>
                  <When iso={s.expiresAt} />
                </td>
                <td class="actions">
                  {s.current ? null : (
                    <button type="button" class="small secondary" aria-disabled={action.busy} onClick={() => revoke([s.id])}>
                      Sign out
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </ScrollingTable>
      ) : null}
      {others.length > 1 ? (
        <button type="button" class="secondary" aria-disabled={action.busy} onClick={() => revoke(others.map((s) => s.id))}>
          Sign out all other sessions
        </button>
      ) : null}
      <ProblemView problem={action.problem} />
    </section>
  );
}

function Mfa({ api }: ViewProps) {
  const mfa = useLoad(async () => unwrap<MyMfa>(await api('GET', '/me/mfa'), 'mfa'));
  const action = useAction();
  const [totp, setTotp] = useState<{ secret: string; otpauthUri: string } | null>(null);
  const [code, setCode] = useState('');
  const [removing, setRemoving] = useState(false);
  const [passkeyName, setPasskeyName] = useState('');
  const [codes, setCodes] = useState<string[] | null>(null);
  const afterEnrol = (r: unknown) => {
    const fresh = (r as { recoveryCodes?: string[] } | null)?.recoveryCodes;
    if (fresh?.length) setCodes(fresh);
    mfa.reload();
  };
  const startTotp = () => void action.run(async () => setTotp(await api<{ secret: string; otpauthUri: string }>('POST', '/me/mfa/totp', {})));
  const confirmTotp = (e: Event) => {
    e.preventDefault();
    void action.run(async () => {
      const r = await api('POST', '/me/mfa/totp/confirm', { code: code.trim() });
      setTotp(null);
      setCode('');
      afterEnrol(r);
    });
  };
  const removeTotp = (e: Event) => {
    e.preventDefault();
    void action.run(async () => {
      await api('DELETE', '/me/mfa/totp', { code: code.trim() });
      setRemoving(false);
      setCode('');
      mfa.reload();
    });
  };
  const addPasskey = (e: Event) => {
    e.preventDefault();
    void action.run(async () => {
      const options = optionsOf(await api('POST', '/me/mfa/passkeys/options', {}));
      const response = await webauthn.register(options);
      const r = await api('POST', '/me/mfa/passkeys', { response, ...(passkeyName.trim() ? { name: passkeyName.trim() } : {}) });
      setPasskeyName('');
      afterEnrol(r);
    });
  };
  const removePasskey = (id: string, name: string) => {
    if (!confirm(`Remove the passkey “${name}”? It will no longer sign you in.`)) return;
    void action.run(async () => {
      await api('DELETE', `/me/mfa/passkeys/${id}`);
      mfa.reload();
    });
  };
  const regenerate = () => {
    if (!confirm('Generate new recovery codes? The codes you have now stop working.')) return;
    void action.run(async () => {
      setCodes(unwrap<string[]>(await api('POST', '/me/mfa/recovery-codes', {}), 'recoveryCodes'));
      mfa.reload();
    });
  };
  const m = mfa.data;
  const codeInput = (id: string, label: string) => (
    <>
      <label for={id}>{label}</label>
      <input
        id={id}
        class="mono"
        dir="ltr"
        inputMode="numeric"
        autoComplete="one-time-code"
        pattern="[0-9]{6}"
        maxLength={6}
        value={code}
        onInput={(e) => setCode(e.currentTarget.value)}
        required
      />
    </>
  );
  return (
    <section aria-labelledby="mfa-title">
      <h2 id="mfa-title">Two-factor authentication</h2>
      <ProblemView problem={mfa.problem} />
      {codes ? <RecoveryCodes codes={codes} onDone={() => setCodes(null)} /> : null}
      {m ? (
        <>
          {m.required ? <p class="notice">Your team requires a second factor: keep at least one.</p> : null}
          <div class="card">
            <h3>Authenticator app</h3>
            {m.totp ? (
              <>
                <p>
                  <span class="badge ok-badge">On</span> Codes from your authenticator app are accepted.
                </p>
                {removing ? (
                  <form onSubmit={removeTotp}>
                    {codeInput('totp-remove-code', 'A current code, to confirm')}
                    <div class="row">
                      <button type="submit" class="danger" aria-disabled={action.busy}>
                        Remove the authenticator app
                      </button>
                      <button type="button" class="secondary" onClick={() => (setRemoving(false), setCode(''))}>
                        Cancel
                      </button>
                    </div>
                  </form>
                ) : (
                  <button type="button" class="danger" onClick={() => setRemoving(true)}>
                    Remove…
                  </button>
                )}
              </>
            ) : totp ? (
              <>
                <TotpSecret secret={totp.secret} otpauthUri={totp.otpauthUri} />
                <form onSubmit={confirmTotp}>
                  {codeInput('totp-confirm-code', 'The code the app shows (6 digits)')}
                  <button type="submit" aria-disabled={action.busy}>
                    Turn on
                  </button>
                </form>
              </>
            ) : (
              <button type="button" aria-disabled={action.busy} onClick={startTotp}>
                Set up an authenticator app
              </button>
            )}
          </div>
          <div class="card">
            <h3>Passkeys</h3>
            {m.passkeys.length ? (
              <ul class="list">
                {m.passkeys.map((p) => (
                  <li key={p.id}>
                    <span>{p.name}</span>
                    <span class="muted">
                      added <When iso={p.createdAt} />, last used <When iso={p.lastUsedAt} />
                    </span>
                    <button type="button" class="small danger" aria-disabled={action.busy} onClick={() => removePasskey(p.id, p.name)}>
                      Remove
                    </button>
                  </li>
                ))}
              </ul>
            ) : (
              <p class="muted">No passkey yet.</p>
            )}
            <form onSubmit={addPasskey}>
              <label for="passkey-name">Name for a new passkey</label>
              <input
                id="passkey-name"
                maxLength={60}
                placeholder="e.g. Work laptop"
                value={passkeyName}
                onInput={(e) => setPasskeyName(e.currentTarget.value)}
              />
              <button type="submit" aria-disabled={action.busy}>
                Add a passkey
              </button>
            </form>
          </div>
          <div class="card">
            <h3>Recovery codes</h3>
            <p>
              {!m.totp && !m.passkeys.length
                ? 'You get recovery codes when you add an authenticator app or a passkey: each signs you in once if you lose it.'
                : m.recoveryCodesLeft === 1
                  ? '1 unused code left.'
                  : `${m.recoveryCodesLeft} unused codes left.`}
            </p>
            <button type="button" class="secondary" disabled={!m.totp && !m.passkeys.length} aria-disabled={action.busy} onClick={regenerate}>
              Generate new recovery codes
            </button>
          </div>
        </>
      ) : null}
      <ProblemView problem={action.problem} />
    </section>
  );
}

/** Changing one's own password: the current one, then a new one; other sessions end. */
function Password({ api }: ViewProps) {
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [done, setDone] = useState<number | null>(null);
  const action = useAction();
  const submit = (e: Event) => {
    e.preventDefault();
    void action.run(async () => {
      const r = await api<{ otherSessionsEnded: number }>('POST', '/me/password', { currentPassword: current, newPassword: next });
      setCurrent('');
      setNext('');
      setDone(r.otherSessionsEnded);
    });
  };
  return (
    <section aria-labelledby="password-title">
      <h2 id="password-title">Password</h2>
      <form class="card" onSubmit={submit}>
        <label for="current-password">Current password</label>
        <input
          id="current-password"
          type="password"
          autoComplete="current-password"
          value={current}
          onInput={(e) => setCurrent(e.currentTarget.value)}
          required
        />
        <label for="new-password">New password</label>
        <input
          id="new-password"
          type="password"
          autoComplete="new-password"
          value={next}
          onInput={(e) => setNext(e.currentTarget.value)}
          required
          aria-describedby="new-password-help"
        />
        <p id="new-password-help" class="muted">
          At least 12 characters; not a common password, and not built from your name or email. Your other sessions end.
        </p>
        <button type="submit" aria-disabled={action.busy}>
          Change password
        </button>
      </form>
      <ProblemView problem={action.problem} />
      {done !== null ? <p role="status">Password changed. {done === 1 ? '1 other session was' : `${done} other sessions were`} signed out.</p> : null}
    </section>
  );
}

export function AccountView(props: ViewProps) {
  const member = props.me.member;
  return (
    <div class="account">
      {member ? (
        <p>
          {member.displayName} · <span class="mono">{member.email}</span> · {member.role} in {props.me.tenant.name}
        </p>
      ) : null}
      <Sessions {...props} />
      <Mfa {...props} />
      <Password {...props} />
    </div>
  );
}
