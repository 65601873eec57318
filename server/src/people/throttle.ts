// Sign-in throttling. Three counters: the account from this address (a few free failures, then waits
// doubling up to 15 minutes), the address across accounts (spraying), and the account across all
// addresses (distributed guessing, waits of at most a minute). Counters live in the database (every
// instance sees them) and are reached only through SECURITY DEFINER functions.
//
// A password is judged by the first two before it is checked (they count only what came from the
// caller's own address), and by the account's count across addresses only after: anyone anywhere can
// push that one, so it refuses a wrong password (with its wait) and never the right one. Otherwise one
// wrong guess whenever the wait ran out kept an owner out for good. Second-factor codes (reached only
// with the password) are judged by all three first: `check`.
import { createHash } from 'node:crypto';
import type { Db } from '../db/index.js';
import { DomainError } from '../errors.js';

interface Counter {
  /** Failures before waits begin. */
  free: number;
  /** The longest wait, in seconds. */
  maxWaitSeconds: number;
}
export interface ThrottleLimits {
  pair: Counter;
  address: Counter;
  account: Counter;
  /** Failures older than this are forgotten. */
  forgetSeconds: number;
}

export const THROTTLE: ThrottleLimits = {
  pair: { free: 5, maxWaitSeconds: 15 * 60 },
  address: { free: 30, maxWaitSeconds: 15 * 60 },
  account: { free: 100, maxWaitSeconds: 60 },
  forgetSeconds: 24 * 3600,
};

const key = (kind: string, ...subject: string[]) =>
  createHash('sha256')
    .update([kind, ...subject].join('\0'))
    .digest();
const keys = (email: string, address: string) => ({
  pair: key('pair', email.toLowerCase(), address),
  address: key('address', address),
  account: key('account', email.toLowerCase()),
});

const throttled = (until: Date) => {
  const seconds = Math.max(1, Math.ceil((new Date(until).getTime() - Date.now()) / 1000));
  return new DomainError('throttled', `Too many failed sign-ins. Try again in ${seconds} seconds.`, { retryAfterSeconds: seconds });
};

export class SignInThrottle {
  constructor(
    private readonly db: Db,
    private readonly limits: ThrottleLimits = THROTTLE,
  ) {}

  /** Refuses with a Retry-After while any of the three counters is waiting (second-factor codes). */
  async check(requestId: string | null, email: string, address: string): Promise<void> {
    const k = keys(email, address);
    await this.refuseWhileBlocked(requestId, [k.pair, k.address, k.account]);
  }

  /**
   * Before a password is checked: refuses while this address's counters wait (the account from here, the
   * address across accounts). The account's count across addresses is not asked: see `fail`.
   */
  async checkAddress(requestId: string | null, email: string, address: string): Promise<void> {
    const k = keys(email, address);
    await this.refuseWhileBlocked(requestId, [k.pair, k.address]);
  }

  private async refuseWhileBlocked(requestId: string | null, blockedKeys: Buffer[]): Promise<void> {
    const { rows } = await this.db.withoutTenant({ requestId }, (tx) =>
      tx.query<{ until: Date | null }>('SELECT parley_throttle_blocked($1::bytea[]) AS until', [blockedKeys]),
    );
    const until = rows[0]?.until;
    if (until) throw throttled(until);
  }

  /**
   * One more failure, on all three counters. Returns the refusal a wrong password gets while the account's
   * count across addresses waits (null: none), which only a wrong password ever gets: the right one
   * passes that count, so it keeps nobody out, and wrong guesses still hear to wait.
   */
  async fail(requestId: string | null, email: string, address: string): Promise<DomainError | null> {
    const k = keys(email, address);
    const account = await this.db.withoutTenant({ requestId }, async (tx) => {
      let until: Date | null = null;
      for (const name of ['pair', 'address', 'account'] as const) {
        const c = this.limits[name];
        const { rows } = await tx.query<{ until: Date | null }>('SELECT parley_throttle_fail($1, $2, $3, $4) AS until', [
          k[name],
          c.free,
          c.maxWaitSeconds,
          this.limits.forgetSeconds,
        ]);
        if (name === 'account') until = rows[0]?.until ?? null;
      }
      return until;
    });
    return account ? throttled(account) : null;
  }

  /**
   * A successful sign-in clears the count of this account from this address only. Not the address's (it
   * may be trying others), nor the account's across addresses: an email may be a member of several
   * tenants, and a success with one tenant's password says nothing about guesses at another's. That count
   * never refuses a right password, waits at most a minute and is forgotten after a day.
   */
  async succeed(requestId: string | null, email: string, address: string): Promise<void> {
    const k = keys(email, address);
    await this.db.withoutTenant({ requestId }, (tx) => tx.query('SELECT parley_throttle_clear($1)', [k.pair]));
  }
}
