// Single sign-on, whatever the protocol: "Sign in with SSO" finds the tenant's connection from the email's
// domain and hands over to the protocol (sso/oidc*.ts, sso/saml*.ts); when the IdP's answer is verified,
// `ssoSignIn` checks the connection's rules, provisions the person (just in time, role from the group
// mapping; never owner) and signs them in.
import { randomUUID } from 'node:crypto';
import type { Role, SignIn } from '@parley/protocol';
import type { Request, Response } from 'express';
import type { Tx, TxContext } from '../db/types.js';
import { DomainError } from '../errors.js';
import { grantsPrivilege } from '../tenants/service.js';
import { finishSignIn, linkIdentity, setSsoLinkStep, type SignInDeps } from './sign-in.js';
import { connectionIssuer, domainsClaimedElsewhere, emailDomain } from './sso/connections.js';
import * as store from './store.js';

export type SsoKind = 'oidc' | 'saml';

export interface SsoProtocol {
  kind: SsoKind;
  /** Starts a sign-in at the tenant's IdP: stores the request, sets the binding cookie, returns where to send the browser. */
  begin(req: Request, res: Response, tenantId: string): Promise<string>;
}

/** What the IdP said about the person, after every check of the protocol passed. */
export interface SsoProfile {
  email: string;
  displayName: string;
  groups: string[];
  /** The IdP's stable id for the person (OIDC `sub`, SAML NameID). */
  subject: string;
}

/** A refusal with a reason code the console explains (`/console/?sso_error=<code>`). */
export class SsoRefused extends Error {
  constructor(
    readonly reason: string,
    message: string,
  ) {
    super(message);
    this.name = 'SsoRefused';
  }
}

/**
 * A domain routes sign-ins to one tenant only: refuses (409) a connection listing a domain another
 * tenant's connection lists. Call it in the transaction that writes the connection.
 */
export async function assertDomainsFree(tx: Tx, tenantId: string, domains: string[]): Promise<void> {
  const taken = await domainsClaimedElsewhere(tx, tenantId, domains);
  if (taken.length)
    throw new DomainError(
      'conflict',
      `${taken.join(', ')} ${taken.length === 1 ? 'is' : 'are'} already used for single sign-on by another organisation on this server. If the domain is yours, ask the server's operator.`,
    );
}

/** A connection that makes admins (its default role, or a group's): it grants what `keys.privileged` holds back. */
export const makesPrivileged = (c: { defaultRole: Role; groupRoles: readonly { role: Role }[] }): boolean =>
  grantsPrivilege(c.defaultRole) || c.groupRoles.some((g) => grantsPrivilege(g.role));

/**
 * Whether saving a connection lets it sign in as an existing member it could not sign in as before: whoever
 * holds the IdP's keys signs in as anyone it vouches for, and a member signed in by someone else is their
 * approval (or, once made admin, will be). `trustChanged`: the connection is new, names another IdP, or trusts
 * another signing key; otherwise only the domains it adds reach anyone new. Read in the transaction that saves.
 */
export async function reachesMembers(
  tx: Tx,
  kind: SsoKind,
  change: { trustChanged: boolean; domains: readonly string[]; domainsBefore: readonly string[] },
): Promise<boolean> {
  const domains = change.trustChanged ? [...change.domains] : change.domains.filter((d) => !change.domainsBefore.includes(d));
  return domains.length > 0 && (await store.membersSsoReaches(tx, kind, domains)) > 0;
}

/** Releases the members' links of this protocol at another IdP than the one a connection just saved trusts (audited by the save). */
export const releaseLinksElsewhere = (tx: Tx, kind: SsoKind, issuer: string): Promise<number> => store.releaseSsoLinks(tx, kind, issuer);

/**
 * Whether resetting a member's SSO link hands out an approver: the next sign-in links whoever the IdP vouches
 * for with their address, so for an owner or admin it is held as making an admin is (`keys.privileged`).
 */
export async function ssoResetMakesApprover(deps: Pick<SignInDeps, 'db'>, ctx: TxContext & { tenantId: string }, memberId: string) {
  const m = await deps.db.withTenant(ctx.tenantId, ctx, (tx) => store.memberById(tx, memberId));
  return !!m && grantsPrivilege(m.role);
}

export class SsoRegistry {
  private readonly protocols = new Map<SsoKind, SsoProtocol>();

  register(p: SsoProtocol): void {
    this.protocols.set(p.kind, p);
  }

  async start(deps: SignInDeps, req: Request, res: Response, email: string): Promise<string> {
    const domain = emailDomain(email) ?? '';
    const { rows } = await deps.db.withoutTenant({ requestId: req.id }, (tx) =>
      tx.query<{ tenant_id: string; kind: SsoKind }>('SELECT tenant_id, kind FROM parley_sso_for_domain($1)', [domain]),
    );
    // Domains claimed by two tenants before claims were exclusive: send nobody anywhere.
    if (new Set(rows.map((r) => r.tenant_id)).size > 1)
      throw new DomainError(
        'conflict',
        `More than one organisation uses single sign-on for ${domain}. Sign in with your password, or ask your administrator.`,
      );
    const found = rows.find((r) => this.protocols.has(r.kind));
    if (!found)
      throw new DomainError('not_found', `Single sign-on is not set up for ${domain}. Sign in with your password, or ask your administrator.`);
    return this.protocols.get(found.kind)!.begin(req, res, found.tenant_id);
  }
}

interface ConnectionRules {
  allowed_domains: string[];
  default_role: Role;
  group_roles: { group: string; role: Role }[];
}

/** The role the IdP's groups map to (first match), else the default; never owner, whatever is stored. */
const roleFor = (rules: ConnectionRules, groups: string[]): Role => {
  const role = rules.group_roles.find((g) => groups.includes(g.group))?.role ?? rules.default_role;
  return role === 'owner' ? rules.default_role : role;
};

/**
 * Signs in the person an IdP vouched for. Throws SsoRefused (audited as `sso.<kind>_refused`) when the
 * connection is gone, the email's domain is not allowed, or the member is disabled.
 */
export async function ssoSignIn(
  deps: SignInDeps,
  req: Request,
  res: Response,
  input: { tenantId: string; kind: SsoKind; profile: SsoProfile; mfaSatisfied?: boolean },
): Promise<SignIn> {
  const { tenantId, kind, profile } = input;
  const email = profile.email.trim().toLowerCase();
  type Refusal = { reason: string; message: string; memberId: string | null };
  const refuse = (reason: string, message: string, memberId: string | null = null): Refusal => ({ reason, message, memberId });
  const pending: { link: { memberId: string; identity: store.SsoIdentity } | null } = { link: null };
  const outcome = await deps.db.withTenant(tenantId, { requestId: req.id }, async (tx): Promise<string | Refusal> => {
    const conn = (await tx.query<ConnectionRules>('SELECT allowed_domains, default_role, group_roles FROM sso_connections WHERE kind = $1', [kind]))
      .rows[0];
    if (!conn) return refuse('not_configured', 'Single sign-on is no longer set up for this organisation.');
    const domain = emailDomain(email) ?? '';
    if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email) || !conn.allowed_domains.includes(domain)) {
      return refuse('domain_not_allowed', 'Your email address is not in a domain this organisation signs in with.');
    }
    const role = roleFor(conn, profile.groups);
    // With the subject, the IdP's issuer (OIDC) or entity id (SAML) is the identity a member is linked to.
    const identity: store.SsoIdentity = { kind, issuer: (await connectionIssuer(tx, kind)) ?? '', subject: profile.subject };
    const linked = await store.memberBySsoIdentity(tx, identity);
    const existing = linked ?? (await store.memberByEmail(tx, email));
    if (existing) {
      if (existing.status !== 'active') return refuse('member_disabled', 'Your account in this organisation is disabled.', existing.id);
      if (!linked) {
        // An IdP can vouch for any address (any account there may carry it), so its word on an address opens
        // no account that has another way in (a password), nor an owner's: the member confirms with it first.
        if (existing.password_hash || existing.role === 'owner') {
          pending.link = { memberId: existing.id, identity };
          return refuse('link_required', 'Your account here has a password: sign in with it once to link single sign-on to it.', existing.id);
        }
        // Without a password the IdP identity is the only way in: the first one linked is theirs until an
        // admin resets it, not whichever other account carries their address next, at this IdP or at another
        // one the connection was pointed at (a connection that moves with approval releases the old links).
        if (await store.hasSsoLink(tx, existing.id)) {
          return refuse(
            'identity_mismatch',
            'Your account here is linked to another account at an identity provider: ask an admin to reset your single sign-on link.',
            existing.id,
          );
        }
        await linkIdentity(deps, tx, req, { tenantId, memberId: existing.id, identity });
      }
      // With a group mapping the IdP decides the role at every sign-in; ownership is only ever granted by an owner.
      if (conn.group_roles.length && existing.role !== 'owner' && existing.role !== role) {
        await store.updateMember(tx, existing.id, { role });
        await deps.audit.append(tx, {
          tenantId,
          requestId: req.id,
          actor: { type: 'member', id: existing.id },
          action: 'member.role_change',
          target: { type: 'member', id: existing.id },
          metadata: { from: existing.role, to: role, via: kind },
        });
      }
      return existing.id;
    }
    const id = randomUUID();
    await store.insertMember(tx, {
      tenantId,
      id,
      email,
      displayName: profile.displayName.slice(0, 100) || email,
      role,
      passwordHash: null,
      createdBy: `sso:${kind}`,
    });
    await store.linkSsoIdentity(tx, tenantId, id, identity);
    await deps.audit.append(tx, {
      tenantId,
      requestId: req.id,
      actor: { type: 'member', id },
      action: 'member.join',
      target: { type: 'member', id },
      metadata: { via: kind, role },
    });
    return id;
  });
  if (typeof outcome !== 'string') {
    // Audited in its own transaction: the refusal is kept although nothing else is written.
    await deps.db.withTenant(tenantId, { requestId: req.id }, (tx) =>
      deps.audit.append(tx, {
        tenantId,
        requestId: req.id,
        actor: { type: 'member', id: outcome.memberId },
        action: `sso.${kind}_refused`,
        metadata: { reason: outcome.reason },
      }),
    );
    if (pending.link) await setSsoLinkStep(deps, res, { tenantId, ...pending.link });
    throw new SsoRefused(outcome.reason, outcome.message);
  }
  const memberId = outcome;
  return finishSignIn(deps, req, res, { tenantId, memberId, method: kind, mfaSatisfied: input.mfaSatisfied ?? false });
}
