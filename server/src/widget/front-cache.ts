// What every page view of every site reads, kept in process for a few seconds: the publishable key's
// tenant with its allowed origins (the gate), and the tenant's widget settings (config). Writes made
// through this process (admin and platform API) drop the tenant's entries before their response goes
// out; writes made elsewhere (another instance, the CLI, a background job) drop them as they commit, by
// the database's notice (migration 107). The TTL bounds what a lost notice can leave: a revoked key, a
// removed domain or a changed setting keeps its old effect for at most that long on an instance whose
// listening connection was down.
import { originAllowed, type DomainPattern } from '../tenants/domains.js';
import { TenantCache } from '../tenants/tenant-cache.js';

export interface KeyEntry {
  tenantId: string;
  patterns: DomainPattern[];
  /** Origins already checked against `patterns` (which an entry never changes), with the verdict. */
  verdicts: Map<string, boolean>;
}

/** How many origins an entry keeps a verdict for: a site's pages share one, and anyone can send others. */
export const ORIGIN_VERDICTS = 64;

/** Whether the key's domains allow `origin`: parsed once per entry, not on every page view. */
export function allowsOrigin(entry: KeyEntry, origin: string): boolean {
  let verdict = entry.verdicts.get(origin);
  if (verdict === undefined) {
    verdict = originAllowed(origin, entry.patterns);
    if (entry.verdicts.size < ORIGIN_VERDICTS) entry.verdicts.set(origin, verdict);
  }
  return verdict;
}

export const WIDGET_CHANGES_CHANNEL = 'parley_widget_changes';

export class WidgetFrontCache {
  readonly channel = WIDGET_CHANGES_CHANNEL;
  private readonly keys: TenantCache<KeyEntry | null>;
  private readonly settings: TenantCache<unknown>;

  constructor(ttlMs: number, maxEntries = 10_000, now: () => number = Date.now) {
    this.keys = new TenantCache(ttlMs, maxEntries, now);
    this.settings = new TenantCache(ttlMs, maxEntries, now);
  }

  /** The tenant and allowed origins of a publishable key; unknown keys are not cached. */
  key(key: string, load: () => Promise<KeyEntry | null>): Promise<KeyEntry | null> {
    return this.keys.get(key, load, (v) => v?.tenantId);
  }

  /** The tenant's widget settings. */
  widgetSettings<T>(tenantId: string, load: () => Promise<T>): Promise<T> {
    return (this.settings as TenantCache<T>).get(tenantId, load, () => tenantId);
  }

  /** A notice's payload: the tenant whose entries changed (empty: every tenant). */
  heard(payload: string | undefined): void {
    this.invalidate(payload || undefined);
  }

  /** Told whether the notices are heard: either way, what was kept meanwhile may have missed some. */
  listening(_on: boolean): void {
    this.invalidate();
  }

  /** Drops what is cached of a tenant (every tenant when none is named). */
  invalidate(tenantId?: string): void {
    this.keys.invalidate(tenantId);
    this.settings.invalidate(tenantId);
  }
}
