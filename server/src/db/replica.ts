// Which reads the read replica may serve. A physical replica replays the primary's WAL a little later, so a
// tenant that has just written through this instance must not read an older copy of its own data
// (read-your-writes). After each writing transaction we keep the primary's WAL position for the tenant (the
// COMMIT brings it back in the same round trip); a replica transaction reads how far the replica has
// replayed in the statement that sets the tenant, and goes on only if that is past the tenant's position —
// else it steps aside and the read runs on the primary. A time window ("wrote in the last N seconds") would
// be simpler, but every chat turn writes, so it would keep each busy tenant on the primary; the position
// sends the tenant back to the replica as soon as it has caught up, usually within milliseconds.
// Writes made through other instances are not known here: their readers may see them a moment late.
// Bound on staleness: when a write of this instance is still not replayed MAX_LAG_MS after its commit, the
// replica is lagging and every read goes to the primary for RETRY_MS; an unreachable replica likewise. Each
// change of state is logged once.

export const MAX_LAG_MS = 10_000;
export const RETRY_MS = 5_000;
/** The mark of writes made outside any tenant (platform, owner): they may touch every tenant's rows. */
const ALL = '*';

export interface ReplicaLog {
  warn(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
}

/** A WAL position ('16/B374D848') as a number, to compare. */
export function lsnValue(lsn: string): bigint {
  const [hi, lo] = lsn.split('/');
  return (BigInt(`0x${hi}`) << 32n) | BigInt(`0x${lo}`);
}

export class ReadRouting {
  /** Per tenant (or ALL): the WAL position of this instance's latest write the replica is not known to have replayed. */
  private readonly marks = new Map<string, bigint>();
  /** One write at a time whose replay is awaited, to measure the replica's lag. */
  private probe: { lsn: bigint; at: number } | null = null;
  private state: 'ok' | 'down' | 'lagging' = 'ok';
  private skipUntil = 0;

  constructor(
    private readonly log: ReplicaLog,
    private readonly now: () => number = Date.now,
  ) {}

  /** A transaction of `tenantId` (null: no tenant, e.g. platform work) wrote; `lsn` is past its commit. */
  wrote(tenantId: string | null, lsn: string): void {
    const key = tenantId ?? ALL;
    const value = lsnValue(lsn);
    if ((this.marks.get(key) ?? -1n) < value) this.marks.set(key, value);
    this.probe ??= { lsn: value, at: this.now() };
  }

  /** Whether to try the replica at all (not while it is down or lagging, until the next retry). */
  usable(): boolean {
    return this.now() >= this.skipUntil;
  }

  /**
   * Whether the replica, having replayed up to `replayed`, may serve `tenantId`. Null: it is not in recovery
   * (a primary), so it is current.
   */
  mayServe(tenantId: string, replayed: string | null): boolean {
    if (replayed === null) return this.recovered();
    const at = lsnValue(replayed);
    for (const [key, lsn] of this.marks) if (lsn <= at) this.marks.delete(key);
    if (this.probe && this.probe.lsn <= at) this.probe = null;
    if (this.probe && this.now() - this.probe.at > MAX_LAG_MS) {
      this.pause('lagging', { lagMs: this.now() - this.probe.at }, `read replica lags more than ${MAX_LAG_MS} ms: reading from the primary`);
      return false;
    }
    if (this.marks.has(tenantId) || this.marks.has(ALL)) return false;
    return this.recovered();
  }

  /** The replica could not be reached or set up a transaction. */
  failed(err: unknown): void {
    const e = err as { code?: unknown; message?: unknown };
    this.pause(
      'down',
      { code: typeof e.code === 'string' ? e.code : undefined, message: String(e.message ?? err) },
      'read replica unavailable: reading from the primary',
    );
  }

  private pause(state: 'down' | 'lagging', detail: object, msg: string) {
    this.skipUntil = this.now() + RETRY_MS;
    if (this.state === state) return;
    this.state = state;
    this.log.warn({ replica: detail }, msg);
  }

  private recovered(): boolean {
    if (this.state !== 'ok') {
      this.state = 'ok';
      this.log.info({}, 'read replica serving reads again');
    }
    return true;
  }
}
