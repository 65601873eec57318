// Evidence packs: one zip an auditor can check offline. Every file is listed with its SHA-256 in
// manifest.json; manifest.sig is a C2SP signed note over the manifest's hash by the deployment's audit key
// (the key GET /v1/audit/verifier-key publishes); the audit entries of the period come with inclusion
// proofs against the tenant's signed checkpoint. The manifest's hash then goes into the audit log as an
// `evidence.pack` entry, so a later checkpoint bounds when the pack was made. `@parley/node`'s
// verifyEvidencePack is the verifier. The archive itself (manifest, signature, audit section) is
// ./archive.ts, shared with tenant exports.
import { createHash } from 'node:crypto';
import {
  ADMIN_OPERATION_LABELS,
  ROLE_CAPABILITIES,
  type AdminOperation,
  type EvidencePackRequest,
  type EvidenceSubscriptionRequest,
} from '@parley/protocol';
import { canonicalJson } from '../audit/canonical.js';
import type { AuditLog } from '../audit/log.js';
import type { EntryRow } from '../audit/store.js';
import { modeFor, newRedactionState, redact, type PiiClass } from '../ai/pii/index.js';
import type { Db } from '../db/index.js';
import type { ActorRef, Tx, TxContext } from '../db/types.js';
import { DomainError } from '../errors.js';
import { readSettings, tenantProfile } from '../tenants/settings.js';
import { auditSection, json, sealPack, sha256 } from './archive.js';
import { buildReport } from './report.js';
import { renderReportHtml } from './report-html.js';
import { renderReportPdf } from './report-pdf.js';
import * as store from './store.js';

/** Entries one pack proves; a longer period is asked for in parts. */
export const MAX_PACK_ENTRIES = 100_000;

/** Audit actions that change a policy: the period's policy history, since settings keep only the current document. */
const POLICY_ACTIONS =
  /^(settings\.update|signin\.policy_update|sso\.(oidc|saml)_(configured|removed)|provider\.(set|remove)|member\.(role_change|invite|remove)|identity\.configure|domain\.(add|remove)|data_key\.(rotate|rewrap)|api_key\.revoke|publishable_key\.create)$/;

// A synthetic canary per class the live redaction check runs: none is anyone's data.
const CANARY: [PiiClass, string][] = [
  ['email', 'canary.evidence@example.com'],
  ['phone', '+1 415 555 0134'],
  ['payment_card', '4111 1111 1111 1111'],
];

export interface EvidenceDeps {
  db: Db;
  audit: AuditLog;
}

/** A request's context (http/context.ts RequestCtx): with a member's authority, its transactions hold them. */
export interface EvidenceCtx extends TxContext {
  tenantId: string;
  actor: ActorRef;
}

const record = (r: EntryRow) => ({ seq: r.seq, ts: r.ts.toISOString(), action: r.action, actorType: r.actor_type, metadata: r.metadata });

/**
 * What the pack says of the tenant's approval rules: the operations its settings (policies/settings.json,
 * `approvals.operations`) hold for another owner's or admin's approval, as in force when it was built.
 */
export function approvalRules(operations: readonly AdminOperation[]): string {
  if (!operations.length)
    return "Approval rules: this tenant holds no admin operation for approval (approvals.operations in policies/settings.json is empty), so each runs on its requester's authority alone.";
  const listed = operations.map((o) => `${o} (${ADMIN_OPERATION_LABELS[o]})`).join('; ');
  return `Approval rules: as in force when the pack was generated, ${operations.length === 1 ? '1 admin operation waits' : `${operations.length} admin operations wait`} for another owner's or admin's approval before running, as approvals.operations in policies/settings.json lists: ${listed}. Proposals, decisions and runs are the approval.* entries of the audit log; earlier lists are not stored (their changes are settings.update entries in policies/changes.json).`;
}

/** The live self-checks: row-level security as the app's role sees it, and the redaction engine on a canary. */
async function selfChecks(tx: Tx, tenantId: string, noTenant: { own: number; others: number }, pii: Parameters<typeof redact>[1]) {
  const rls = await store.rowSecurity(tx);
  const unprotected = rls.tables.filter((t) => !t.enabled || !t.forced).map((t) => t.table);
  const seen = await store.visibleRows(tx, tenantId);
  const canaryText = `Evidence canary: ${CANARY.map(([, v]) => v).join(', ')}.`;
  const out = redact(canaryText, pii, 'api', newRedactionState());
  const classes = CANARY.map(([cls, value]) => {
    const mode = modeFor(pii, cls, 'api');
    const removed = !out.redacted.includes(value);
    // `flag` keeps the value by the tenant's own policy; every other mode must take it out.
    return { class: cls, mode, detected: out.matches.some((m) => m.class === cls), removed, passed: mode === 'flag' ? true : removed };
  });
  return [
    {
      name: 'Row-level security is enabled and forced on every table with a tenant_id column',
      passed: unprotected.length === 0 && rls.tables.length > 0,
      detail: { tables: rls.tables.length, unprotected },
    },
    { name: "The application's database role does not bypass row-level security", passed: !rls.bypassesRls, detail: { role: rls.role } },
    {
      name: "A session set to this tenant sees its own rows and no other tenant's",
      passed: seen.own > 0 && seen.others === 0,
      detail: { ownRows: seen.own, otherTenantsRows: seen.others },
    },
    {
      name: 'A session with no tenant set sees no tenant rows',
      passed: noTenant.own === 0 && noTenant.others === 0,
      detail: { rows: noTenant.own + noTenant.others },
    },
    {
      name: "The PII engine applies the tenant's policy (API channel) to a synthetic canary",
      passed: classes.every((c) => c.passed),
      detail: { canarySha256: sha256(Buffer.from(canaryText)), redactedSha256: sha256(Buffer.from(out.redacted)), classes },
    },
  ];
}

/**
 * The policies a pack shows, and their SHA-256: what the sweep compares to decide a kept pack is out of
 * date. Member counts are not policy, so they are not in it.
 */
async function policySnapshot(tx: Tx) {
  const settings = await readSettings(tx);
  const { signIn, ...effective } = settings.effective;
  const access = { roles: ROLE_CAPABILITIES, signIn, sso: await store.ssoConnections(tx), allowedDomains: await store.allowedDomains(tx) };
  const providers = await store.providers(tx);
  const sha256 = createHash('sha256')
    .update(canonicalJson({ policyVersion: settings.policyVersion, effective, access, providers }))
    .digest();
  return { policyVersion: settings.policyVersion, effective, access, providers, sha256 };
}

/** What must happen before the tenant's transaction: integration, and the no-tenant read (one connection when embedded). */
async function preflight(deps: EvidenceDeps, tenantId: string, requestId: string | null) {
  // Entries committed before the request are integrated, so the checkpoint covers them.
  await deps.audit.integrator?.catchUp(tenantId);
  return deps.db.withoutTenant({ requestId }, (tx) => store.visibleRows(tx, null));
}

/** Builds, signs and audits one pack; returns the zip and the manifest hash appended to the audit log. */
export async function buildEvidencePack(deps: EvidenceDeps, ctx: EvidenceCtx, req: EvidencePackRequest): Promise<BuiltPack> {
  const noTenant = await preflight(deps, ctx.tenantId, ctx.requestId);
  return deps.db.withTenant(ctx.tenantId, ctx, async (tx) => assemblePack(tx, deps, ctx, req, noTenant, await policySnapshot(tx)));
}

interface BuiltPack {
  zip: Uint8Array;
  manifestSha256: string;
}

async function assemblePack(
  tx: Tx,
  deps: EvidenceDeps,
  ctx: EvidenceCtx,
  req: EvidencePackRequest,
  noTenant: { own: number; others: number },
  policy: Awaited<ReturnType<typeof policySnapshot>>,
  kept?: { version: number },
): Promise<BuiltPack> {
  const from = new Date(req.from);
  const to = new Date(req.to);
  const section = await auditSection(tx, deps.audit, ctx.tenantId, {
    from,
    to,
    limit: MAX_PACK_ENTRIES,
    tooMany: () =>
      new DomainError('invalid_input', `The period holds more than ${MAX_PACK_ENTRIES} audit entries; ask for a shorter one.`, {
        errors: [{ path: '/to', message: `the period holds more than ${MAX_PACK_ENTRIES} audit entries`, code: 'too_big' }],
      }),
  });
  const { checkpoint, rows } = section;
  const checks = await selfChecks(tx, ctx.tenantId, noTenant, policy.effective.pii);
  const generatedAt = new Date().toISOString();
  const period = { from: from.toISOString(), to: to.toISOString() };
  const coverage = [
    `Audit: the ${rows.length} entries timestamped in the period and integrated into the tenant's log up to the checkpoint at size ${checkpoint.size}; entries sequenced later are not included.`,
    `Policies: as in force when the pack was generated (policy version ${policy.policyVersion}). Settings keep only the current document, so the contents of earlier versions are not in the pack; the period's changes (which sections, by whom, the new version) are in policies/changes.json, from the audit log.`,
    'AI call records: the ai.* audit entries of the period (model, tokens, hashes; never text) and the daily budget counters.',
    'Handoffs and conversations: counted from the rows that still exist; rows removed by retention or erasure before generation are not counted.',
    "Retention: the retention.sweep entries of the period (lifecycle/retention.json), one per sweep that deleted the tenant's personal data, with counts per kind and the periods in force (never what the rows held); the windows are as in force when the pack was generated.",
    approvalRules(policy.effective.approvals.operations),
  ];
  const files: Record<string, Uint8Array> = {
    'policies/settings.json': json({ policyVersion: policy.policyVersion, effective: policy.effective }),
    'policies/access.json': json({ ...policy.access, members: await store.memberCounts(tx) }),
    'policies/providers.json': json({ providers: policy.providers }),
    'policies/changes.json': json({ changes: rows.filter((r) => POLICY_ACTIONS.test(r.action)).map(record) }),
    'keys/history.json': json({
      dataKeys: await store.dataKeyHistory(tx),
      auditSigningKeys: await store.signingKeyHistory(tx),
      rotations: rows.filter((r) => r.action.startsWith('data_key.')).map(record),
    }),
    'ai/calls.json': json({ usage: await store.aiUsage(tx, from, to), calls: rows.filter((r) => r.action.startsWith('ai.')).map(record) }),
    'handoffs/stats.json': json({
      conversations: await store.conversationCount(tx, from, to),
      handoffs: await store.handoffCounts(tx, from, to),
      policy: policy.effective.handoff,
    }),
    'checks/self-checks.json': json({ ranAt: generatedAt, checks }),
    'lifecycle/retention.json': json({
      windows: policy.effective.retention,
      runs: rows.filter((r) => r.action === 'retention.sweep').map(record),
    }),
  };
  // The report names the key that signs the pack: the one GET /v1/audit/verifier-key publishes.
  const verifierKey = (await deps.audit.verifierKeys(tx, null))[0]!;
  const report = buildReport({
    tenantId: ctx.tenantId,
    tenantName: (await tenantProfile(tx)).name,
    framework: req.framework,
    period,
    generatedAt,
    verifierKey,
    checkpointSize: checkpoint.size,
    entries: rows.length,
    coverage,
    checks,
  });
  files['report.html'] = Buffer.from(renderReportHtml(report), 'utf8');
  files['report.pdf'] = await renderReportPdf(report);
  const sealed = await sealPack(tx, deps.audit, {
    kind: 'evidence',
    tenantId: ctx.tenantId,
    generatedAt,
    section,
    head: { framework: req.framework, period },
    tail: { coverage },
    files,
  });
  const { manifestSha256 } = sealed;
  await deps.audit.append(tx, {
    tenantId: ctx.tenantId,
    requestId: ctx.requestId,
    actor: ctx.actor,
    action: 'evidence.pack',
    metadata: {
      framework: req.framework,
      manifestSha256,
      checkpointSize: checkpoint.size,
      entries: rows.length,
      files: sealed.fileCount,
      ...(kept ? { version: kept.version } : {}),
    },
  });
  return { zip: sealed.zip, manifestSha256 };
}

// ---- packs kept current: the subscription, the versions, and the sweep that builds them ----

const SWEEP_ACTOR: ActorRef = { type: 'system', id: 'evidence-sweep' };
const DAY_MS = 86_400_000;

const subscriptionOut = (s: store.SubscriptionRow | null) => ({
  subscription: s && { framework: s.framework, periodDays: s.period_days, updatedAt: s.updated_at.toISOString() },
});

export const getSubscription = async (tx: Tx) => subscriptionOut(await store.subscription(tx));

export async function setSubscription(tx: Tx, audit: AuditLog, ctx: EvidenceCtx, body: EvidenceSubscriptionRequest) {
  const row = await store.upsertSubscription(tx, ctx.tenantId, body.framework, body.periodDays);
  await audit.append(tx, { ...ctx, action: 'evidence.subscribe', metadata: { framework: body.framework, periodDays: body.periodDays } });
  return subscriptionOut(row);
}

export async function removeSubscription(tx: Tx, audit: AuditLog, ctx: EvidenceCtx): Promise<void> {
  if (await store.deleteSubscription(tx)) await audit.append(tx, { ...ctx, action: 'evidence.unsubscribe' });
}

export async function listPacks(tx: Tx) {
  return {
    packs: (await store.packs(tx)).map((p) => ({
      version: p.version,
      framework: p.framework,
      manifestSha256: Buffer.from(p.manifest_sha256).toString('hex'),
      createdAt: p.created_at.toISOString(),
      supersededAt: p.superseded_at?.toISOString() ?? null,
    })),
  };
}

export async function keptPack(tx: Tx, version: number): Promise<Uint8Array> {
  const archive = await store.packArchive(tx, version);
  if (!archive) throw new DomainError('not_found', 'No such evidence pack version.');
  return archive;
}

/**
 * Builds the next version of a subscribed tenant's pack when the policies it shows (or the framework
 * asked for) changed since the newest kept version, which is then marked superseded; one transaction.
 * Returns the new version, or null when the kept one is still current or there is no subscription.
 */
export async function refreshKeptPack(deps: EvidenceDeps, tenantId: string): Promise<number | null> {
  const noTenant = await preflight(deps, tenantId, null);
  return deps.db.withTenant(tenantId, { requestId: null }, async (tx) => {
    const sub = await store.subscription(tx);
    if (!sub) return null;
    const [latest] = await store.packs(tx, { latestForUpdate: true });
    const policy = await policySnapshot(tx);
    if (latest && latest.framework === sub.framework && policy.sha256.equals(Buffer.from(latest.policy_sha256))) return null;
    const version = (latest?.version ?? 0) + 1;
    const now = Date.now();
    const req = { framework: sub.framework, from: new Date(now - sub.period_days * DAY_MS).toISOString(), to: new Date(now).toISOString() };
    const pack = await assemblePack(tx, deps, { tenantId, requestId: null, actor: SWEEP_ACTOR }, req, noTenant, policy, { version });
    await store.addPack(tx, tenantId, {
      version,
      framework: sub.framework,
      policySha256: policy.sha256,
      manifestSha256: Buffer.from(pack.manifestSha256, 'hex'),
      archive: pack.zip,
    });
    return version;
  });
}

/** The evidence sweep: every subscribed tenant in its own transaction, so one failure does not stop the rest. */
export async function evidenceSweep(deps: EvidenceDeps): Promise<{ built: number; failures: { tenantId: string; message: string }[] }> {
  const tenants = await deps.db.withPlatform(
    { requestId: null, audit: false, reason: 'finding tenants with evidence subscriptions: ids only' },
    (tx) => store.subscribedTenants(tx),
  );
  let built = 0;
  const failures: { tenantId: string; message: string }[] = [];
  for (const tenantId of tenants) {
    try {
      if ((await refreshKeptPack(deps, tenantId)) !== null) built++;
    } catch (err) {
      failures.push({ tenantId, message: (err as Error).message });
    }
  }
  return { built, failures };
}
