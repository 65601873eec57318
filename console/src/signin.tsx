// Signing in: email and password, single sign-on, or a passkey; then, as the tenant's policy asks, a
// second factor or enrolling one. Every step is a same-origin POST to /v1/auth; the server answers with a
// SignIn status and keeps the step in an HttpOnly cookie, so nothing here is a credential to keep.
import type { MfaMethod, SignIn } from '@parley/protocol';
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import type { Api } from './api.js';
import { ProblemView, useAction } from './components.js';
import { qrMatrix, qrPath } from './qr.js';
import { ssoErrorMessage } from './session.js';
import { optionsOf, webauthn } from './webauthn.js';

/** On the sign-in page a 401 is a password or code that was not accepted. */
const SIGN_IN_HEADINGS = { unauthenticated: 'Sign-in failed' } as const;

type Tenant = { id: string; name: string };
type Step =
  | { kind: 'password' }
  | { kind: 'sso'; note?: string }
  | { kind: 'choose_tenant'; tenants: Tenant[]; password: string }
  | { kind: 'mfa'; methods: MfaMethod[] }
  | { kind: 'enrol'; methods: ('totp' | 'passkey')[] }
  | { kind: 'enrol_totp'; secret: string; otpauthUri: string }
  | { kind: 'recovery'; codes: string[]; next: SignIn | null };

export interface SignInStart {
  /** A refusal reason from `?sso_error=`. */
  ssoError?: string | null;
  /** Arrived at `#mfa` after SSO: the step cookie is set; which methods apply is the server's to say. */
  mfa?: boolean;
  /** A sign-in answer obtained elsewhere (accepting an invitation). */
  result?: SignIn;
  email?: string;
  notice?: string;
}

const TITLES: Record<Step['kind'], string> = {
  password: 'Sign in to Parley',
  sso: 'Sign in with SSO',
  choose_tenant: 'Choose a team',
  mfa: 'Confirm it is you',
  enrol: 'Set up a second factor',
  enrol_totp: 'Set up an authenticator app',
  recovery: 'Save your recovery codes',
};
const METHOD_LABELS: Record<MfaMethod, string> = { totp: 'Authenticator app code', passkey: 'Passkey', recovery_code: 'Recovery code' };

/** A TOTP secret as people type it: groups of four. */
export const groupSecret = (secret: string): string => (secret.match(/.{1,4}/g) ?? []).join(' ');

/**
 * The identity provider's address, only if it is one a browser loads as a page (http or https): never a
 * javascript: or data: URL, whatever the server hands back.
 */
export function webAddress(url: string): string {
  let protocol = '';
  try {
    protocol = new URL(url).protocol;
  } catch {}
  if (protocol !== 'https:' && protocol !== 'http:')
    throw new Error('The single sign-on address is not a web address, so it was not opened. Ask your administrator to check the SSO settings.');
  return url;
}

function firstStep(start: SignInStart): Step {
  if (start.mfa) return { kind: 'mfa', methods: ['totp', 'passkey', 'recovery_code'] };
  return { kind: 'password' };
}

export function SignInPage({
  auth,
  onSignedIn,
  start = {},
  navigate = (url) => location.assign(url),
}: {
  auth: Api;
  onSignedIn: () => void;
  start?: SignInStart;
  navigate?: (url: string) => void;
}) {
  const [step, setStep] = useState<Step>(() => firstStep(start));
  const [email, setEmail] = useState(start.email ?? '');
  const [password, setPassword] = useState('');
  const [code, setCode] = useState('');
  const [method, setMethod] = useState<MfaMethod>('totp');
  const action = useAction();
  const heading = useRef<HTMLHeadingElement>(null);

  const handle = (r: SignIn) => {
    setCode('');
    switch (r.status) {
      case 'signed_in':
        setPassword('');
        onSignedIn();
        return;
      case 'choose_tenant':
        setStep({ kind: 'choose_tenant', tenants: r.tenants, password });
        return;
      case 'mfa_required':
        setPassword('');
        setMethod(r.methods.includes('totp') ? 'totp' : (r.methods[0] ?? 'totp'));
        setStep({ kind: 'mfa', methods: r.methods });
        return;
      case 'mfa_enrolment_required':
        setPassword('');
        setStep({ kind: 'enrol', methods: r.methods });
        return;
      case 'sso_required':
        setPassword('');
        setStep({ kind: 'sso', note: `${r.tenant.name} signs in with single sign-on. Continue with your organisation’s sign-in.` });
        return;
    }
  };
  // An answer from elsewhere (an accepted invitation) continues here.
  useEffect(() => {
    if (start.result) handle(start.result);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);
  // Each new step moves focus to its heading.
  const first = useRef(true);
  useEffect(() => {
    if (first.current && !start.result && !start.mfa) {
      first.current = false;
      return;
    }
    first.current = false;
    heading.current?.focus();
  }, [step]);

  /** An enrolment answer: recovery codes to show once, then (if present) where sign-in stands. */
  const enrolled = (r: unknown) => {
    const codes = (r as { recoveryCodes?: string[] } | null)?.recoveryCodes;
    const next = r && typeof r === 'object' && 'status' in r ? (r as SignIn) : null;
    if (codes?.length) setStep({ kind: 'recovery', codes, next });
    else if (next) handle(next);
    else onSignedIn();
  };

  const submitPassword = (e: Event, tenantId?: string) => {
    e.preventDefault();
    const pw = step.kind === 'choose_tenant' ? step.password : password;
    void action.run(async () =>
      handle(await auth<SignIn>('POST', '/password', { email: email.trim(), password: pw, ...(tenantId ? { tenantId } : {}) })),
    );
  };
  const startSso = (e: Event) => {
    e.preventDefault();
    void action.run(async () =>
      navigate(webAddress((await auth<{ redirectUrl: string }>('POST', '/sso/start', { email: email.trim() })).redirectUrl)),
    );
  };
  const passkeySignIn = () =>
    void action.run(async () => {
      const options = optionsOf(await auth('POST', '/passkey/options', {}));
      handle(await auth<SignIn>('POST', '/passkey', { response: await webauthn.authenticate(options) }));
    });
  const submitMfa = (e: Event) => {
    e.preventDefault();
    void action.run(async () => {
      if (method === 'passkey') {
        const options = optionsOf(await auth('POST', '/mfa/passkey/options', {}));
        handle(await auth<SignIn>('POST', '/mfa/passkey', { response: await webauthn.authenticate(options) }));
      } else {
        handle(await auth<SignIn>('POST', method === 'totp' ? '/mfa/totp' : '/mfa/recovery', { code: code.trim() }));
      }
    });
  };
  const enrolTotp = () =>
    void action.run(async () => {
      const r = await auth<{ secret: string; otpauthUri: string }>('POST', '/mfa/enrol/totp', {});
      setStep({ kind: 'enrol_totp', secret: r.secret, otpauthUri: r.otpauthUri });
    });
  const confirmTotp = (e: Event) => {
    e.preventDefault();
    void action.run(async () => enrolled(await auth('POST', '/mfa/enrol/totp/confirm', { code: code.trim() })));
  };
  const enrolPasskey = () =>
    void action.run(async () => {
      const options = optionsOf(await auth('POST', '/mfa/enrol/passkey/options', {}));
      enrolled(await auth('POST', '/mfa/enrol/passkey', { response: await webauthn.register(options) }));
    });
  const back = () => {
    action.setProblem(null);
    setStep({ kind: 'password' });
  };

  const codeField = (id: string, label: string, digits: boolean) => (
    <>
      <label for={id}>{label}</label>
      <input
        id={id}
        class="mono"
        dir="ltr"
        value={code}
        onInput={(e) => setCode(e.currentTarget.value)}
        autoComplete="one-time-code"
        {...(digits ? { inputMode: 'numeric', pattern: '[0-9]{6}', maxLength: 6 } : { maxLength: 40 })}
        spellcheck={false}
        required
      />
    </>
  );

  return (
    <main class="signin">
      <h1 tabIndex={-1} ref={heading}>
        {TITLES[step.kind]}
      </h1>
      {start.notice && step.kind === 'password' ? (
        <p class="notice" role="status">
          {start.notice}
        </p>
      ) : null}
      {start.ssoError && (step.kind === 'password' || step.kind === 'sso') ? (
        <div class="problem" role="alert">
          <strong>Single sign-on did not complete.</strong>
          <p>{ssoErrorMessage(start.ssoError)}</p>
        </div>
      ) : null}

      {step.kind === 'password' ? (
        <>
          <form onSubmit={(e) => submitPassword(e)} class="card">
            <label for="signin-email">Email</label>
            <input id="signin-email" type="email" autoComplete="username" value={email} onInput={(e) => setEmail(e.currentTarget.value)} required />
            <label for="signin-password">Password</label>
            <input
              id="signin-password"
              type="password"
              autoComplete="current-password"
              value={password}
              onInput={(e) => setPassword(e.currentTarget.value)}
              required
            />
            <button type="submit" aria-disabled={action.busy}>
              Sign in
            </button>
          </form>
          <ProblemView problem={action.problem} headings={SIGN_IN_HEADINGS} />
          <div class="row">
            <button type="button" class="secondary" onClick={() => (action.setProblem(null), setStep({ kind: 'sso' }))}>
              Sign in with SSO
            </button>
            <button type="button" class="secondary" aria-disabled={action.busy} onClick={passkeySignIn}>
              Sign in with a passkey
            </button>
          </div>
        </>
      ) : null}

      {step.kind === 'sso' ? (
        <>
          {step.note ? <p>{step.note}</p> : null}
          <form onSubmit={startSso} class="card">
            <label for="sso-email">Work email</label>
            <input
              id="sso-email"
              type="email"
              autoComplete="username"
              value={email}
              onInput={(e) => setEmail(e.currentTarget.value)}
              required
              aria-describedby="sso-help"
            />
            <p id="sso-help" class="muted">
              You will continue at your organisation’s identity provider, and come back here signed in.
            </p>
            <button type="submit" aria-disabled={action.busy}>
              Continue
            </button>
          </form>
          <ProblemView problem={action.problem} headings={SIGN_IN_HEADINGS} />
          <button type="button" class="link" onClick={back}>
            Sign in with a password instead
          </button>
        </>
      ) : null}

      {step.kind === 'choose_tenant' ? (
        <>
          <p>This email belongs to several teams. Which one do you want to open?</p>
          <ul class="list">
            {step.tenants.map((t) => (
              <li key={t.id}>
                <button type="button" class="secondary" aria-disabled={action.busy} onClick={(e) => submitPassword(e, t.id)}>
                  {t.name}
                </button>
              </li>
            ))}
          </ul>
          <ProblemView problem={action.problem} headings={SIGN_IN_HEADINGS} />
          <button type="button" class="link" onClick={back}>
            Back
          </button>
        </>
      ) : null}

      {step.kind === 'mfa' ? (
        <>
          <form onSubmit={submitMfa} class="card">
            <fieldset>
              <legend>Second factor</legend>
              {step.methods.map((m) => (
                <label class="check" key={m}>
                  <input type="radio" name="mfa-method" value={m} checked={method === m} onChange={() => (setMethod(m), setCode(''))} />{' '}
                  {METHOD_LABELS[m]}
                </label>
              ))}
            </fieldset>
            {method === 'totp' ? codeField('mfa-code', 'Code from your authenticator app (6 digits)', true) : null}
            {method === 'recovery_code' ? codeField('mfa-code', 'One of your recovery codes', false) : null}
            {method === 'passkey' ? <p class="muted">Your browser will ask for your passkey.</p> : null}
            <button type="submit" aria-disabled={action.busy}>
              {method === 'passkey' ? 'Use my passkey' : 'Verify'}
            </button>
          </form>
          <ProblemView problem={action.problem} headings={SIGN_IN_HEADINGS} />
          <button type="button" class="link" onClick={back}>
            Start again
          </button>
        </>
      ) : null}

      {step.kind === 'enrol' ? (
        <>
          <p>Your team requires a second factor. Set one up now to finish signing in.</p>
          <div class="row">
            {step.methods.includes('totp') ? (
              <button type="button" aria-disabled={action.busy} onClick={enrolTotp}>
                Use an authenticator app
              </button>
            ) : null}
            {step.methods.includes('passkey') ? (
              <button type="button" class="secondary" aria-disabled={action.busy} onClick={enrolPasskey}>
                Create a passkey
              </button>
            ) : null}
          </div>
          <ProblemView problem={action.problem} headings={SIGN_IN_HEADINGS} />
        </>
      ) : null}

      {step.kind === 'enrol_totp' ? (
        <>
          <TotpSecret secret={step.secret} otpauthUri={step.otpauthUri} />
          <form onSubmit={confirmTotp} class="card">
            {codeField('enrol-code', 'The code the app shows (6 digits)', true)}
            <button type="submit" aria-disabled={action.busy}>
              Confirm
            </button>
          </form>
          <ProblemView problem={action.problem} headings={SIGN_IN_HEADINGS} />
        </>
      ) : null}

      {step.kind === 'recovery' ? (
        <RecoveryCodes
          codes={step.codes}
          onDone={() => {
            const next = step.next;
            if (next) handle(next);
            else onSignedIn();
          }}
        />
      ) : null}
    </main>
  );
}

/** A QR code, drawn here from the text (nothing leaves the page): dark on light whatever the theme, for scanners. */
export function QrCode({ text, label }: { text: string; label: string }) {
  const m = useMemo(() => qrMatrix(text), [text]);
  if (!m) return null;
  const n = m.length + 8;
  return (
    <svg class="qr" viewBox={`0 0 ${n} ${n}`} role="img" aria-label={label} shape-rendering="crispEdges">
      <rect width={n} height={n} fill="#fff" />
      <path d={qrPath(m)} fill="#000" />
    </svg>
  );
}

/** The secret of a new TOTP factor: a QR code to scan, the otpauth link (opens an authenticator on this device), and the key to type. */
export function TotpSecret({ secret, otpauthUri }: { secret: string; otpauthUri: string }) {
  return (
    <section class="secret" aria-labelledby="totp-secret-title">
      <h2 id="totp-secret-title">Add Parley to your authenticator app</h2>
      <QrCode text={otpauthUri} label="QR code for your authenticator app" />
      <p>
        Scan the code with your authenticator app, open <a href={otpauthUri}>this link</a> on the device that has it, or add an account by hand with
        this key:
      </p>
      <p class="mono totp-secret" dir="ltr">
        {groupSecret(secret)}
      </p>
      <p class="muted">Time-based, 6 digits, every 30 seconds. Keep the key secret; it is not shown again.</p>
    </section>
  );
}

/** Recovery codes, shown exactly once. */
export function RecoveryCodes({ codes, onDone }: { codes: string[]; onDone: () => void }) {
  const [copied, setCopied] = useState(false);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(codes.join('\n'));
      setCopied(true);
    } catch {
      setCopied(false);
    }
  };
  return (
    <section class="secret" aria-labelledby="recovery-title">
      <h2 id="recovery-title">Recovery codes</h2>
      <p>Each code signs you in once if you lose your second factor. This is the only time they are shown: store them somewhere safe.</p>
      <ul class="codes mono" dir="ltr">
        {codes.map((c) => (
          <li key={c}>{c}</li>
        ))}
      </ul>
      <div class="row">
        <button type="button" class="secondary" onClick={copy}>
          Copy
        </button>
        <button type="button" onClick={onDone}>
          I have saved them
        </button>
      </div>
      <p class="muted" aria-live="polite">
        {copied ? 'Copied to the clipboard.' : ''}
      </p>
    </section>
  );
}
