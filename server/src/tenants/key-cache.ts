// Secret keys as resolved, kept in process for a few seconds: an admin API request otherwise waits a
// round trip to learn the key's tenant before it starts its own work. Kept only while this instance
// hears the database's key notices (migration 106: revocation, a new expiry or capabilities, deletion),
// which drop the tenant's keys on every instance as the change commits; a lost listening connection
// stops the keeping until it listens again, since notices sent meanwhile are gone. Writes through this
// instance also drop the tenant's keys before their response leaves (app.ts), and a key is never kept
// past its own expiry.
import type { Capability, MemberRole } from '@parley/protocol';
import { TenantCache } from './tenant-cache.js';

export const KEY_CHANGES_CHANNEL = 'parley_key_changes';

export interface ResolvedKey {
  keyId: string;
  tenantId: string;
  /** What it may do now: its own capabilities within its maker's current role. */
  capabilities: Capability[];
  /** What it holds that its maker's role lacks now, and that role; null when nothing is held back. */
  heldBack: { capabilities: Capability[]; makerRole: MemberRole } | null;
  /** The member who made it (api_keys.created_by_member); null for a key the CLI made. */
  makerId: string | null;
  /** Its maker is disabled: refused until they are enabled again. */
  makerDisabled: boolean;
  /** The member who made it is no longer one: refused (never taken for a key the CLI made). */
  makerGone: boolean;
  /** ms since the epoch; null: the key does not expire. */
  expiresAt: number | null;
}

/** Told when a tenant's credentials may have changed (a key, a member's role or status, a session ended). */
export interface CredentialChanges {
  /** Calls `fn` after each notice naming `tenantId` (or every tenant); returns the way to stop. */
  watch(tenantId: string, fn: () => void): () => void;
}

export class SecretKeyCache implements CredentialChanges {
  readonly channel = KEY_CHANGES_CHANNEL;
  private readonly cache: TenantCache<ResolvedKey | null>;
  private trusted = false;
  private readonly watchers = new Map<string, Set<() => void>>();

  constructor(ttlMs: number, maxEntries = 10_000, now: () => number = Date.now) {
    this.cache = new TenantCache(ttlMs, maxEntries, now);
  }

  /** The key whose secret hashes to `hash`, from `load` unless kept; unknown keys are never kept. */
  resolve(hash: Buffer, load: () => Promise<ResolvedKey | null>): Promise<ResolvedKey | null> {
    if (!this.trusted) return load();
    return this.cache.get(
      hash.toString('base64'),
      load,
      (k) => k?.tenantId,
      (k) => k?.expiresAt ?? null,
    );
  }

  /** Told by the connection that hears KEY_CHANGES_CHANNEL whether it does; either way, nothing kept is trusted. */
  listening(on: boolean): void {
    this.trusted = on;
    this.cache.invalidate();
  }

  /**
   * A notice's payload: the tenant whose keys changed (empty: every tenant). What is kept goes first, so a
   * watcher that checks its credential again reads it afresh.
   */
  heard(payload: string | undefined): void {
    this.cache.invalidate(payload || undefined);
    const lists = payload ? [this.watchers.get(payload)] : [...this.watchers.values()];
    for (const list of lists) for (const fn of list ?? []) fn();
  }

  watch(tenantId: string, fn: () => void): () => void {
    let list = this.watchers.get(tenantId);
    if (!list) this.watchers.set(tenantId, (list = new Set()));
    list.add(fn);
    return () => {
      list.delete(fn);
      if (!list.size) this.watchers.delete(tenantId);
    };
  }

  /** Drops what is kept of a tenant's keys (every tenant's when none is named). */
  invalidate(tenantId?: string): void {
    this.cache.invalidate(tenantId);
  }
}
