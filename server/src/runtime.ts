// Opens what the app needs from a Config: the database (migrated), the audit log and its signer.
import type { Logger } from 'pino';
import { AuditIntegrator } from './audit/integrator.js';
import { AuditLog } from './audit/log.js';
import type { RetrievalInputsCache } from './knowledge/inputs-cache.js';
import type { Config } from './config.js';
import { deriveSeed } from './crypto/derive.js';
import { LocalKek } from './crypto/kek.js';
import { Keyring } from './crypto/keyring.js';
import { KmsKek } from './crypto/kms.js';
import { pgVectorStore } from './knowledge/vectors/pgvector.js';
import { pineconeStore } from './knowledge/vectors/pinecone.js';
import type { VectorStore } from './knowledge/vectors/store.js';
import { databaseUrlFor, openDb, runMigrations, type ParleyDb } from './db/index.js';
import type { ConversationBus } from './conversations/bus.js';
import { conversationEvents } from './conversations/notify.js';
import { NoticeListener } from './db/notices.js';
import type { SecretKeyCache } from './tenants/key-cache.js';
import type { WidgetFrontCache } from './widget/front-cache.js';

export interface Runtime {
  config: Config;
  db: ParleyDb;
  audit: AuditLog;
  keyring: Keyring;
  close(): Promise<void>;
}

/**
 * The audit log signing with the configured key. `config.auditOrigin` (from the public URL) names the
 * logs only the first time any log writes; after that every log keeps the identity stored with it.
 */
export function auditLogFor(config: Config): AuditLog {
  return new AuditLog({
    seed: deriveSeed(config.signingSeed, 'audit-checkpoint'),
    origin: config.auditOrigin,
    checkpointEvery: config.auditCheckpointEvery,
    checkpointIntervalMs: config.auditCheckpointIntervalMs,
  });
}

/**
 * Opens the database (migrated unless `migrate: false`). Unless `readOnly`, also records the audit
 * identity (first start only) and this deployment's signing key, so its verifier keys are published.
 */
export async function openRuntime(config: Config, opts: { migrate?: boolean; readOnly?: boolean; logger?: Logger } = {}): Promise<Runtime> {
  const db = await openDb({
    url: databaseUrlFor(config),
    ownerUrl: config.databaseOwnerUrl,
    readUrl: config.databaseReadUrl,
    ...(opts.logger ? { logger: opts.logger } : {}),
  });
  try {
    if (opts.migrate !== false && !opts.readOnly) {
      const applied = await runMigrations(db);
      if (applied.length) opts.logger?.info({ applied }, 'migrations applied');
    }
    const runtime = wireRuntime(config, db);
    if (!opts.readOnly && opts.migrate !== false) await db.withoutTenant({ requestId: null }, (tx) => runtime.audit.ensureIdentity(tx));
    return runtime;
  } catch (err) {
    await db.close();
    throw err;
  }
}

/**
 * The KEK the config names (KMS when PARLEY_KMS_KEY_ID is set, else the local master key), with the
 * other configured master keys kept to read data keys wrapped before a KEK change until they are re-wrapped.
 */
export function keyringFor(config: Config): Keyring {
  const local = new LocalKek(config.masterKey);
  const previous = config.previousMasterKey ? [new LocalKek(config.previousMasterKey)] : [];
  if (config.kmsKeyId) return new Keyring(new KmsKek(config.kmsKeyId), [local, ...previous]);
  return new Keyring(local, previous);
}

/** Where embeddings live: the Pinecone index when configured, else pgvector in the database. */
export function vectorStoreFor(config: Config): VectorStore {
  return config.pinecone ? pineconeStore(config.pinecone) : pgVectorStore();
}

/** Attaches the audit log to an open, migrated database. */
export function wireRuntime(config: Config, db: ParleyDb): Runtime {
  const audit = auditLogFor(config);
  db.setPlatformAuditor(async (tx, ctx) => {
    await audit.append(tx, {
      tenantId: null,
      requestId: ctx.requestId,
      actor: ctx.actor,
      action: ctx.action,
      reason: ctx.reason,
      target: ctx.target ?? null,
      metadata: ctx.metadata ?? {},
    });
  });
  // Entries are integrated after the commit that sequenced them (and by `serve`'s poll); closing waits
  // for a run in flight so it never meets a closed pool.
  const integrator = new AuditIntegrator(db, audit);
  audit.integrator = integrator;
  audit.onSequenced = integrator.kick;
  const keyring = keyringFor(config);
  return {
    config,
    db,
    audit,
    keyring,
    async close() {
      await integrator.stop();
      await db.close();
    },
  };
}

/** What an instance keeps that others' changes must reach (the app sets it as `app.locals.heard`). */
export interface Heard {
  bus: ConversationBus;
  keys: SecretKeyCache;
  widget: WidgetFrontCache;
  retrieval: RetrievalInputsCache;
}

/**
 * What an instance hears of writes it did not make itself: other instances' conversation events, key
 * changes and page-view changes. On PostgreSQL, one listening connection (`databaseUrl` null: none, so no
 * key is kept and page views see others' changes within their cache's TTL). On the embedded database, the
 * changes in process (a background job's, a tenant's deletion, the CLI's through the same database).
 * Resolves once listening was first tried (a failed connection keeps retrying); the result stops it.
 */
export async function listenForChanges(db: ParleyDb, databaseUrl: string | null, heard: Heard, logger: Logger): Promise<() => Promise<void>> {
  const channels = [heard.keys, heard.widget, heard.retrieval];
  if (db.kind === 'postgres') {
    if (!databaseUrl) return async () => {};
    const listener = new NoticeListener({ url: databaseUrl, logger, channels: [conversationEvents(heard.bus), ...channels] });
    await listener.start();
    return () => listener.stop();
  }
  const stops = await Promise.all(channels.map((c) => db.listenInProcess(c.channel, (payload) => c.heard(payload))));
  for (const c of channels) c.listening(true);
  return async () => {
    for (const c of channels) c.listening(false);
    for (const stop of stops) await stop();
  };
}
