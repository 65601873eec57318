// The console shell: a person signs in (password, SSO or passkey, then MFA as the team requires), and
// sees one view per admin area their role allows. No credential is held here: the session is in HttpOnly
// cookies, and the server decides what each request may do; the navigation only mirrors it.
import type { AdminMe, Capability, SessionPresence, SignIn } from '@parley/protocol';
import type { ComponentType } from 'preact';
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { createClient, type Api, type Client } from './api.js';
import { ProblemView, useLoad } from './components.js';
import { InvitePage } from './invite.js';
import { readArrival, type Arrival } from './session.js';
import { SignInPage, type SignInStart } from './signin.js';
import { AccountView } from './views/account.js';
import { ActionsView } from './views/actions.js';
import { ApprovalsView } from './views/approvals.js';
import { SignInSettingsView } from './views/signin-settings.js';
import { TeamView } from './views/team.js';
import { AuditView } from './views/audit.js';
import { DomainsView } from './views/domains.js';
import { EvidenceView } from './views/evidence.js';
import { IdentityView } from './views/identity.js';
import { InboxView } from './views/inbox.js';
import { KeysView } from './views/keys.js';
import { KnowledgeView } from './views/knowledge.js';
import { PiiView } from './views/pii.js';
import { ProviderView } from './views/provider.js';
import { ReportsView } from './views/reports.js';
import { SettingsView } from './views/settings.js';
import { TenantsView } from './views/tenants.js';
import { AvailabilitySwitch } from './inbox/availability.js';
import { LiveInbox } from './inbox/context.js';
import { CannedRepliesView } from './views/canned.js';
import { ConversationsView } from './views/conversations.js';
import { BusinessHoursView } from './views/hours.js';
import { WebhooksView } from './views/webhooks.js';

export interface ViewProps {
  api: Api;
  me: AdminMe;
  /** `/v1/platform` (the operators' view). */
  platform?: Api;
}

/**
 * Each view with the capability it cannot open without (the one its first request needs); null: any
 * member; 'operator': platform operators only.
 */
export const VIEWS: { id: string; label: string; view: ComponentType<ViewProps>; needs: Capability | null | 'operator' }[] = [
  { id: 'tenants', label: 'Tenants', view: TenantsView, needs: 'operator' },
  { id: 'inbox', label: 'Inbox', view: InboxView, needs: 'handoffs:read' },
  { id: 'conversations', label: 'Conversations', view: ConversationsView, needs: 'conversations:read' },
  { id: 'approvals', label: 'Approvals', view: ApprovalsView, needs: 'approvals:decide' },
  { id: 'canned', label: 'Canned replies', view: CannedRepliesView, needs: 'conversations:read' },
  { id: 'knowledge', label: 'Knowledge', view: KnowledgeView, needs: 'knowledge:read' },
  { id: 'reports', label: 'Reports', view: ReportsView, needs: 'conversations:read' },
  { id: 'domains', label: 'Domains', view: DomainsView, needs: 'domains:read' },
  { id: 'keys', label: 'API keys', view: KeysView, needs: 'keys:read' },
  { id: 'actions', label: 'Actions', view: ActionsView, needs: 'actions:write' },
  { id: 'webhooks', label: 'Webhooks', view: WebhooksView, needs: 'webhooks:read' },
  { id: 'identity', label: 'Sign-In Pro', view: IdentityView, needs: 'settings:read' },
  { id: 'provider', label: 'AI provider', view: ProviderView, needs: 'settings:read' },
  { id: 'settings', label: 'Settings', view: SettingsView, needs: 'settings:read' },
  { id: 'hours', label: 'Business hours', view: BusinessHoursView, needs: 'settings:read' },
  { id: 'pii', label: 'PII test', view: PiiView, needs: 'pii:read' },
  { id: 'audit', label: 'Audit', view: AuditView, needs: 'audit:read' },
  { id: 'evidence', label: 'Evidence', view: EvidenceView, needs: 'evidence:export' },
  { id: 'team', label: 'Team', view: TeamView, needs: 'members:read' },
  { id: 'sign-in', label: 'Sign-in & SSO', view: SignInSettingsView, needs: 'members:read' },
  { id: 'account', label: 'My account', view: AccountView, needs: null },
];

type View = (typeof VIEWS)[number];

/** The view named in the address if the key may use it, else the first one it may. */
const currentView = (usable: View[]): View | undefined => usable.find((v) => v.id === location.hash.slice(1)) ?? usable[0];

/** The views a caller may open: the capabilities the server reported for this session. */
export const usableViews = (me: AdminMe): View[] =>
  VIEWS.filter((v) =>
    v.needs === null ? me.member !== null : v.needs === 'operator' ? me.member?.role === 'operator' : me.capabilities.includes(v.needs),
  );

function Shell({ client, onSignOut, onMe }: { client: Client; onSignOut: () => void | Promise<void>; onMe: () => void }) {
  const api = client.admin;
  const me = useLoad(() => api<AdminMe>('GET', '/me'), [api]);
  useEffect(() => {
    if (me.data) onMe();
  }, [me.data]);
  const usable = useMemo(() => (me.data ? usableViews(me.data) : []), [me.data]);
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
  // Where the views scroll sideways (a phone), the current one is brought into sight.
  const nav = useRef<HTMLElement>(null);
  useEffect(() => nav.current?.querySelector('[aria-current="page"]')?.scrollIntoView?.({ block: 'nearest', inline: 'nearest' }), [active]);
  const View = active?.view;
  const member = me.data?.member;
  return (
    <LiveInbox api={api} me={me.data} label={active?.label ?? 'Console'}>
      <div class="shell">
        <header>
          <strong>Parley console</strong>
          {me.data ? (
            <span class="who-am-i">
              {member ? (
                <>
                  <span class="name">{member.displayName}</span> <span class="badge">{member.role}</span>
                </>
              ) : null}{' '}
              <span class="muted">{me.data.tenant.name}</span>
            </span>
          ) : null}
          {me.data ? <AvailabilitySwitch api={api} me={me.data} /> : null}
          <button type="button" class="secondary sign-out" onClick={onSignOut}>
            Sign out
          </button>
        </header>
        <nav aria-label="Console" ref={nav}>
          {usable.map((v) => (
            <a key={v.id} href={`#${v.id}`} aria-current={v.id === active?.id ? 'page' : undefined}>
              {v.label}
            </a>
          ))}
        </nav>
        <main>
          <ProblemView problem={me.problem} />
          {!me.data && !me.problem ? <p class="muted">Loading…</p> : null}
          {me.data && !active ? <p class="muted">Your role gives you none of the console's views.</p> : null}
          {me.data && active && View ? (
            <>
              <h1 tabIndex={-1} ref={heading}>
                {active.label}
              </h1>
              <View api={api} me={me.data} platform={client.platform} key={active.id} />
            </>
          ) : null}
        </main>
      </div>
    </LiveInbox>
  );
}

type Screen =
  | { kind: 'checking' }
  | { kind: 'signing-out' }
  | { kind: 'console' }
  | { kind: 'sign-in'; start: SignInStart }
  | { kind: 'invite'; token: string };

const firstScreen = (a: Arrival): Screen => {
  if (a.inviteToken) return { kind: 'invite', token: a.inviteToken };
  if (a.ssoError || a.mfa) return { kind: 'sign-in', start: { ssoError: a.ssoError, mfa: a.mfa } };
  // Whether a session exists is the server's to say: it reads the HttpOnly cookies this page cannot.
  return { kind: 'checking' };
};

export function App({ fetchImpl, navigate }: { fetchImpl?: typeof fetch; navigate?: (url: string) => void }) {
  const [screen, setScreen] = useState<Screen>(() => firstScreen(readArrival()));
  // Whether this page has been signed in: a session that ends under it is said to have ended.
  const wasSignedIn = useRef(false);
  const client = useMemo(
    () =>
      createClient({
        ...(fetchImpl ? { fetchImpl } : {}),
        onSignedOut: () => setScreen({ kind: 'sign-in', start: wasSignedIn.current ? { notice: 'Your session has ended. Sign in again.' } : {} }),
      }),
    [fetchImpl],
  );
  const signedIn = () => setScreen({ kind: 'console' });
  useEffect(() => {
    if (screen.kind !== 'checking') return;
    // Without session cookies, straight to the sign-in page (no /me to fail first). With them, or if the
    // server could not say, the console asks for /me, renewing the session once if it must.
    client
      .auth<SessionPresence>('GET', '/session')
      .then((r) => setScreen(r.session === 'none' ? { kind: 'sign-in', start: {} } : { kind: 'console' }))
      .catch(() => setScreen({ kind: 'console' }));
  }, [screen.kind, client]);
  if (screen.kind === 'checking') return <p class="muted">Loading…</p>;
  if (screen.kind === 'signing-out') return <p class="muted">Signing out…</p>;
  if (screen.kind === 'invite')
    return (
      <InvitePage
        auth={client.auth}
        token={screen.token}
        onResult={(r: SignIn, email: string) => (r.status === 'signed_in' ? signedIn() : setScreen({ kind: 'sign-in', start: { result: r, email } }))}
      />
    );
  if (screen.kind === 'sign-in')
    return <SignInPage auth={client.auth} onSignedIn={signedIn} start={screen.start} {...(navigate ? { navigate } : {})} />;
  return (
    <Shell
      client={client}
      onMe={() => (wasSignedIn.current = true)}
      onSignOut={async () => {
        // The views go (their streams and polls with them) and their requests still waiting end, before the
        // session does: answered after it, they would be 401s. The server ends the session and clears its
        // cookies; signed out here whatever it answers, once it has (a sign-in meanwhile would race its cookies).
        setScreen({ kind: 'signing-out' });
        client.abort();
        await client.auth('POST', '/sign-out').catch(() => undefined);
        setScreen({ kind: 'sign-in', start: { notice: 'You have signed out.' } });
      }}
    />
  );
}
