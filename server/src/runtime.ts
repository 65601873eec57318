// Opens what the app needs from a Config: the database (migrated), the audit log and its signer.
import type { Logger } from 'pino';
import { AuditLog } from './audit/log.js';
import { signerFromSeed, verifierKeyString } from './audit/checkpoint.js';
import type { Config } from './config.js';
import { deriveSeed } from './crypto/derive.js';
import { LocalKek } from './crypto/kek.js';
import { Keyring } from './crypto/keyring.js';
import { KmsKek } from './crypto/kms.js';
import { databaseUrlFor, openDb, runMigrations, type ParleyDb } from './db/index.js';

export interface Runtime {
  config: Config;
  db: ParleyDb;
  audit: AuditLog;
  keyring: Keyring;
  verifierKey: string;
  close(): Promise<void>;
}

export function auditLogFor(config: Config): { audit: AuditLog; verifierKey: string } {
  const signer = signerFromSeed(config.auditOrigin, deriveSeed(config.signingSeed, 'audit-checkpoint'));
  const audit = new AuditLog({
    signer,
    origin: config.auditOrigin,
    checkpointEvery: config.auditCheckpointEvery,
    checkpointIntervalMs: config.auditCheckpointIntervalMs,
  });
  return { audit, verifierKey: verifierKeyString(config.auditOrigin, signer.publicKey) };
}

export async function openRuntime(config: Config, opts: { migrate?: boolean; logger?: Logger } = {}): Promise<Runtime> {
  const db = await openDb({ url: databaseUrlFor(config), ownerUrl: config.databaseOwnerUrl });
  try {
    if (opts.migrate !== false) {
      const applied = await runMigrations(db);
      if (applied.length) opts.logger?.info({ applied }, 'migrations applied');
    }
  } catch (err) {
    await db.close();
    throw err;
  }
  return wireRuntime(config, db);
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

/** Attaches the audit log to an open, migrated database. */
export function wireRuntime(config: Config, db: ParleyDb): Runtime {
  const { audit, verifierKey } = auditLogFor(config);
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
  const keyring = keyringFor(config);
  return { config, db, audit, keyring, verifierKey, close: () => db.close() };
}
