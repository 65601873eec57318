// The console shell: sign-in with a pasted secret key, then one view per admin area.
import type { AdminMe, Capability } from '@parley/protocol';
import type { ComponentType } from 'preact';
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { createApi, type Api } from './api.js';
import { ProblemView, useLoad } from './components.js';
import { clearKey, keyPrefix, loadKey, saveKey, SECRET_KEY_SHAPE } from './session.js';
import { AuditView } from './views/audit.js';
import { DomainsView } from './views/domains.js';
import { IdentityView } from './views/identity.js';
import { InboxView } from './views/inbox.js';
import { KeysView } from './views/keys.js';
import { KnowledgeView } from './views/knowledge.js';
import { PiiView } from './views/pii.js';
import { ProviderView } from './views/provider.js';
import { SettingsView } from './views/settings.js';

export interface ViewProps {
  api: Api;
}

/** Each view with the capability it cannot open without (the one its first request needs). */
export const VIEWS: { id: string; label: string; view: ComponentType<ViewProps>; needs: Capability }[] = [
  { id: 'inbox', label: 'Inbox', view: InboxView, needs: 'handoffs:read' },
  { id: 'knowledge', label: 'Knowledge', view: KnowledgeView, needs: 'knowledge:read' },
  { id: 'domains', label: 'Domains', view: DomainsView, needs: 'domains:read' },
  { id: 'keys', label: 'API keys', view: KeysView, needs: 'keys:read' },
  { id: 'identity', label: 'Sign-In Pro', view: IdentityView, needs: 'settings:read' },
  { id: 'provider', label: 'AI provider', view: ProviderView, needs: 'settings:read' },
  { id: 'settings', label: 'Settings', view: SettingsView, needs: 'settings:read' },
  { id: 'pii', label: 'PII test', view: PiiView, needs: 'pii:read' },
  { id: 'audit', label: 'Audit', view: AuditView, needs: 'audit:read' },
];

export function SignIn({ onSignIn }: { onSignIn: (key: string) => void }) {
  const [value, setValue] = useState('');
  const [error, setError] = useState('');
  const submit = (e: Event) => {
    e.preventDefault();
    const key = value.trim();
    if (!SECRET_KEY_SHAPE.test(key)) {
      setError('That does not look like a secret key: it starts with sk_live_ or sk_test_ followed by 32 letters and digits.');
      return;
    }
    onSignIn(key);
  };
  return (
    <main class="signin">
      <h1>Parley console</h1>
      <form onSubmit={submit} noValidate>
        <label for="secret-key">Secret key</label>
        <input
          id="secret-key"
          class="mono"
          type="password"
          autoComplete="off"
          spellcheck={false}
          value={value}
          onInput={(e) => setValue(e.currentTarget.value)}
          aria-describedby="secret-key-help"
          aria-invalid={error ? 'true' : undefined}
          required
        />
        <p id="secret-key-help" class="muted">
          Your key is sent only to this server, in the Authorization header of its own API requests. It is kept in this
          tab's session storage and forgotten when you sign out or close the tab.
        </p>
        {error ? (
          <p class="problem" role="alert">
            {error}
          </p>
        ) : null}
        <button type="submit">Sign in</button>
      </form>
    </main>
  );
}

type View = (typeof VIEWS)[number];

/** The view named in the address if the key may use it, else the first one it may. */
const currentView = (usable: View[]): View | undefined => usable.find((v) => v.id === location.hash.slice(1)) ?? usable[0];

function Shell({ secretKey, onSignOut, fetchImpl }: { secretKey: string; onSignOut: () => void; fetchImpl?: typeof fetch }) {
  const api = useMemo(() => createApi(secretKey, fetchImpl), [secretKey, fetchImpl]);
  // What the key may do decides the navigation: views it cannot use are not offered.
  const me = useLoad(() => api<AdminMe>('GET', '/me'), [api]);
  const usable = useMemo(() => (me.data ? VIEWS.filter((v) => me.data!.apiKey.capabilities.includes(v.needs)) : []), [me.data]);
  const [hash, setHash] = useState(location.hash);
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    const onHash = () => setHash(location.hash);
    addEventListener('hashchange', onHash);
    return () => removeEventListener('hashchange', onHash);
  }, []);
  const active = useMemo(() => currentView(usable), [usable, hash]);
  // Moving between views moves focus to the new view's heading.
  useEffect(() => heading.current?.focus(), [active]);
  const View = active?.view;
  return (
    <div class="shell">
      <header>
        <strong>Parley console</strong>
        <span class="muted">
          Signed in with <code>{keyPrefix(secretKey)}…</code>
          {me.data ? ` (${me.data.apiKey.name}, ${me.data.tenant.name})` : null}
        </span>
        <button type="button" class="secondary" onClick={onSignOut}>
          Sign out
        </button>
      </header>
      <nav aria-label="Console">
        {usable.map((v) => (
          <a key={v.id} href={`#${v.id}`} aria-current={v.id === active?.id ? 'page' : undefined}>
            {v.label}
          </a>
        ))}
      </nav>
      <main>
        <ProblemView problem={me.problem} />
        {me.data && !active ? <p class="muted">This key has none of the capabilities the console's views need.</p> : null}
        {active && View ? (
          <>
            <h1 tabIndex={-1} ref={heading}>
              {active.label}
            </h1>
            <View api={api} key={active.id} />
          </>
        ) : null}
      </main>
    </div>
  );
}

export function App({ storage, fetchImpl }: { storage?: Storage; fetchImpl?: typeof fetch }) {
  const [key, setKey] = useState(() => loadKey(storage));
  if (!key)
    return (
      <SignIn
        onSignIn={(k) => {
          saveKey(k, storage);
          setKey(k);
        }}
      />
    );
  return (
    <Shell
      secretKey={key}
      {...(fetchImpl ? { fetchImpl } : {})}
      onSignOut={() => {
        clearKey(storage);
        setKey(null);
      }}
    />
  );
}
