// What every page view of every site reads, kept in process for a few seconds: the publishable key's
// tenant with its allowed origins (the gate), and the tenant's widget settings (config). Writes made
// through this process (admin and platform API) drop the tenant's entries before their response goes
// out; writes made elsewhere (another instance, the CLI, a background job) show within the TTL, which is
// the cross-instance staleness bound: a revoked key, a removed domain or a changed setting keeps its old
// effect on other instances for at most that long.
import { originAllowed, type DomainPattern } from '../tenants/domains.js';

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

interface Slot<T> {
  at: number;
  tenantId: string;
  value: T;
}

export class WidgetFrontCache {
  private readonly keys = new Map<string, Slot<KeyEntry>>();
  private readonly settings = new Map<string, Slot<unknown>>();
  private readonly pending = new Map<string, Promise<unknown>>();
  // Bumped by every invalidation: a load that began before one is used once, never stored.
  private version = 0;

  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries = 10_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** The tenant and allowed origins of a publishable key; unknown keys are not cached. */
  key(key: string, load: () => Promise<KeyEntry | null>): Promise<KeyEntry | null> {
    return this.memo(this.keys, `k:${key}`, key, load, (v) => v?.tenantId);
  }

  /** The tenant's widget settings. */
  widgetSettings<T>(tenantId: string, load: () => Promise<T>): Promise<T> {
    return this.memo(this.settings as Map<string, Slot<T>>, `s:${tenantId}`, tenantId, load, () => tenantId);
  }

  /** Drops what is cached of a tenant (every tenant when none is named). */
  invalidate(tenantId?: string): void {
    this.version++;
    this.pending.clear();
    if (tenantId === undefined) {
      this.keys.clear();
      this.settings.clear();
      return;
    }
    this.settings.delete(tenantId);
    for (const [k, slot] of this.keys) if (slot.tenantId === tenantId) this.keys.delete(k);
  }

  private async memo<T>(
    map: Map<string, Slot<T>>,
    pendingId: string,
    id: string,
    load: () => Promise<T>,
    tenantOf: (v: T) => string | undefined,
  ): Promise<T> {
    if (this.ttlMs <= 0) return load();
    const hit = map.get(id);
    if (hit && this.now() - hit.at < this.ttlMs) return hit.value;
    // Concurrent misses share one read.
    const running = this.pending.get(pendingId) as Promise<T> | undefined;
    if (running) return running;
    const version = this.version;
    const p = load().then(
      (value) => {
        if (this.pending.get(pendingId) === p) this.pending.delete(pendingId);
        const tenantId = tenantOf(value);
        if (tenantId !== undefined && version === this.version) {
          map.delete(id);
          // Oldest first out: a Map iterates in insertion order.
          if (map.size >= this.maxEntries) map.delete(map.keys().next().value!);
          map.set(id, { at: this.now(), tenantId, value });
        }
        return value;
      },
      (err) => {
        if (this.pending.get(pendingId) === p) this.pending.delete(pendingId);
        throw err;
      },
    );
    this.pending.set(pendingId, p);
    return p;
  }
}
