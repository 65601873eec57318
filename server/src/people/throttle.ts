// Sign-in throttling. Three counters: the account from this address (a few free failures, then waits
// doubling up to 15 minutes), the address across accounts (spraying), and the account across all
// addresses (distributed guessing) — the last one waits at most a minute, so nobody elsewhere can keep
// an owner out of their account for longer than that. Counters live in the database (every instance
// sees them) and are reached only through SECURITY DEFINER functions.
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

export class SignInThrottle {
  constructor(
    private readonly db: Db,
    private readonly limits: ThrottleLimits = THROTTLE,
  ) {}

  /** Refuses with a Retry-After while any of the three counters is waiting. */
  async check(requestId: string | null, email: string, address: string): Promise<void> {
    const k = keys(email, address);
    const { rows } = await this.db.withoutTenant({ requestId }, (tx) =>
      tx.query<{ until: Date | null }>('SELECT parley_throttle_blocked($1::bytea[]) AS until', [[k.pair, k.address, k.account]]),
    );
    const until = rows[0]?.until;
    if (until) {
      const seconds = Math.max(1, Math.ceil((new Date(until).getTime() - Date.now()) / 1000));
      throw new DomainError('throttled', `Too many failed sign-ins. Try again in ${seconds} seconds.`, { retryAfterSeconds: seconds });
    }
  }

  async fail(requestId: string | null, email: string, address: string): Promise<void> {
    const k = keys(email, address);
    await this.db.withoutTenant({ requestId }, async (tx) => {
      for (const name of ['pair', 'address', 'account'] as const) {
        const c = this.limits[name];
        await tx.query('SELECT parley_throttle_fail($1, $2, $3, $4)', [k[name], c.free, c.maxWaitSeconds, this.limits.forgetSeconds]);
      }
    });
  }

  /**
   * A successful sign-in clears the count of this account from this address only. Not the address's (it
   * may be trying others), nor the account's across addresses: an email may be a member of several
   * tenants, and a success with one tenant's password says nothing about guesses at another's. That count
   * waits at most a minute and is forgotten after a day.
   */
  async succeed(requestId: string | null, email: string, address: string): Promise<void> {
    const k = keys(email, address);
    await this.db.withoutTenant({ requestId }, (tx) => tx.query('SELECT parley_throttle_clear($1)', [k.pair]));
  }
}
