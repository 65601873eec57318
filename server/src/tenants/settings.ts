// Tenant settings: the one module that reads them (every default applied, in one place) and writes them
// (validated as a whole document). PUT replaces the document, PATCH merges an RFC 7396 merge patch into it;
// either way the result must be a valid document, or nothing is stored.
import {
  ADMIN_OPERATIONS,
  ApprovalSettingsSchema,
  DEFAULT_SETTINGS,
  EffectiveSettingsSchema,
  PiiPolicySchema,
  PutSettingsRequest,
  SignInPolicySchema,
  type EffectiveSettings,
  type SettingsMergePatch,
  type SignInPolicy,
} from '@parley/protocol';
import type { AuditLog } from '../audit/log.js';
import type { Tx } from '../db/types.js';
import { DomainError } from '../errors.js';
import type { RequestCtx } from '../http/context.js';
import { fieldErrors } from '../http/validate.js';
import { lockSettings, type SettingsRow, selectSettings, storeSettings } from './settings-store.js';

type WriteCtx = RequestCtx & { tenantId: string };
type Doc = Record<string, unknown>;

/** Sections another endpoint owns: kept by PUT and PATCH of /settings. */
const OWN_ENDPOINT = ['signIn'] as const;

/** The stored document without the sections other endpoints own. */
const ownDocument = (stored: Doc): Doc =>
  Object.fromEntries(Object.entries(stored).filter(([k]) => !(OWN_ENDPOINT as readonly string[]).includes(k)));

const isObject = (v: unknown): v is Doc => typeof v === 'object' && v !== null && !Array.isArray(v);

/** RFC 7396: objects merge member by member, `null` removes a member, anything else replaces the target. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return patch;
  const out: Doc = isObject(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

/** A stored section that no longer parses (written by an older version) falls back to its default. */
function section<T>(schema: { safeParse(v: unknown): { success: true; data: T } | { success: false } }, value: unknown, fallback: T): T {
  const parsed = schema.safeParse(value ?? {});
  return parsed.success ? parsed.data : fallback;
}

/** Every setting of the tenant set on `tx` as it applies now: the stored document over the defaults. */
export const tenantSettings = async (tx: Tx): Promise<EffectiveSettings> => (await tenantProfile(tx)).settings;

/** The tenant's name with its settings in effect, in one read. */
export async function tenantProfile(tx: Tx): Promise<{ name: string; settings: EffectiveSettings }> {
  const row = await selectSettings(tx);
  if (!row) throw new DomainError('not_found', 'No such tenant.');
  return { name: row.name, settings: inEffect(row) };
}

// Checking the document against every section's schema costs more than reading it, and a turn reads it in
// three transactions: the settings in effect are kept per tenant for as long as its row is the same
// version, frozen, since every caller shares them.
const KEPT_MAX = 1000;
const kept = new Map<string, { rowVersion: string; settings: EffectiveSettings }>();

function inEffect(row: SettingsRow): EffectiveSettings {
  const hit = kept.get(row.tenantId);
  if (hit?.rowVersion === row.rowVersion) return hit.settings;
  const settings = deepFreeze(effective(row.settings));
  kept.delete(row.tenantId);
  if (kept.size >= KEPT_MAX) kept.delete(kept.keys().next().value!);
  kept.set(row.tenantId, { rowVersion: row.rowVersion, settings });
  return settings;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

function effective(s: Doc): EffectiveSettings {
  const shape = EffectiveSettingsSchema.shape;
  const d = DEFAULT_SETTINGS;
  const merged = (key: 'widget' | 'handoff' | 'budget' | 'retrieval' | 'retention') => ({ ...d[key], ...(isObject(s[key]) ? s[key] : {}) });
  return {
    widget: section(shape.widget, merged('widget'), { ...d.widget }),
    handoff: section(shape.handoff, merged('handoff'), { ...d.handoff }),
    budget: section(shape.budget, merged('budget'), { ...d.budget }),
    retrieval: section(shape.retrieval, merged('retrieval'), { ...d.retrieval }),
    retention: section(shape.retention, merged('retention'), { ...d.retention }),
    businessHours: section(shape.businessHours, s.businessHours ?? null, null),
    pii: section(PiiPolicySchema, s.pii, d.pii),
    // A list that no longer parses falls back to the strictest: every operation waits for approval.
    approvals: section(ApprovalSettingsSchema, s.approvals ?? d.approvals, { operations: [...ADMIN_OPERATIONS] }),
    // A sign-in policy that no longer parses falls back to the strictest reading of its MFA rule.
    signIn: section(SignInPolicySchema, s.signIn, { ...SignInPolicySchema.parse({}), requireMfa: 'everyone' }),
  };
}

/** GET: the stored document, the settings in effect, and the policy version. */
export async function readSettings(tx: Tx) {
  const row = await selectSettings(tx);
  if (!row) throw new DomainError('not_found', 'No such tenant.');
  const document = ownDocument(row.settings);
  return { settings: document, effective: inEffect(row), policyVersion: row.policyVersion };
}

/** Validates a whole document; a wrong shape is an invalid_input naming every field at fault. */
function validDocument(doc: unknown): Doc {
  const parsed = PutSettingsRequest.safeParse(doc);
  if (!parsed.success) throw new DomainError('invalid_input', 'The settings are not valid.', { errors: fieldErrors(parsed.error) });
  const out: Doc = { ...parsed.data };
  // `businessHours: null` means always open: the same as not set.
  for (const k of Object.keys(out)) if (out[k] === null || out[k] === undefined) delete out[k];
  return out;
}

/** How a settings write is made: PUT (`replace`) or PATCH (`merge`). */
export type SettingsWrite = 'replace' | 'merge';

/**
 * The document a write would store, not yet validated: `body` itself (PUT), or `body` merged into the
 * stored document without the sections other endpoints own (PATCH). The approvals check before the
 * write and the write under the lock both judge this one.
 */
const candidate = (how: SettingsWrite, stored: Doc, body: unknown): unknown => (how === 'replace' ? body : mergePatch(ownDocument(stored), body));

/**
 * PUT (`replace`: the document becomes `body`; sections left out take their defaults again) or PATCH
 * (`merge`: `body` merged into the stored document, RFC 7396); the result is validated whole. Unless
 * `mayRelaxApprovals` (the write was approved, or is the platform's own), taking operations off the
 * approvals list is refused.
 */
export async function writeSettings(
  tx: Tx,
  audit: AuditLog,
  ctx: WriteCtx,
  how: SettingsWrite,
  body: unknown,
  mayRelaxApprovals: boolean,
): Promise<number> {
  const row = await lockSettings(tx, ctx.tenantId);
  if (!row) throw new DomainError('not_found', 'No such tenant.');
  const kept = Object.fromEntries(OWN_ENDPOINT.filter((k) => k in row.settings).map((k) => [k, row.settings[k]]));
  const current = ownDocument(row.settings);
  const next = validDocument(candidate(how, row.settings, body));
  // Checked again under the lock: an operation added to the list after the request was checked (and so
  // found not to relax it) must not come off unapproved.
  if (!mayRelaxApprovals && dropsApprovals(row.settings, next))
    throw new DomainError('conflict', 'The approvals list changed while this request was checked: send it again.');
  const changed = [...new Set([...Object.keys(current), ...Object.keys(next)])].filter((k) => JSON.stringify(current[k]) !== JSON.stringify(next[k]));
  const version = await storeSettings(tx, ctx.tenantId, { ...next, ...kept });
  await audit.append(tx, {
    tenantId: ctx.tenantId,
    requestId: ctx.requestId,
    actor: ctx.actor,
    action: 'settings.update',
    metadata: { how, sections: changed.sort(), policyVersion: version },
  });
  return version;
}

/** PATCH for the platform's own writes (the demo's seed): nothing to approve. */
export const mergeSettings = (tx: Tx, audit: AuditLog, ctx: WriteCtx, patch: SettingsMergePatch) =>
  writeSettings(tx, audit, ctx, 'merge', patch, true);

/** Whether the stored `settings` list operations for approval that the document `next` leaves off. */
function dropsApprovals(settings: Doc, next: Doc): boolean {
  const kept: readonly string[] = (next.approvals as { operations?: string[] } | undefined)?.operations ?? [];
  return effective(settings).approvals.operations.some((op) => !kept.includes(op));
}

/**
 * Whether a write takes operations off the approvals list (itself an operation that may need approval).
 * A body that is not a valid document is left for the write to refuse.
 */
export async function relaxesApprovals(tx: Tx, how: SettingsWrite, body: unknown): Promise<boolean> {
  const row = await selectSettings(tx);
  if (!row) throw new DomainError('not_found', 'No such tenant.');
  const next = PutSettingsRequest.safeParse(candidate(how, row.settings, body));
  return next.success && dropsApprovals(row.settings, next.data);
}

/** The sign-in policy (its own endpoint, people/): stored beside the document, the only other writer. */
export async function writeSignInPolicy(tx: Tx, tenantId: string, policy: SignInPolicy): Promise<void> {
  const row = await lockSettings(tx, tenantId);
  if (!row) throw new DomainError('not_found', 'No such tenant.');
  await storeSettings(tx, tenantId, { ...row.settings, signIn: policy });
}

/**
 * Changes the sign-in policy under the same lock: `change` gets the policy in effect and returns the new
 * one, or null to leave it as it is. Returns what was written, or null.
 */
export async function changeSignInPolicy(
  tx: Tx,
  tenantId: string,
  change: (current: SignInPolicy) => SignInPolicy | null,
): Promise<SignInPolicy | null> {
  const row = await lockSettings(tx, tenantId);
  if (!row) throw new DomainError('not_found', 'No such tenant.');
  const next = change(inEffect(row).signIn);
  if (next) await storeSettings(tx, tenantId, { ...row.settings, signIn: next });
  return next;
}
