// People: members of a tenant, their roles, sign-in (password, MFA, SSO), sessions and invitations.
// The roles, their permission table and the refusal codes are plain constants (constants.ts).
import { z } from 'zod';
import { ApiKeySchema, CapabilitySchema } from './admin.js';
import { EMAIL_DOMAIN, MEMBER_STATUSES, MFA_METHODS, PLATFORM_ROLE, ROLES, SHARED_EMAIL_DOMAINS, SIGN_IN_METHODS } from './constants.js';
import { emailText, text } from './text.js';

export const RoleSchema = z.enum(ROLES);
export const MemberRoleSchema = z.enum([...ROLES, PLATFORM_ROLE]);

/** Email as stored and compared: trimmed and lower-cased (defined with the other text rules). */
export { emailText };

/** A moment as the server writes it (`Date.toISOString()`). */
const iso = () => z.iso.datetime({ offset: true });
const TenantRef = z.object({ id: z.string().uuid(), name: z.string() });

export const MemberSchema = z.object({
  id: z.string().uuid(),
  email: z.string(),
  displayName: z.string(),
  role: RoleSchema,
  status: z.enum(MEMBER_STATUSES),
  mfa: z.object({ totp: z.boolean(), passkeys: z.number().int().min(0) }),
  createdAt: iso(),
  lastSignInAt: iso().nullable(),
  /** The single sign-on protocols whose IdP identity signs this member in. */
  sso: z.array(z.enum(['oidc', 'saml'])),
});
export type Member = z.infer<typeof MemberSchema>;
export const MemberListResponse = z.object({ members: z.array(MemberSchema) });
export const MemberResponse = z.object({ member: MemberSchema });
/** `DELETE /v1/admin/members/{id}/sessions`: how many of the member's sessions ended. */
export const EndedSessionsResponse = z.object({ ended: z.number().int().min(0) });
/** At least one field: a change naming nothing is refused (400), not stored. */
export const UpdateMemberRequest = z
  .strictObject({
    role: RoleSchema.optional(),
    status: z.enum(MEMBER_STATUSES).optional(),
    displayName: text().trim().min(1).max(100).optional(),
  })
  .refine((b) => b.role !== undefined || b.status !== undefined || b.displayName !== undefined, {
    message: 'names nothing to change: give role, status or displayName',
  });

export const InviteSchema = z.object({
  id: z.string().uuid(),
  email: z.string(),
  role: RoleSchema,
  createdAt: iso(),
  expiresAt: iso(),
  acceptedAt: iso().nullable(),
  revokedAt: iso().nullable(),
  /** How the link left: `smtp`, or `log` when no SMTP server is configured (development). */
  delivery: z.enum(['smtp', 'log']),
  /**
   * Only for `log` delivery, and only to whoever sent it: the link, so the console can show it. Never when
   * it went by email, and never to a teammate (the link is the invitation's only credential).
   */
  inviteUrl: z.string().nullable(),
});
export type Invite = z.infer<typeof InviteSchema>;
export const CreateInviteRequest = z.strictObject({ email: emailText(), role: RoleSchema });
export const CreatedInviteResponse = z.object({ invite: InviteSchema });
export const InviteListResponse = z.object({ invites: z.array(InviteSchema) });

/** The token of an invite link (`/console/#invite=<token>`): sent in a body, never in a URL the server logs. */
export const InvitePreviewRequest = z.strictObject({ token: text().min(10).max(200) });
/** What an invite link shows before it is accepted. */
export const InvitePreviewResponse = z.object({
  email: z.string(),
  role: RoleSchema,
  tenant: TenantRef,
  expiresAt: iso(),
  /** The tenant signs in only with SSO: the invitee sets no password. */
  ssoOnly: z.boolean(),
});
export const AcceptInviteRequest = z.strictObject({
  token: text().min(10).max(200),
  displayName: text().trim().min(1).max(100),
  /** Required unless the tenant signs in only with SSO. */
  password: text().max(256).optional(),
});

/** A signed-in member changes their own password; their other sessions end. */
export const ChangePasswordRequest = z.strictObject({
  currentPassword: text().min(1).max(256),
  newPassword: text().max(256),
});
export const ChangePasswordResponse = z.object({ otherSessionsEnded: z.number().int().min(0) });

export const PasswordSignInRequest = z.strictObject({
  email: emailText(),
  password: text().min(1).max(256),
  /** When the email belongs to several tenants, the one to sign in to. */
  tenantId: z.string().uuid().optional(),
});
export const SignInMethodSchema = z.enum(SIGN_IN_METHODS);
export type SignInMethod = z.infer<typeof SignInMethodSchema>;

export const SessionMemberSchema = z.object({
  id: z.string().uuid(),
  email: z.string(),
  displayName: z.string(),
  role: MemberRoleSchema,
  capabilities: z.array(CapabilitySchema),
});
/**
 * `GET /v1/admin/me`: who is calling (a person's session or a key), their tenant and what they may do, so
 * a client shows only what the caller can use.
 */
export const AdminMeResponse = z.object({
  tenant: z.object({ id: z.string().uuid(), name: z.string() }),
  capabilities: z.array(CapabilitySchema),
  member: z
    .object({ id: z.string().uuid(), email: z.string(), displayName: z.string(), role: MemberRoleSchema, sessionId: z.string().uuid() })
    .nullable(),
  apiKey: ApiKeySchema.pick({ id: true, name: true, prefix: true, capabilities: true, expiresAt: true }).nullable(),
});
export type AdminMe = z.infer<typeof AdminMeResponse>;

export const SignInResponse = z.discriminatedUnion('status', [
  z.object({ status: z.literal('signed_in'), member: SessionMemberSchema, tenant: TenantRef }),
  /** Password (or SSO) was right; a second factor is next (a short-lived `__Host-parley_mfa` cookie carries the step). */
  z.object({ status: z.literal('mfa_required'), methods: z.array(z.enum(MFA_METHODS)) }),
  /** The tenant requires MFA and the member has none yet: enrol one to finish signing in. */
  z.object({ status: z.literal('mfa_enrolment_required'), methods: z.array(z.enum(['totp', 'passkey'])) }),
  z.object({ status: z.literal('choose_tenant'), tenants: z.array(TenantRef) }),
  /** An invitation was accepted in a tenant that signs in only with SSO: sign in there next. */
  z.object({ status: z.literal('sso_required'), tenant: TenantRef }),
]);
export type SignIn = z.infer<typeof SignInResponse>;

/**
 * `GET /v1/auth/session`: whether the request carried console session cookies, which the page cannot read
 * (they are HttpOnly). `present` says nothing of their validity: the first authenticated request tells.
 */
export const SessionPresenceResponse = z.object({ session: z.enum(['present', 'none']) });
export type SessionPresence = z.infer<typeof SessionPresenceResponse>;

export const TotpCodeRequest = z.strictObject({
  code: text()
    .trim()
    .regex(/^\d{6}$/, 'must be 6 digits'),
});
export const RecoveryCodeRequest = z.strictObject({ code: text().trim().min(8).max(40) });
/** A WebAuthn response from `@simplewebauthn/browser`, checked by `@simplewebauthn/server`. */
export const WebAuthnResponseRequest = z.strictObject({
  response: z.record(z.string(), z.unknown()),
  /** A label for a new passkey. */
  name: text().trim().min(1).max(60).optional(),
});
export const PasskeySignInOptionsRequest = z.strictObject({ email: emailText().optional() });

export const TotpEnrolmentResponse = z.object({ secret: z.string(), otpauthUri: z.string() });
export const RecoveryCodesResponse = z.object({ recoveryCodes: z.array(z.string()) });
export const PasskeySchema = z.object({ id: z.string().uuid(), name: z.string(), createdAt: iso(), lastUsedAt: iso().nullable() });
export const MyMfaResponse = z.object({
  totp: z.boolean(),
  passkeys: z.array(PasskeySchema),
  recoveryCodesLeft: z.number().int().min(0),
  required: z.boolean(),
});
export type MyMfa = z.infer<typeof MyMfaResponse>;

export const SessionSchema = z.object({
  id: z.string().uuid(),
  memberId: z.string().uuid(),
  createdAt: iso(),
  lastSeenAt: iso(),
  /** The earlier of the idle and the absolute end. */
  expiresAt: iso(),
  method: SignInMethodSchema,
  userAgent: z.string().nullable(),
  current: z.boolean(),
});
export type Session = z.infer<typeof SessionSchema>;
export const SessionListResponse = z.object({ sessions: z.array(SessionSchema) });

export const SignInPolicySchema = z.strictObject({
  /** Who must use a second factor. */
  requireMfa: z.enum(['off', 'admins', 'everyone']).default('off'),
  /** Members sign in only through the tenant's SSO; the break-glass owner still may, audited and alerted. */
  enforceSso: z.boolean().default(false),
  /** The owner who may still use a password while SSO is enforced. */
  breakGlassMemberId: z.string().uuid().nullable().default(null),
  /** A session ends after this long without use. */
  idleTimeoutMinutes: z
    .number()
    .int()
    .min(5)
    .max(7 * 24 * 60)
    .default(8 * 60),
  /** A session ends this long after sign-in, used or not. */
  absoluteTimeoutHours: z
    .number()
    .int()
    .min(1)
    .max(90 * 24)
    .default(7 * 24),
});
export type SignInPolicy = z.infer<typeof SignInPolicySchema>;
export const SignInPolicyResponse = z.object({ policy: SignInPolicySchema });
/** `GET /v1/admin/sign-in-policy`: the policy, and the SSO connections the tenant has (their settings are asked for apart). */
export const SignInPolicyReadResponse = SignInPolicyResponse.extend({ connections: z.array(z.enum(['oidc', 'saml'])) });
export type SignInPolicyRead = z.infer<typeof SignInPolicyReadResponse>;

/** Ownership is never granted by an IdP: only an owner makes another. */
const groupRoles = z.array(z.strictObject({ group: text().trim().min(1).max(200), role: RoleSchema.exclude(['owner']) })).max(50);
const ssoCommon = {
  /** Only emails at these domains may sign in (and join) through this connection. */
  allowedDomains: z
    .array(
      text()
        .trim()
        .toLowerCase()
        .min(3)
        .max(253)
        .regex(EMAIL_DOMAIN, 'is not a domain name (letters, digits and hyphens between dots; an international name as its xn-- form)')
        .refine(
          (d) => !(SHARED_EMAIL_DOMAINS as readonly string[]).includes(d),
          'is a mailbox provider anyone can use, not an organisation’s domain',
        ),
    )
    .min(1)
    .max(50),
  /** Role of a person who signs in for the first time, unless a group maps to another. */
  defaultRole: RoleSchema.exclude(['owner']).default('agent'),
  /** The claim or attribute with the person's groups, and which group grants which role (first match wins). */
  groupsClaim: text().trim().min(1).max(200).default('groups'),
  groupRoles: groupRoles.default([]),
};
export const OidcConnectionRequest = z.strictObject({
  issuer: text().trim().url().max(500),
  clientId: text().trim().min(1).max(300),
  /** Write-only: sealed with the tenant's data key; omit to keep the stored one. */
  clientSecret: text().min(1).max(2000).optional(),
  ...ssoCommon,
});
export const OidcConnectionSchema = z.object({
  issuer: z.string(),
  clientId: z.string(),
  hasClientSecret: z.boolean(),
  allowedDomains: z.array(z.string()),
  defaultRole: RoleSchema,
  groupsClaim: z.string(),
  groupRoles: z.array(z.object({ group: z.string(), role: RoleSchema })),
  /** The redirect URI to register at the IdP. */
  redirectUri: z.string(),
});
export type OidcConnection = z.infer<typeof OidcConnectionSchema>;
export const SamlConnectionRequest = z.strictObject({
  /** The IdP's single sign-on URL (HTTP-Redirect binding): https (http only in development). */
  entryPoint: text()
    .trim()
    .url({ protocol: /^https?$/, message: 'must be an http(s) URL' })
    .max(1000),
  /** The IdP's entity id (the assertion's Issuer). */
  idpIssuer: text().trim().min(1).max(500),
  /** The IdP's signing certificate(s), PEM or bare base64. */
  idpCertificates: z.array(text().trim().min(100).max(20_000)).min(1).max(3),
  ...ssoCommon,
});
export const SamlConnectionSchema = z.object({
  entryPoint: z.string(),
  idpIssuer: z.string(),
  idpCertificates: z.array(z.string()),
  allowedDomains: z.array(z.string()),
  defaultRole: RoleSchema,
  groupsClaim: z.string(),
  groupRoles: z.array(z.object({ group: z.string(), role: RoleSchema })),
  /** What to register at the IdP. */
  spEntityId: z.string(),
  acsUrl: z.string(),
  metadataUrl: z.string(),
});
export type SamlConnection = z.infer<typeof SamlConnectionSchema>;
/** Platform operators: the deployment's tenants. */
export const PlatformTenantSchema = z.object({ id: z.string().uuid(), name: z.string(), createdAt: iso(), members: z.number().int().min(0) });
export type PlatformTenant = z.infer<typeof PlatformTenantSchema>;
export const PlatformTenantListResponse = z.object({ tenants: z.array(PlatformTenantSchema) });
export const PlatformCreateTenantRequest = z.strictObject({
  name: text().trim().min(1).max(200),
  domains: z.array(text().trim().min(1).max(260)).max(50).default([]),
});
/** A new tenant and its first keys: the secret key (all capabilities) is shown this once and never stored. */
export const PlatformCreatedTenantResponse = z.object({ tenant: TenantRef, publishableKey: z.string(), secretKey: z.string() });
export type PlatformCreatedTenant = z.infer<typeof PlatformCreatedTenantResponse>;

export const SsoStartRequest = z.strictObject({ email: emailText() });
/** Where to send the browser: the identity provider's sign-in page. */
export const SsoStartResponse = z.object({ redirectUrl: z.string().url() });

/**
 * The form an IdP's page posts to the SAML ACS (HTTP-POST binding). Anything else in it is ignored; a form
 * without a `SAMLResponse` is refused as `malformed` (a redirect, never a 400: a browser is waiting).
 */
export const SamlAcsForm = z.object({ SAMLResponse: z.string(), RelayState: z.string().optional() });

// ---- MFA: enrolment and sign-in step responses (issue 9, MFA slice) -----------------------------------
/** WebAuthn options for `@simplewebauthn/browser` (`startRegistration` / `startAuthentication` take them as `optionsJSON`). */
export const WebAuthnOptionsResponse = z.object({ options: z.record(z.string(), z.unknown()) });
/** A passkey was added; `recoveryCodes` are shown once and only when a new set was issued (else empty). */
export const PasskeyAddedResponse = z.object({ passkey: PasskeySchema, recoveryCodes: z.array(z.string()) });
/** Enrolment during the MFA step of a sign-in: the sign-in's outcome, and the recovery codes to show once. */
export const EnrolledSignInResponse = z.intersection(SignInResponse, z.object({ recoveryCodes: z.array(z.string()) }));
