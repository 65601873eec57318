// Accepting an invitation (`/console/#invite=<token>`): who invited you to what, then your name and a
// password (unless the team signs in only with SSO). The answer is a sign-in status, handled by the caller.
import type { Role, SignIn } from '@parley/protocol';
import { useEffect, useRef, useState } from 'preact/hooks';
import type { Api } from './api.js';
import { FieldError, fieldError, ProblemView, useAction, useLoad, When } from './components.js';

interface Preview {
  email: string;
  role: Role;
  tenant: { id: string; name: string };
  expiresAt: string;
  ssoOnly: boolean;
}

/** The fields whose errors the form shows beside them. */
const FIELDS = ['/displayName', '/password'];

export function InvitePage({ auth, token, onResult }: { auth: Api; token: string; onResult: (r: SignIn, email: string) => void }) {
  const preview = useLoad(() => auth<Preview>('POST', '/invites/preview', { token }), [token]);
  const [displayName, setDisplayName] = useState('');
  const [password, setPassword] = useState('');
  const action = useAction();
  const heading = useRef<HTMLHeadingElement>(null);
  const form = useRef<HTMLFormElement>(null);
  useEffect(() => heading.current?.focus(), [preview.data]);
  const p = preview.data;
  const submit = (e: Event) => {
    e.preventDefault();
    void action.run(async () => {
      const r = await auth<SignIn>('POST', '/invites/accept', { token, displayName: displayName.trim(), ...(p?.ssoOnly ? {} : { password }) });
      setPassword('');
      onResult(r, p!.email);
    });
  };
  const nameError = fieldError(action.problem, '/displayName');
  const passwordError = fieldError(action.problem, '/password');
  return (
    <main class="signin">
      <h1 tabIndex={-1} ref={heading}>
        {p ? `Join ${p.tenant.name}` : 'Invitation'}
      </h1>
      <ProblemView problem={preview.problem} />
      {!p && !preview.problem ? <p class="muted">Checking the invitation…</p> : null}
      {p ? (
        <>
          <p>
            You are invited as <strong>{p.role}</strong> with the email <strong>{p.email}</strong>. The invitation is valid until{' '}
            <When iso={p.expiresAt} />.
          </p>
          <form onSubmit={submit} class="card" noValidate ref={form}>
            <label for="invite-name">Your name</label>
            <input
              id="invite-name"
              autoComplete="name"
              maxLength={100}
              value={displayName}
              onInput={(e) => setDisplayName(e.currentTarget.value)}
              required
              aria-invalid={nameError ? 'true' : undefined}
              aria-describedby={nameError ? 'invite-name-error' : undefined}
            />
            <FieldError id="invite-name-error" message={nameError} />
            {p.ssoOnly ? (
              <p class="muted">{p.tenant.name} signs in with single sign-on: you choose no password here.</p>
            ) : (
              <>
                <input type="email" autoComplete="username" value={p.email} readOnly hidden />
                <label for="invite-password">Password</label>
                <input
                  id="invite-password"
                  type="password"
                  autoComplete="new-password"
                  maxLength={256}
                  value={password}
                  onInput={(e) => setPassword(e.currentTarget.value)}
                  required
                  aria-invalid={passwordError ? 'true' : undefined}
                  aria-describedby={`invite-password-rules${passwordError ? ' invite-password-error' : ''}`}
                />
                <p id="invite-password-rules" class="muted">
                  At least 12 characters. Not a common or breached password, and not your email or name. A passphrase of a few words works well.
                </p>
                <FieldError id="invite-password-error" message={passwordError} />
              </>
            )}
            <button type="submit" disabled={!displayName.trim() || (!p.ssoOnly && !password)} aria-disabled={action.busy}>
              Join {p.tenant.name}
            </button>
          </form>
          <ProblemView problem={action.problem} inline={FIELDS} form={form} />
        </>
      ) : null}
    </main>
  );
}
