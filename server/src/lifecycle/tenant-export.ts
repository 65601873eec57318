// Tenant export: the whole workspace (conversations, knowledge, settings, members) and its audit log as
// one signed archive, the same format as evidence packs (../evidence/archive.ts; `kind: "tenant-export"`),
// so `@parley/node`'s verifyEvidencePack and `parley evidence verify` check it offline.
//
// The classification registry (@parley/protocol CLASSIFICATION) picks every column: `secret` never;
// `restricted` (the PII vault's original values) only for an owner, signed in, who gives a reason;
// `personal` always, since it is the tenant's own data (sealed personal values are opened, as the
// data-subject export does); `public`, `internal` and `confidential` always. Columns left out are named in
// the manifest by class. The export is audited (`tenant.export`) with row counts per table and the classes
// included, never a value.
import { CLASSIFICATION, DATA_CLASSES, type DataClass, type MemberRole, type TenantExportRequest } from '@parley/protocol';
import { reasonForRecord } from '../ai/pii/reason.js';
import type { AuditLog } from '../audit/log.js';
import type { Keyring } from '../crypto/keyring.js';
import { SEALED_COLUMNS } from '../crypto/sealed-columns.js';
import type { Db } from '../db/index.js';
import { DomainError } from '../errors.js';
import type { RequestCtx } from '../http/context.js';
import { auditSection, json, sealPack } from '../evidence/archive.js';
import { tableRows } from './export-store.js';

export interface TenantExportDeps {
  db: Db;
  audit: AuditLog;
  keyring: Keyring;
}

export type TenantExportCtx = RequestCtx & {
  tenantId: string;
  /**
   * Who asks, for the restricted rule: a signed-in member's role, `operator` for the deployment's CLI
   * (which holds the key-encryption key anyway), or null for an API key.
   */
  role: MemberRole | null;
  /**
   * The approved proposal this export runs under, when the tenant holds restricted exports to need a
   * second admin's approval (approvals/gate.ts claimed it before calling); recorded in the manifest and
   * the audit entry.
   */
  approvalId?: string | null;
};

/** Audit entries one export proves; a log longer than this is refused rather than exported in part. */
export const MAX_EXPORT_AUDIT_ENTRIES = 1_000_000;

type Section = 'conversations' | 'knowledge' | 'settings' | 'members';
type Table = keyof typeof CLASSIFICATION;

interface TableSpec {
  section: Section;
  table: Table;
  order: readonly string[];
  /** Columns left out although their class is exported: derived data (search index, redaction bookkeeping), rebuilt from the rest. */
  derived?: readonly string[];
}

/** What is exported, section by section; the order is the archive's. */
const TABLES: readonly TableSpec[] = [
  { section: 'conversations', table: 'conversations', order: ['created_at', 'id'], derived: ['redaction_state'] },
  { section: 'conversations', table: 'messages', order: ['conversation_id', 'seq'] },
  { section: 'conversations', table: 'handoffs', order: ['created_at', 'id'] },
  { section: 'conversations', table: 'csat_responses', order: ['created_at', 'id'] },
  { section: 'conversations', table: 'pii_vault', order: ['conversation_id', 'token'] },
  { section: 'conversations', table: 'visitors', order: ['created_at', 'id'] },
  { section: 'conversations', table: 'verified_visitors', order: ['subject'] },
  { section: 'conversations', table: 'approval_proposals', order: ['created_at', 'id'] },
  { section: 'conversations', table: 'approval_decisions', order: ['proposal_id', 'created_at'] },
  { section: 'knowledge', table: 'knowledge_sources', order: ['created_at', 'id'] },
  { section: 'knowledge', table: 'knowledge_chunks', order: ['source_id', 'position'], derived: ['terms', 'tsv'] },
  { section: 'knowledge', table: 'canned_replies', order: ['created_at', 'id'] },
  { section: 'settings', table: 'tenants', order: ['id'] },
  { section: 'settings', table: 'tenant_domains', order: ['pattern'] },
  { section: 'settings', table: 'identity_settings', order: ['tenant_id'] },
  { section: 'settings', table: 'ai_providers', order: ['provider'] },
  { section: 'settings', table: 'sso_connections', order: ['kind'] },
  { section: 'settings', table: 'webhook_endpoints', order: ['created_at', 'id'] },
  { section: 'settings', table: 'actions', order: ['created_at', 'id'] },
  { section: 'settings', table: 'publishable_keys', order: ['created_at', 'id'] },
  { section: 'settings', table: 'api_keys', order: ['created_at', 'id'] },
  { section: 'members', table: 'members', order: ['created_at', 'id'] },
  { section: 'members', table: 'member_invites', order: ['created_at', 'id'] },
];

/** Said in the manifest: tables a tenant export leaves out, and why. */
const NOT_EXPORTED =
  'Sessions, refresh tokens, challenges, throttles and replay ids (short-lived or secret); the search index (knowledge_postings, knowledge_terms, knowledge_stats, knowledge_vectors: rebuilt from the chunks); live-feed events and webhook deliveries (transient); evidence packs (signed archives of their own); crawl jobs; second factors and data keys (secret or useless outside this deployment).';

const columnsOf = (table: Table) => CLASSIFICATION[table] as Partial<Record<DataClass, readonly string[]>>;

/**
 * Restricted values: only an owner signed in (or the deployment's operator on its own database), with a
 * reason. Returns the request as it is kept: its reason with the personal values the PII engine finds taken
 * out (ai/pii/reason.ts), since it waits in an approval request where one is needed, and then in the audit log.
 */
export function checkRestricted(ctx: Pick<TenantExportCtx, 'role'>, req: TenantExportRequest): TenantExportRequest {
  const kept = req.reason ? { ...req, reason: reasonForRecord(req.reason) } : req;
  if (!req.includeRestricted) return kept;
  if (ctx.role !== 'owner' && ctx.role !== 'operator')
    throw new DomainError('forbidden', 'Only an owner, signed in, can include restricted values in an export.');
  if (!req.reason)
    throw new DomainError('invalid_input', 'A reason is required to include restricted values.', {
      errors: [{ path: '/reason', message: 'a reason is required to include restricted values', code: 'custom' }],
    });
  return kept;
}

/** A row as JSON: dates as ISO 8601, bytes as base64, big integers as numbers. */
function plain(row: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(row))
    out[k] =
      v instanceof Date ? v.toISOString() : v instanceof Uint8Array ? Buffer.from(v).toString('base64') : typeof v === 'bigint' ? Number(v) : v;
  return out;
}

export interface BuiltExport {
  zip: Uint8Array;
  manifestSha256: string;
}

/** Builds, signs and audits one export. */
export async function exportTenant(deps: TenantExportDeps, ctx: TenantExportCtx, req: TenantExportRequest): Promise<BuiltExport> {
  checkRestricted(ctx, req);
  // Entries committed before the request are integrated, so the checkpoint covers them.
  await deps.audit.integrator?.catchUp(ctx.tenantId);
  return deps.db.withTenant(ctx.tenantId, ctx, async (tx) => {
    const excluded: DataClass[] = req.includeRestricted ? ['secret'] : ['restricted', 'secret'];
    const files: Record<string, Uint8Array> = {};
    const tables = [];
    const counts: Record<string, number> = {};
    const present = new Set<DataClass>();
    for (const spec of TABLES) {
      const classes = columnsOf(spec.table);
      const derived = new Set(spec.derived ?? []);
      const columns: Partial<Record<DataClass, string[]>> = {};
      const omitted: Record<string, string[]> = {};
      for (const cls of DATA_CLASSES)
        for (const col of classes[cls] ?? []) {
          const why = excluded.includes(cls) ? cls : derived.has(col) ? 'derived' : null;
          if (why) (omitted[why] ??= []).push(col);
          else (columns[cls] ??= []).push(col);
        }
      const selected = Object.values(columns).flat();
      const rows = await tableRows(tx, ctx.tenantId, {
        table: spec.table,
        columns: selected,
        order: spec.order,
        tenantColumn: spec.table === 'tenants' ? 'id' : 'tenant_id',
      });
      // Sealed columns that are exported are opened with the tenant's data key, each with its own context.
      const sealed = SEALED_COLUMNS.filter((s) => s.table === spec.table && selected.includes(s.column));
      const lines: string[] = [];
      for (const row of rows) {
        for (const s of sealed) {
          const v = row[s.column];
          if (v instanceof Uint8Array) row[s.column] = await deps.keyring.openString(tx, ctx.tenantId, v, s.context(row));
        }
        lines.push(JSON.stringify(plain(row)));
      }
      for (const cls of Object.keys(columns) as DataClass[]) if (rows.length) present.add(cls);
      const path = `data/${spec.section}/${spec.table}.jsonl`;
      files[path] = Buffer.from(lines.length ? `${lines.join('\n')}\n` : '', 'utf8');
      counts[spec.table] = rows.length;
      tables.push({ table: spec.table, section: spec.section, path, rows: rows.length, columns, omitted, opened: sealed.map((s) => s.column) });
    }
    const section = await auditSection(tx, deps.audit, ctx.tenantId, {
      from: new Date(0),
      to: new Date('9999-12-31T23:59:59Z'),
      limit: MAX_EXPORT_AUDIT_ENTRIES,
      tooMany: () => new DomainError('conflict', `The audit log holds more than ${MAX_EXPORT_AUDIT_ENTRIES} entries, too many for one archive.`),
    });
    const generatedAt = new Date().toISOString();
    const included = DATA_CLASSES.filter((c) => !excluded.includes(c));
    const contents = {
      classes: { included, omitted: excluded },
      restricted: req.includeRestricted
        ? 'Included: the original values the PII engine took out of messages (pii_vault.sealed, opened), asked for by an owner with a reason kept in the audit log.'
        : 'Omitted: restricted columns (pii_vault.sealed) are left out; messages keep their placeholders. An owner can include them with a reason.',
      personal: "Included: it is the tenant's own data. Sealed personal columns are opened.",
      secret: 'Never exported: key and password hashes, sealed secrets and tokens.',
      approval: ctx.approvalId ? { approvalId: ctx.approvalId } : null,
      tables,
      notExported: NOT_EXPORTED,
    };
    files['data/README.txt'] = Buffer.from(
      `Parley tenant export of ${ctx.tenantId}, generated ${generatedAt}.\n` +
        'data/<section>/<table>.jsonl: one JSON object per row, columns chosen by the data classification registry (manifest.json, contents.tables, lists them by class and names those left out).\n' +
        `audit/: the tenant's audit log (${section.rows.length} entries) with an inclusion proof for each against the signed checkpoint.\n` +
        "Verify offline: parley evidence verify export.zip --key '<verifier key from GET /v1/audit/verifier-key>'.\n",
      'utf8',
    );
    files['data/summary.json'] = json({ counts, classesIncluded: included, classesPresent: DATA_CLASSES.filter((c) => present.has(c)) });
    const sealedPack = await sealPack(tx, deps.audit, {
      kind: 'tenant-export',
      tenantId: ctx.tenantId,
      generatedAt,
      section,
      head: {},
      tail: { contents },
      files,
    });
    // Counts and classes, never a value: the audit log holds no personal data. The reason is the audit
    // entry's own `reason` (an admin's words, confidential, any personal value in them taken out).
    await deps.audit.append(tx, {
      tenantId: ctx.tenantId,
      requestId: ctx.requestId,
      actor: ctx.actor,
      action: 'tenant.export',
      reason: req.includeRestricted ? (req.reason ?? null) : null,
      metadata: {
        manifestSha256: sealedPack.manifestSha256,
        includeRestricted: req.includeRestricted,
        classes: included,
        counts,
        auditEntries: section.rows.length,
        checkpointSize: section.checkpoint.size,
        files: sealedPack.fileCount,
        approval: ctx.approvalId ?? null,
      },
    });
    return { zip: sealedPack.zip, manifestSha256: sealedPack.manifestSha256 };
  });
}
