// Values kept in process for a few seconds and dropped with their tenant: the rule behind the widget's
// front cache (widget/front-cache.ts) and the secret-key cache (key-cache.ts). Concurrent misses share
// one load, and an invalidation is never undone by a load that began before it.

interface Slot<T> {
  at: number;
  /** When the value stops being true on its own (a key's expiry), in ms; Infinity: never. */
  until: number;
  tenantId: string;
  value: T;
}

export class TenantCache<T> {
  private readonly slots = new Map<string, Slot<T>>();
  private readonly pending = new Map<string, Promise<T>>();
  // Bumped by every invalidation: a load that began before one is used once, never stored.
  private version = 0;

  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries = 10_000,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * The value for `id`: kept for the TTL (or until `until` of it, if sooner) when `tenantOf` names its
   * tenant; a value without one (an unknown key) is never kept.
   */
  get(id: string, load: () => Promise<T>, tenantOf: (v: T) => string | undefined, until?: (v: T) => number | null): Promise<T> {
    if (this.ttlMs <= 0) return load();
    const hit = this.slots.get(id);
    const now = this.now();
    if (hit && now - hit.at < this.ttlMs && now < hit.until) return Promise.resolve(hit.value);
    // Concurrent misses share one read.
    const running = this.pending.get(id);
    if (running) return running;
    const version = this.version;
    const p = load().then(
      (value) => {
        if (this.pending.get(id) === p) this.pending.delete(id);
        const tenantId = tenantOf(value);
        if (tenantId !== undefined && version === this.version) {
          this.slots.delete(id);
          // Oldest first out: a Map iterates in insertion order.
          if (this.slots.size >= this.maxEntries) this.slots.delete(this.slots.keys().next().value!);
          this.slots.set(id, { at: this.now(), until: until?.(value) ?? Number.POSITIVE_INFINITY, tenantId, value });
        }
        return value;
      },
      (err) => {
        if (this.pending.get(id) === p) this.pending.delete(id);
        throw err;
      },
    );
    this.pending.set(id, p);
    return p;
  }

  /** Drops what is kept of a tenant (of every tenant when none is named). */
  invalidate(tenantId?: string): void {
    this.version++;
    this.pending.clear();
    if (tenantId === undefined) {
      this.slots.clear();
      return;
    }
    for (const [id, slot] of this.slots) if (slot.tenantId === tenantId) this.slots.delete(id);
  }
}
