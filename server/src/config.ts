// The only module that reads the environment. Everything else receives a validated Config.
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { isPostgresUrl } from './db/url.js';
import { DEVELOPMENT_ALLOW, parseAllowList, type AllowList } from './outbound/outbound.js';

const DEV_PREFIX = 'dev-';

export type ParleyEnv = 'development' | 'staging' | 'production';

/**
 * When a failed webhook delivery is tried again, in seconds after the previous attempt (Svix's schedule,
 * extended past three days): 5 s, 5 min, 30 min, 2 h, 5 h, then every 10 h — 13 attempts over ~3.2 days.
 */
export const WEBHOOK_RETRY_SCHEDULE = [5, 300, 1800, 7200, 18000, 36000, 36000, 36000, 36000, 36000, 36000, 36000] as const;

export interface Config {
  env: ParleyEnv;
  host: string;
  port: number;
  publicUrl: string;
  dataDir: string;
  /** `pglite:<dir>`, `memory://` or a postgres:// URL */
  databaseUrl: string | null;
  /** Owner connection for migrations and the platform path; defaults to databaseUrl. */
  databaseOwnerUrl: string | null;
  /** A streaming replica of DATABASE_URL's server for retrieval and read-only admin lists; null: the primary serves them. */
  databaseReadUrl: string | null;
  /** 32-byte key encryption key (the local KEK, and the fallback that reads keys wrapped before a move to KMS). */
  masterKey: Buffer;
  /** The master key used before the current one (or before KMS), so `parley keys rewrap` can move keys off it. */
  previousMasterKey: Buffer | null;
  /** AWS KMS key (id, ARN or alias) that wraps data keys; null means the local master key does. */
  kmsKeyId: string | null;
  /** Age at which a tenant's data key is rotated by the background sweep. */
  dataKeyRotationDays: number;
  /** 32-byte Ed25519 seed from which purpose keys (audit checkpoints, widget tokens) are derived. */
  signingSeed: Buffer;
  /** Whether the keys above are throwaway development keys. */
  devKeys: boolean;
  logLevel: string;
  bodyLimitBytes: number;
  auditCheckpointEvery: number;
  auditCheckpointIntervalMs: number;
  auditOrigin: string;
  securityContact: string;
  trustProxy: boolean;
  /** Requests per minute per client address for requests that are not authenticated, and per key or signed-in person on the admin API. */
  rateLimitPerMinute: number;
  /** Widget API requests per minute per visitor session (the session token's tenant and visitor). */
  widgetSessionRateLimit: number;
  /** Widget API requests per minute per tenant, all its visitors' sessions together. */
  widgetTenantRateLimit: number;
  /** Of those, what the sessions of one client address may spend, so no one source locks the tenant's other visitors out. */
  widgetAddressRateLimit: number;
  /** Rate-limit counters in Redis (shared by every instance) instead of PostgreSQL; null: the database. */
  redisUrl: string | null;
  /** Prefix of every key Parley writes in Redis, so deployments (or tests) can share one server. */
  redisKeyPrefix: string;
  /**
   * How long an instance keeps a publishable key's tenant and allowed origins, and the tenant's widget
   * settings, in memory (0: not at all). Changes anywhere drop them as they commit (widget/front-cache.ts);
   * this bounds what an instance that missed a notice keeps.
   */
  widgetCacheSeconds: number;
  /**
   * How long a resolved secret key is kept in memory (0: not at all), while the instance hears the
   * database's key notices (tenants/key-cache.ts), which drop it on every instance as a change commits.
   */
  keyCacheSeconds: number;
  /** Refused widget requests are counted per tenant × origin (or reason) in windows this long; one audit entry per window. */
  refusalAuditWindowSeconds: number;
  /** Distinct origins (or reasons) audited on their own per tenant and window; the rest share one entry. */
  refusalAuditSubjects: number;
  /** Open live-event streams (SSE) per visitor, per instance. */
  sseStreamsPerVisitor: number;
  /** Open live-event streams (SSE) per tenant, per instance. */
  sseStreamsPerTenant: number;
  sseStreamsPerAddress: number;
  /** Keep-alive interval of live-event streams; an admin stream re-checks its credential at each one. */
  sseHeartbeatMs: number;
  /** Chunk embeddings in a Pinecone index (one namespace per tenant) instead of pgvector; null: pgvector. */
  pinecone: { apiKey: string; indexHost: string } | null;
  /** Non-public destinations that tenant-supplied URLs may still reach (self-hosted endpoints); see outbound/. */
  outboundAllow: AllowList;
  /** How often the retention sweep runs (fleet-wide, under a lease). */
  sweepIntervalMs: number;
  /** How long a turn's claim on answering a visitor's question lasts; a question still unanswered after
   * it (its instance died) is answered by a retry of the message or by the turn sweeper. */
  answerClaimMs: number;
  /** How often an agent inbox stream also reads the table, for events whose notification was lost. */
  inboxPollMs: number;
  /** What the instance's in-memory copies of tenants' search indexes may take, in bytes (0: none). */
  searchMemoryBytes: number;
  /** On SIGTERM/SIGINT, how long in-flight requests may take to finish before what remains is cut. */
  shutdownGraceMs: number;
  /** Conversation events (the live feed's replay buffer) older than this are swept. */
  eventRetentionDays: number;
  /** Per-tenant knowledge totals (sources, stored bytes, chunks), enforced in the writing transaction. */
  knowledgeQuota: KnowledgeQuota;
  /**
   * Bounds of one crawl: pages per sitemap, bytes kept per page (longer pages are cut), bytes per crawl;
   * and how long a crawl's lease lasts without renewal (each page renews it), after which another
   * instance resumes the crawl of one that died; and how long one crawl keeps a worker before it is given
   * back (the crawl resumes at its next page, after any other tenant's waiting crawl has had a turn).
   */
  crawl: { maxPages: number; maxPageBytes: number; maxBytes: number; leaseMs: number; sliceMs: number };
  /** Outgoing email (invitations): an SMTP URL for nodemailer, e.g. smtps://user:pass@smtp.example.com; null: the server log (development). */
  smtpUrl: string | null;
  /** The From address of Parley's email. */
  smtpFrom: string;
  /** Seconds between a webhook delivery's attempts (the first attempt is immediate); after the last, it has failed. */
  webhookRetrySchedule: number[];
  /** The bearer token `GET /metrics` requires; null: no metrics endpoint (404). */
  metricsToken: string | null;
  /** Distinct tenants that get their own label in per-tenant metrics; the rest are counted as `other`. */
  metricsTenantLabels: number;
}

export interface KnowledgeQuota {
  sources: number;
  bytes: number;
  chunks: number;
}

export class ConfigError extends Error {
  constructor(
    readonly setting: string,
    message: string,
  ) {
    super(`${setting}: ${message}`);
    this.name = 'ConfigError';
  }
}

export const EnvSchema = z.object({
  PARLEY_ENV: z.enum(['development', 'staging', 'production']).default('development'),
  /** Read only to refuse a production build (NODE_ENV=production) left to PARLEY_ENV's development default. */
  NODE_ENV: z.string().optional(),
  HOST: z.string().min(1).optional(),
  PORT: z.coerce.number().int().min(0).max(65535).default(8787),
  PARLEY_PUBLIC_URL: z.string().url().optional(),
  PARLEY_DATA_DIR: z.string().min(1).optional(),
  // A URL of another scheme (a typo'd `postgress://`) would otherwise open as an embedded database in a
  // folder named after it, password and all; the message never repeats the value.
  DATABASE_URL: z
    .string()
    .min(1)
    .refine(
      (v) => !/^[a-z][a-z0-9+.-]+:/i.test(v) || isPostgresUrl(v) || v.startsWith('memory://'),
      'must be a postgres:// URL (or, in development, memory:// or a folder)',
    )
    .optional(),
  DATABASE_OWNER_URL: z.string().refine(isPostgresUrl, 'must be a postgres:// URL').optional(),
  DATABASE_READ_URL: z.string().refine(isPostgresUrl, 'must be a postgres:// URL').optional(),
  PARLEY_MASTER_KEY: z.string().min(1).optional(),
  PARLEY_SIGNING_KEY: z.string().min(1).optional(),
  PARLEY_PREVIOUS_MASTER_KEY: z.string().min(1).optional(),
  PARLEY_KMS_KEY_ID: z.string().trim().min(1).max(2048).optional(),
  PARLEY_DATA_KEY_ROTATION_DAYS: z.coerce.number().int().min(1).max(3650).default(90),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  PARLEY_BODY_LIMIT_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .max(50 * 1024 * 1024)
    .default(1024 * 1024),
  PARLEY_AUDIT_CHECKPOINT_EVERY: z.coerce.number().int().min(1).max(1_000_000).default(256),
  PARLEY_AUDIT_CHECKPOINT_INTERVAL_MS: z.coerce
    .number()
    .int()
    .min(1000)
    .default(5 * 60 * 1000),
  PARLEY_SECURITY_CONTACT: z.string().min(1).optional(),
  PARLEY_TRUST_PROXY: z.enum(['true', 'false']).default('false'),
  PARLEY_RATE_LIMIT_PER_MINUTE: z.coerce.number().int().min(1).default(600),
  PARLEY_WIDGET_SESSION_RATE_LIMIT: z.coerce.number().int().min(1).default(120),
  PARLEY_WIDGET_TENANT_RATE_LIMIT: z.coerce.number().int().min(1).default(6000),
  /** Unset: a quarter of the tenant's (at least a session's). */
  PARLEY_WIDGET_ADDRESS_RATE_LIMIT: z.coerce.number().int().min(1).optional(),
  REDIS_URL: z
    .string()
    .trim()
    .regex(/^rediss?:\/\//, 'must be a redis:// or rediss:// URL')
    .optional(),
  PARLEY_REDIS_KEY_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9:_.-]{1,64}$/, 'letters, digits and : _ . - only, at most 64')
    .default('parley:'),
  PARLEY_WIDGET_CACHE_SECONDS: z.coerce.number().int().min(0).max(60).default(5),
  PARLEY_KEY_CACHE_SECONDS: z.coerce.number().int().min(0).max(60).default(5),
  PARLEY_REFUSAL_AUDIT_WINDOW_SECONDS: z.coerce
    .number()
    .int()
    .min(60)
    .max(7 * 24 * 3600)
    .default(3600),
  PARLEY_REFUSAL_AUDIT_SUBJECTS: z.coerce.number().int().min(1).max(1000).default(20),
  PARLEY_SSE_MAX_PER_VISITOR: z.coerce.number().int().min(1).max(1000).default(5),
  PARLEY_SSE_MAX_PER_TENANT: z.coerce.number().int().min(1).max(1_000_000).default(500),
  /** Unset: a fifth of the tenant's places (at least a visitor's). */
  PARLEY_SSE_MAX_PER_ADDRESS: z.coerce.number().int().min(1).max(1_000_000).optional(),
  PARLEY_SSE_HEARTBEAT_MS: z.coerce.number().int().min(100).max(60_000).default(15_000),
  /** A long random token: guessable tokens would expose operational figures. */
  PARLEY_METRICS_TOKEN: z
    .string()
    .trim()
    .min(32, 'must be at least 32 characters')
    .max(512)
    .regex(/^\S+$/, 'must have no spaces (a bearer token is one word)')
    .optional(),
  PARLEY_METRICS_TENANT_LABELS: z.coerce.number().int().min(0).max(1000).default(50),
  PINECONE_API_KEY: z.string().trim().min(1).optional(),
  /** The index's data-plane host, as the Pinecone console shows it (e.g. https://docs-abc123.svc.….pinecone.io). */
  PINECONE_INDEX_HOST: z.string().url().optional(),
  /** Comma-separated CIDRs and host names that server-initiated requests may reach although not public. */
  PARLEY_OUTBOUND_ALLOW: z.string().max(10_000).optional(),
  PARLEY_SWEEP_INTERVAL_MS: z.coerce
    .number()
    .int()
    .min(1000)
    .default(10 * 60 * 1000),
  PARLEY_ANSWER_CLAIM_MS: z.coerce
    .number()
    .int()
    .min(1000)
    .max(24 * 3600 * 1000)
    .default(180_000),
  PARLEY_INBOX_POLL_MS: z.coerce.number().int().min(250).max(600_000).default(2_000),
  // 0 turns the in-memory search index off (every search scores in SQL).
  PARLEY_SEARCH_MEMORY_MB: z.coerce.number().int().min(0).max(65_536).default(256),
  PARLEY_SHUTDOWN_GRACE_MS: z.coerce
    .number()
    .int()
    .min(0)
    .max(10 * 60 * 1000)
    .default(10_000),
  PARLEY_EVENT_RETENTION_DAYS: z.coerce.number().int().min(1).max(3650).default(30),
  PARLEY_KNOWLEDGE_MAX_SOURCES: z.coerce.number().int().min(1).default(5000),
  PARLEY_KNOWLEDGE_MAX_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .default(200 * 1024 * 1024),
  PARLEY_KNOWLEDGE_MAX_CHUNKS: z.coerce.number().int().min(1).default(100_000),
  PARLEY_CRAWL_MAX_PAGES: z.coerce.number().int().min(1).max(10_000).default(100),
  PARLEY_CRAWL_MAX_PAGE_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .max(50 * 1024 * 1024)
    .default(2 * 1024 * 1024),
  PARLEY_CRAWL_MAX_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .default(50 * 1024 * 1024),
  // Longer than a page fetch can take (10 s), or a live instance's crawl is taken over mid-page.
  PARLEY_CRAWL_LEASE_MS: z.coerce.number().int().min(1000).max(3_600_000).default(60_000),
  // How long one crawl keeps a worker before it gives it back to the next tenant's (resumed at its next page).
  PARLEY_CRAWL_SLICE_MS: z.coerce.number().int().min(100).max(3_600_000).default(60_000),
  PARLEY_SMTP_URL: z
    .string()
    .regex(/^smtps?:\/\//, 'must be an smtp:// or smtps:// URL')
    .optional(),
  PARLEY_SMTP_FROM: z.string().min(3).max(300).optional(),
  PARLEY_WEBHOOK_RETRY_SCHEDULE: z
    .string()
    .regex(/^\s*\d+(\s*,\s*\d+){0,29}\s*$/, 'must be up to 30 comma-separated numbers of seconds')
    .optional(),
});

/** Decodes a 32-byte key given as base64 (optionally prefixed `dev-`). */
function decodeKey(setting: string, value: string): { key: Buffer; dev: boolean } {
  const dev = value.startsWith(DEV_PREFIX);
  const key = Buffer.from(dev ? value.slice(DEV_PREFIX.length) : value, 'base64');
  if (key.length !== 32) throw new ConfigError(setting, 'must be 32 bytes, base64-encoded');
  return { key, dev };
}

/**
 * The public URL the last `parley serve` on this embedded database ran with, kept in its data folder (not a
 * secret; unlike control.json it stays once the server stops). The other commands open the same database
 * from a shell that may have none of the server's settings, and the links they print (an invitation) must
 * reach that instance, not http://localhost:8787.
 */
const INSTANCE_FILE = 'instance.json';

/** Called by `parley serve` once it listens on the embedded database (the data folder exists then). */
export function recordInstance(config: Pick<Config, 'dataDir' | 'publicUrl'>): void {
  const file = join(config.dataDir, INSTANCE_FILE);
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify({ publicUrl: config.publicUrl })}\n`);
  renameSync(tmp, file);
}

function recordedPublicUrl(dataDir: string): string | null {
  try {
    const { publicUrl } = JSON.parse(readFileSync(join(dataDir, INSTANCE_FILE), 'utf8')) as { publicUrl?: unknown };
    return typeof publicUrl === 'string' && z.url().safeParse(publicUrl).success ? publicUrl : null;
  } catch {
    return null;
  }
}

export interface LoadOptions {
  /**
   * A command other than `parley serve`: without PARLEY_PUBLIC_URL or PORT of its own, on the embedded
   * database, it takes the public URL the last server on that database ran with (recordInstance).
   */
  command?: boolean;
}

/** The configuration of a CLI command other than `parley serve` (see LoadOptions.command). */
export const commandConfig = (): Config => loadConfig(process.env, { command: true });

/** Development keys live in the data folder so restarts keep data readable; never used in production. */
function loadOrCreateDevKeys(dataDir: string): { masterKey: string; signingKey: string } {
  const file = join(dataDir, 'dev-keys.json');
  if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8'));
  mkdirSync(dataDir, { recursive: true });
  const keys = {
    masterKey: DEV_PREFIX + randomBytes(32).toString('base64'),
    signingKey: DEV_PREFIX + randomBytes(32).toString('base64'),
  };
  writeFileSync(file, JSON.stringify(keys, null, 2), { mode: 0o600 });
  chmodSync(file, 0o600);
  return keys;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env, opts: LoadOptions = {}): Config {
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ConfigError(String(issue.path[0] ?? 'environment'), issue.message);
  }
  const e = parsed.data;
  // A production build started without PARLEY_ENV would otherwise run as development: listening on every
  // interface (in the image), loopback allowed as a tenant URL's destination, plain http accepted. Said out
  // loud, PARLEY_ENV=development is the operator's choice and is taken.
  if (e.NODE_ENV === 'production' && env.PARLEY_ENV === undefined) {
    throw new ConfigError(
      'PARLEY_ENV',
      'must be set where NODE_ENV=production: production (or staging) for a deployment, or development to try this build with development keys and the embedded database',
    );
  }
  // Staging is a deployment as production is: the same start checks hold for both.
  const deployed = e.PARLEY_ENV !== 'development';
  const dataDir = resolve(e.PARLEY_DATA_DIR ?? '.parley');
  // What the command's own environment says decides; a command that says nothing on the embedded database
  // takes the address its server ran with.
  const recorded = opts.command && !e.PARLEY_PUBLIC_URL && env.PORT === undefined && !e.DATABASE_URL ? recordedPublicUrl(dataDir) : null;
  const publicUrl = (e.PARLEY_PUBLIC_URL ?? recorded ?? `http://localhost:${e.PORT}`).replace(/\/+$/, '');

  if (deployed) {
    const where = `in ${e.PARLEY_ENV}`;
    if (!e.PARLEY_PUBLIC_URL) throw new ConfigError('PARLEY_PUBLIC_URL', `is required ${where}`);
    if (!publicUrl.startsWith('https://')) throw new ConfigError('PARLEY_PUBLIC_URL', `must be an https:// URL ${where}`);
    if (!e.PARLEY_MASTER_KEY) throw new ConfigError('PARLEY_MASTER_KEY', `is required ${where}`);
    if (!e.PARLEY_SIGNING_KEY) throw new ConfigError('PARLEY_SIGNING_KEY', `is required ${where}`);
    if (!e.DATABASE_URL || !isPostgresUrl(e.DATABASE_URL))
      throw new ConfigError('DATABASE_URL', `must be a postgres:// URL ${where} (the embedded database is for development)`);
  }

  let masterRaw = e.PARLEY_MASTER_KEY;
  let signingRaw = e.PARLEY_SIGNING_KEY;
  if (!masterRaw || !signingRaw) {
    const dev = loadOrCreateDevKeys(dataDir);
    masterRaw ??= dev.masterKey;
    signingRaw ??= dev.signingKey;
  }
  const master = decodeKey('PARLEY_MASTER_KEY', masterRaw);
  const signing = decodeKey('PARLEY_SIGNING_KEY', signingRaw);
  const previous = e.PARLEY_PREVIOUS_MASTER_KEY ? decodeKey('PARLEY_PREVIOUS_MASTER_KEY', e.PARLEY_PREVIOUS_MASTER_KEY).key : null;
  if (deployed && master.dev) throw new ConfigError('PARLEY_MASTER_KEY', 'is a development key; generate a production key');
  if (deployed && signing.dev) throw new ConfigError('PARLEY_SIGNING_KEY', 'is a development key; generate a production key');

  if (e.DATABASE_READ_URL && !isPostgresUrl(e.DATABASE_URL ?? '')) {
    throw new ConfigError('DATABASE_READ_URL', 'needs DATABASE_URL to be a PostgreSQL server (the embedded database has no replicas)');
  }
  if (!!e.PINECONE_API_KEY !== !!e.PINECONE_INDEX_HOST) {
    throw new ConfigError(e.PINECONE_API_KEY ? 'PINECONE_INDEX_HOST' : 'PINECONE_API_KEY', 'is required when the other Pinecone setting is set');
  }
  if (deployed && e.PINECONE_INDEX_HOST && !e.PINECONE_INDEX_HOST.startsWith('https://')) {
    throw new ConfigError('PINECONE_INDEX_HOST', `must be an https:// URL in ${e.PARLEY_ENV}`);
  }

  let outboundAllow: AllowList;
  try {
    outboundAllow = parseAllowList(e.PARLEY_OUTBOUND_ALLOW ?? (e.PARLEY_ENV === 'development' ? DEVELOPMENT_ALLOW : ''));
  } catch (err) {
    throw new ConfigError('PARLEY_OUTBOUND_ALLOW', (err as Error).message);
  }

  const host = e.HOST ?? (e.PARLEY_ENV === 'development' ? '127.0.0.1' : '0.0.0.0');
  return {
    env: e.PARLEY_ENV,
    host,
    port: e.PORT,
    publicUrl,
    dataDir,
    databaseUrl: e.DATABASE_URL ?? null,
    databaseOwnerUrl: e.DATABASE_OWNER_URL ?? e.DATABASE_URL ?? null,
    databaseReadUrl: e.DATABASE_READ_URL ?? null,
    masterKey: master.key,
    previousMasterKey: previous,
    kmsKeyId: e.PARLEY_KMS_KEY_ID ?? null,
    dataKeyRotationDays: e.PARLEY_DATA_KEY_ROTATION_DAYS,
    signingSeed: signing.key,
    devKeys: master.dev || signing.dev,
    logLevel: e.LOG_LEVEL,
    bodyLimitBytes: e.PARLEY_BODY_LIMIT_BYTES,
    auditCheckpointEvery: e.PARLEY_AUDIT_CHECKPOINT_EVERY,
    auditCheckpointIntervalMs: e.PARLEY_AUDIT_CHECKPOINT_INTERVAL_MS,
    auditOrigin: `${new URL(publicUrl).host}/audit`,
    securityContact: e.PARLEY_SECURITY_CONTACT ?? `mailto:security@${new URL(publicUrl).hostname}`,
    trustProxy: e.PARLEY_TRUST_PROXY === 'true',
    rateLimitPerMinute: e.PARLEY_RATE_LIMIT_PER_MINUTE,
    widgetSessionRateLimit: e.PARLEY_WIDGET_SESSION_RATE_LIMIT,
    widgetTenantRateLimit: e.PARLEY_WIDGET_TENANT_RATE_LIMIT,
    widgetAddressRateLimit:
      e.PARLEY_WIDGET_ADDRESS_RATE_LIMIT ?? Math.max(e.PARLEY_WIDGET_SESSION_RATE_LIMIT, Math.ceil(e.PARLEY_WIDGET_TENANT_RATE_LIMIT / 4)),
    redisUrl: e.REDIS_URL ?? null,
    redisKeyPrefix: e.PARLEY_REDIS_KEY_PREFIX,
    widgetCacheSeconds: e.PARLEY_WIDGET_CACHE_SECONDS,
    keyCacheSeconds: e.PARLEY_KEY_CACHE_SECONDS,
    refusalAuditWindowSeconds: e.PARLEY_REFUSAL_AUDIT_WINDOW_SECONDS,
    refusalAuditSubjects: e.PARLEY_REFUSAL_AUDIT_SUBJECTS,
    sseStreamsPerVisitor: e.PARLEY_SSE_MAX_PER_VISITOR,
    sseStreamsPerTenant: e.PARLEY_SSE_MAX_PER_TENANT,
    sseStreamsPerAddress: e.PARLEY_SSE_MAX_PER_ADDRESS ?? Math.max(e.PARLEY_SSE_MAX_PER_VISITOR, Math.ceil(e.PARLEY_SSE_MAX_PER_TENANT / 5)),
    sseHeartbeatMs: e.PARLEY_SSE_HEARTBEAT_MS,
    pinecone: e.PINECONE_API_KEY && e.PINECONE_INDEX_HOST ? { apiKey: e.PINECONE_API_KEY, indexHost: e.PINECONE_INDEX_HOST } : null,
    outboundAllow,
    sweepIntervalMs: e.PARLEY_SWEEP_INTERVAL_MS,
    answerClaimMs: e.PARLEY_ANSWER_CLAIM_MS,
    inboxPollMs: e.PARLEY_INBOX_POLL_MS,
    searchMemoryBytes: e.PARLEY_SEARCH_MEMORY_MB * 1024 * 1024,
    shutdownGraceMs: e.PARLEY_SHUTDOWN_GRACE_MS,
    eventRetentionDays: e.PARLEY_EVENT_RETENTION_DAYS,
    knowledgeQuota: { sources: e.PARLEY_KNOWLEDGE_MAX_SOURCES, bytes: e.PARLEY_KNOWLEDGE_MAX_BYTES, chunks: e.PARLEY_KNOWLEDGE_MAX_CHUNKS },
    crawl: {
      maxPages: e.PARLEY_CRAWL_MAX_PAGES,
      maxPageBytes: e.PARLEY_CRAWL_MAX_PAGE_BYTES,
      maxBytes: e.PARLEY_CRAWL_MAX_BYTES,
      leaseMs: e.PARLEY_CRAWL_LEASE_MS,
      sliceMs: e.PARLEY_CRAWL_SLICE_MS,
    },
    smtpUrl: e.PARLEY_SMTP_URL ?? null,
    smtpFrom: e.PARLEY_SMTP_FROM ?? `Parley <no-reply@${new URL(publicUrl).hostname}>`,
    webhookRetrySchedule: e.PARLEY_WEBHOOK_RETRY_SCHEDULE
      ? e.PARLEY_WEBHOOK_RETRY_SCHEDULE.split(',').map((s) => Number(s.trim()))
      : [...WEBHOOK_RETRY_SCHEDULE],
    metricsToken: e.PARLEY_METRICS_TOKEN ?? null,
    metricsTenantLabels: e.PARLEY_METRICS_TENANT_LABELS,
  };
}

/**
 * Whether traces are exported: the OpenTelemetry SDK's own variables (it reads the rest of its
 * OTEL_* settings itself). Read before the rest of the config, since tracing starts first.
 */
export function tracingEnabled(env: NodeJS.ProcessEnv = process.env): boolean {
  return !!(env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim() || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim());
}
