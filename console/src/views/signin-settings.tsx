// Sign-in & SSO: the team's sign-in policy (MFA, enforced SSO with a break-glass owner, session timeouts)
// and its single sign-on connections (OIDC, SAML 2.0). Readable with members:read, editable with
// signin:write. The OIDC client secret is write-only: the server says whether one is stored, never what.
import type { Member, OidcConnection as Oidc, Problem, Role, SamlConnection as Saml, SignInPolicy, SignInPolicyRead } from '@parley/protocol';
import { ROLES } from '@parley/protocol/constants';
import { useEffect, useState } from 'preact/hooks';
import { ApiError, unwrap, type Api } from '../api.js';
import type { ViewProps } from '../app.js';
import { ProblemView, useAction, useLoad } from '../components.js';
import { type Gated, GatedStatus, useGated } from '../gated.js';

type GroupRole = Oidc['groupRoles'][number];
/** What both protocols share. */
type SsoCommon = Pick<Oidc, 'allowedDomains' | 'defaultRole' | 'groupsClaim' | 'groupRoles'>;

/** `one.example, two.example` or one per line → a list. */
export const splitList = (s: string): string[] =>
  s
    .split(/[\s,]+/)
    .map((x) => x.trim())
    .filter(Boolean);
/** `group = role` per line → the mapping (first match wins on the server). */
export function parseGroupRoles(s: string): GroupRole[] {
  return s
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .map((l) => {
      const at = l.lastIndexOf('=');
      return { group: (at < 0 ? l : l.slice(0, at)).trim(), role: (at < 0 ? '' : l.slice(at + 1)).trim() as Role };
    });
}
export const formatGroupRoles = (g: GroupRole[]): string => g.map((x) => `${x.group} = ${x.role}`).join('\n');
/** PEM blocks (or bare base64 separated by blank lines) → one string per certificate. */
export function splitCertificates(s: string): string[] {
  const pem = s.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g);
  if (pem) return pem.map((c) => c.trim());
  return s
    .split(/\n\s*\n/)
    .map((c) => c.trim())
    .filter(Boolean);
}

type Loaded<T> = { connection: T | null; forbidden?: boolean };

/**
 * A connection's settings, asked for only when the tenant has one (the policy lists them) and the role may
 * see it: a request bound to fail (a 404, a 403) prints an error in the browser's console, however well the
 * page takes it. `stored` and `removed` follow a save and a removal.
 */
/** A save waiting on the approval rail, or approved and not yet finished: the form stays as it was sent. */
const held = (g: Gated) => g.gate.step === 'waiting' || g.gate.step === 'approved';

function useConnection<T>(api: Api, path: string, { present: initially, canSee }: ConnectionProps) {
  const [present, setPresent] = useState(initially);
  const loaded = useLoad<Loaded<T>>(
    async () => (!canSee ? { connection: null, forbidden: true } : present ? loadConnection<T>(api, path) : { connection: null }),
    [present],
  );
  return { loaded, stored: () => (present ? loaded.reload() : setPresent(true)), removed: () => (present ? setPresent(false) : loaded.reload()) };
}

interface ConnectionProps {
  /** The tenant has this connection (as the policy said when the page opened). */
  present: boolean;
  /** The role may read connections (settings:read). */
  canSee: boolean;
}

/** A connection, or null when none is configured (a 404, `{ connection: null }`). */
async function loadConnection<T>(api: Api, path: string): Promise<Loaded<T>> {
  try {
    return { connection: unwrap<T | null>(await api('GET', path), 'connection') };
  } catch (err) {
    // Removed since the page opened (another admin), or the role changed under it.
    if (err instanceof ApiError && err.problem.status === 404) return { connection: null };
    // A role that may see the policy but not the connections: said plainly, not as an error.
    if (err instanceof ApiError && err.problem.status === 403) return { connection: null, forbidden: true };
    throw err;
  }
}

interface PolicyPage {
  policy: SignInPolicy;
  owners: Member[];
  connections: SignInPolicyRead['connections'];
}

function PolicyForm({ api, canEdit, loaded }: { api: Api; canEdit: boolean; loaded: { data: PolicyPage | null; problem: Problem | null } }) {
  const [policy, setPolicy] = useState<SignInPolicy | null>(null);
  const [saved, setSaved] = useState(false);
  // Relaxing MFA or SSO may need another admin's approval: the save then waits on the rail.
  const saving = useGated(api, (out) => {
    setPolicy(unwrap<SignInPolicy>(out, 'policy'));
    setSaved(true);
  });
  const editable = canEdit && !held(saving);
  useEffect(() => setPolicy(loaded.data?.policy ?? null), [loaded.data]);
  const set = (patch: Partial<SignInPolicy>) => {
    setSaved(false);
    setPolicy((p) => (p ? { ...p, ...patch } : p));
  };
  const submit = (e: Event) => {
    e.preventDefault();
    if (!policy) return;
    setSaved(false);
    void saving.send('PUT', '/sign-in-policy', policy);
  };
  return (
    <section aria-labelledby="policy-title">
      <h2 id="policy-title">Sign-in policy</h2>
      <ProblemView problem={loaded.problem} />
      {policy && loaded.data ? (
        <form onSubmit={submit} class="card">
          <fieldset disabled={!editable}>
            <legend>Second factor</legend>
            {(
              [
                ['off', 'Optional for everyone'],
                ['admins', 'Required for owners and admins'],
                ['everyone', 'Required for everyone'],
              ] as const
            ).map(([value, label]) => (
              <label class="check" key={value}>
                <input
                  type="radio"
                  name="require-mfa"
                  value={value}
                  checked={policy.requireMfa === value}
                  onChange={() => set({ requireMfa: value })}
                />{' '}
                {label}
              </label>
            ))}
          </fieldset>
          <fieldset disabled={!editable}>
            <legend>Single sign-on</legend>
            <label class="check">
              <input type="checkbox" id="enforce-sso" checked={policy.enforceSso} onChange={(e) => set({ enforceSso: e.currentTarget.checked })} />{' '}
              Members sign in only with SSO
            </label>
            <label for="break-glass">Break-glass owner (may still use a password; every use is audited and alerted)</label>
            <select
              id="break-glass"
              value={policy.breakGlassMemberId ?? ''}
              onChange={(e) => set({ breakGlassMemberId: e.currentTarget.value || null })}
            >
              <option value="">None</option>
              {loaded.data.owners.map((o) => (
                <option key={o.id} value={o.id}>
                  {o.displayName} ({o.email})
                </option>
              ))}
            </select>
          </fieldset>
          <fieldset disabled={!editable}>
            <legend>Sessions</legend>
            <label for="idle-minutes">End a session after this many minutes without use</label>
            <input
              id="idle-minutes"
              type="number"
              min={5}
              max={10080}
              value={policy.idleTimeoutMinutes}
              onInput={(e) => set({ idleTimeoutMinutes: Number(e.currentTarget.value) })}
              required
            />
            <label for="absolute-hours">End every session this many hours after sign-in</label>
            <input
              id="absolute-hours"
              type="number"
              min={1}
              max={2160}
              value={policy.absoluteTimeoutHours}
              onInput={(e) => set({ absoluteTimeoutHours: Number(e.currentTarget.value) })}
              required
            />
          </fieldset>
          {canEdit ? (
            <button type="submit" disabled={!editable} aria-disabled={saving.busy}>
              Save policy
            </button>
          ) : (
            <p class="muted">Only owners and admins can change the policy.</p>
          )}
          {saved ? <p role="status">Policy saved.</p> : null}
          <GatedStatus gated={saving} />
        </form>
      ) : null}
      <ProblemView problem={saving.problem} />
    </section>
  );
}

/** The fields both connection kinds share, edited as text. */
interface CommonDraft {
  allowedDomains: string;
  defaultRole: Role;
  groupsClaim: string;
  groupRoles: string;
}
const commonDraft = (c: SsoCommon | null): CommonDraft => ({
  allowedDomains: c?.allowedDomains.join(', ') ?? '',
  defaultRole: c?.defaultRole ?? 'agent',
  groupsClaim: c?.groupsClaim ?? 'groups',
  groupRoles: c ? formatGroupRoles(c.groupRoles) : '',
});
const commonBody = (d: CommonDraft) => ({
  allowedDomains: splitList(d.allowedDomains),
  defaultRole: d.defaultRole,
  groupsClaim: d.groupsClaim.trim(),
  groupRoles: parseGroupRoles(d.groupRoles),
});

function CommonFields({ id, draft, set }: { id: string; draft: CommonDraft; set: (p: Partial<CommonDraft>) => void }) {
  return (
    <>
      <label for={`${id}-domains`}>Allowed email domains</label>
      <input
        id={`${id}-domains`}
        value={draft.allowedDomains}
        placeholder="example.com, example.org"
        onInput={(e) => set({ allowedDomains: e.currentTarget.value })}
        required
        aria-describedby={`${id}-domains-help`}
      />
      <p id={`${id}-domains-help`} class="muted">
        Only these domains may sign in or join through this connection. Separate with commas.
      </p>
      <label for={`${id}-default-role`}>Role for a person signing in the first time</label>
      <select id={`${id}-default-role`} value={draft.defaultRole} onChange={(e) => set({ defaultRole: e.currentTarget.value as Role })}>
        {ROLES.filter((r) => r !== 'owner').map((r) => (
          <option key={r} value={r}>
            {r}
          </option>
        ))}
      </select>
      <label for={`${id}-groups-claim`}>Groups claim or attribute</label>
      <input id={`${id}-groups-claim`} class="mono" value={draft.groupsClaim} onInput={(e) => set({ groupsClaim: e.currentTarget.value })} />
      <label for={`${id}-group-roles`}>Group → role mapping</label>
      <textarea
        id={`${id}-group-roles`}
        class="mono"
        value={draft.groupRoles}
        placeholder={'parley-admins = admin\nsupport = agent'}
        onInput={(e) => set({ groupRoles: e.currentTarget.value })}
        aria-describedby={`${id}-group-roles-help`}
      />
      <p id={`${id}-group-roles-help`} class="muted">
        One <code>group = role</code> per line; the first match wins. Roles: admin, agent, analyst (SSO never grants owner).
      </p>
    </>
  );
}

function Registered({ items }: { items: [string, string][] }) {
  return (
    <dl class="registered">
      {items.map(([k, v]) => (
        <div key={k}>
          <dt>{k}</dt>
          <dd class="mono" dir="ltr">
            {v}
          </dd>
        </div>
      ))}
    </dl>
  );
}

function ConnectionActions({
  canEdit,
  busy,
  exists,
  onRemove,
  saved,
}: {
  canEdit: boolean;
  busy: boolean;
  exists: boolean;
  onRemove: () => void;
  saved: boolean;
}) {
  if (!canEdit) return <p class="muted">Only an owner can set up single sign-on.</p>;
  return (
    <>
      <div class="row">
        <button type="submit" disabled={busy}>
          Save connection
        </button>
        {exists ? (
          <button type="button" class="danger" disabled={busy} onClick={onRemove}>
            Remove connection
          </button>
        ) : null}
      </div>
      {saved ? <p role="status">Connection saved.</p> : null}
    </>
  );
}

/** Where the server will expect the IdP's answers (the same paths it reports once a connection is saved). */
export const expectedUrls = (origin: string, tenantId: string) => {
  const saml = `${origin}/v1/auth/sso/saml/${tenantId}`;
  return { redirectUri: `${origin}/v1/auth/sso/oidc/${tenantId}/callback`, spEntityId: saml, acsUrl: `${saml}/acs`, metadataUrl: `${saml}/metadata` };
};

function OidcForm({ api, canEdit, tenantId, ...known }: { api: Api; canEdit: boolean; tenantId: string } & ConnectionProps) {
  const { loaded, stored, removed } = useConnection<Oidc>(api, '/sso/oidc', known);
  const [issuer, setIssuer] = useState('');
  const [clientId, setClientId] = useState('');
  const [clientSecret, setClientSecret] = useState('');
  const [common, setCommon] = useState<CommonDraft>(commonDraft(null));
  const [saved, setSaved] = useState(false);
  const action = useAction();
  // A connection that makes admins may need another admin's approval: the save then waits on the rail.
  const saving = useGated(api, () => {
    setSaved(true);
    stored();
  });
  const c = loaded.data?.connection ?? null;
  useEffect(() => {
    setIssuer(c?.issuer ?? '');
    setClientId(c?.clientId ?? '');
    setClientSecret('');
    setCommon(commonDraft(c));
  }, [loaded.data]);
  const submit = (e: Event) => {
    e.preventDefault();
    void saving.send('PUT', '/sso/oidc', {
      issuer: issuer.trim(),
      clientId: clientId.trim(),
      ...(clientSecret ? { clientSecret } : {}),
      ...commonBody(common),
    });
  };
  const remove = () => {
    if (!confirm('Remove the OIDC connection? Members can no longer sign in through it.')) return;
    void action.run(async () => {
      await api('DELETE', '/sso/oidc');
      setSaved(false);
      removed();
    });
  };
  return (
    <section aria-labelledby="oidc-title">
      <h2 id="oidc-title">OpenID Connect</h2>
      <ProblemView problem={loaded.problem} />
      {loaded.data?.forbidden ? <p class="muted">Your role cannot see this connection.</p> : null}
      {loaded.data && !loaded.data.forbidden ? (
        <form onSubmit={submit} class="card">
          {c ? null : <p class="muted">Not configured yet. Register this redirect URI at your identity provider to get a client ID and secret:</p>}
          <Registered
            items={[['Redirect URI to register at the identity provider', c?.redirectUri ?? expectedUrls(location.origin, tenantId).redirectUri]]}
          />
          <fieldset disabled={!canEdit || held(saving)}>
            <legend>Identity provider</legend>
            <label for="oidc-issuer">Issuer URL</label>
            <input
              id="oidc-issuer"
              type="url"
              class="mono"
              placeholder="https://login.example.com"
              value={issuer}
              onInput={(e) => (setSaved(false), setIssuer(e.currentTarget.value))}
              required
            />
            <label for="oidc-client-id">Client ID</label>
            <input
              id="oidc-client-id"
              class="mono"
              value={clientId}
              onInput={(e) => (setSaved(false), setClientId(e.currentTarget.value))}
              required
            />
            <label for="oidc-client-secret">Client secret</label>
            <input
              id="oidc-client-secret"
              type="password"
              autoComplete="off"
              class="mono"
              value={clientSecret}
              placeholder={c?.hasClientSecret ? 'stored — leave empty to keep' : ''}
              onInput={(e) => (setSaved(false), setClientSecret(e.currentTarget.value))}
            />
            <CommonFields id="oidc" draft={common} set={(p) => (setSaved(false), setCommon((d) => ({ ...d, ...p })))} />
          </fieldset>
          <ConnectionActions canEdit={canEdit} busy={action.busy || saving.busy || held(saving)} exists={!!c} onRemove={remove} saved={saved} />
          <GatedStatus gated={saving} />
        </form>
      ) : null}
      <ProblemView problem={action.problem ?? saving.problem} />
    </section>
  );
}

function SamlForm({ api, canEdit, tenantId, ...known }: { api: Api; canEdit: boolean; tenantId: string } & ConnectionProps) {
  const { loaded, stored, removed } = useConnection<Saml>(api, '/sso/saml', known);
  const [entryPoint, setEntryPoint] = useState('');
  const [idpIssuer, setIdpIssuer] = useState('');
  const [certs, setCerts] = useState('');
  const [common, setCommon] = useState<CommonDraft>(commonDraft(null));
  const [saved, setSaved] = useState(false);
  const action = useAction();
  const saving = useGated(api, () => {
    setSaved(true);
    stored();
  });
  const c = loaded.data?.connection ?? null;
  useEffect(() => {
    setEntryPoint(c?.entryPoint ?? '');
    setIdpIssuer(c?.idpIssuer ?? '');
    setCerts(c?.idpCertificates.join('\n\n') ?? '');
    setCommon(commonDraft(c));
  }, [loaded.data]);
  const submit = (e: Event) => {
    e.preventDefault();
    void saving.send('PUT', '/sso/saml', {
      entryPoint: entryPoint.trim(),
      idpIssuer: idpIssuer.trim(),
      idpCertificates: splitCertificates(certs),
      ...commonBody(common),
    });
  };
  const remove = () => {
    if (!confirm('Remove the SAML connection? Members can no longer sign in through it.')) return;
    void action.run(async () => {
      await api('DELETE', '/sso/saml');
      setSaved(false);
      removed();
    });
  };
  return (
    <section aria-labelledby="saml-title">
      <h2 id="saml-title">SAML 2.0</h2>
      <ProblemView problem={loaded.problem} />
      {loaded.data?.forbidden ? <p class="muted">Your role cannot see this connection.</p> : null}
      {loaded.data && !loaded.data.forbidden ? (
        <form onSubmit={submit} class="card">
          {c ? null : <p class="muted">Not configured yet. Register this service provider at your identity provider:</p>}
          <Registered
            items={
              (({ spEntityId, acsUrl, metadataUrl }) => [
                ['SP entity ID (audience)', spEntityId],
                ['ACS URL (reply URL)', acsUrl],
                ['SP metadata URL', metadataUrl],
              ])(c ?? expectedUrls(location.origin, tenantId)) as [string, string][]
            }
          />
          <fieldset disabled={!canEdit || held(saving)}>
            <legend>Identity provider</legend>
            <label for="saml-entry-point">Single sign-on URL (HTTP-Redirect binding)</label>
            <input
              id="saml-entry-point"
              type="url"
              class="mono"
              value={entryPoint}
              onInput={(e) => (setSaved(false), setEntryPoint(e.currentTarget.value))}
              required
            />
            <label for="saml-issuer">IdP entity ID (issuer)</label>
            <input id="saml-issuer" class="mono" value={idpIssuer} onInput={(e) => (setSaved(false), setIdpIssuer(e.currentTarget.value))} required />
            <label for="saml-certs">Signing certificate(s), PEM</label>
            <textarea id="saml-certs" class="mono certs" value={certs} onInput={(e) => (setSaved(false), setCerts(e.currentTarget.value))} required />
            <CommonFields id="saml" draft={common} set={(p) => (setSaved(false), setCommon((d) => ({ ...d, ...p })))} />
          </fieldset>
          <ConnectionActions canEdit={canEdit} busy={action.busy || saving.busy || held(saving)} exists={!!c} onRemove={remove} saved={saved} />
          <GatedStatus gated={saving} />
        </form>
      ) : null}
      <ProblemView problem={action.problem ?? saving.problem} />
    </section>
  );
}

export function SignInSettingsView({ api, me }: ViewProps) {
  const canEdit = me.capabilities.includes('signin:write');
  // The IdP decides who signs in as whom: only an owner sets it (the server refuses anyone else).
  const canEditSso = canEdit && me.member?.role === 'owner';
  const canSee = me.capabilities.includes('settings:read');
  const page = useLoad<PolicyPage>(async () => {
    const [read, members] = await Promise.all([
      api<SignInPolicyRead>('GET', '/sign-in-policy'),
      api<{ members: Member[] }>('GET', '/members').then((r) => r.members),
    ]);
    return { ...read, owners: members.filter((m) => m.role === 'owner' && m.status === 'active') };
  });
  const has = (kind: 'oidc' | 'saml') => !!page.data?.connections.includes(kind);
  return (
    <div class="signin-settings">
      <PolicyForm api={api} canEdit={canEdit} loaded={page} />
      {page.data ? (
        <>
          <OidcForm api={api} canEdit={canEditSso} tenantId={me.tenant.id} present={has('oidc')} canSee={canSee} />
          <SamlForm api={api} canEdit={canEditSso} tenantId={me.tenant.id} present={has('saml')} canSee={canSee} />
        </>
      ) : null}
    </div>
  );
}
