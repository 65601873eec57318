// Sign-in throttling. Three counters: the account from this address (a few free failures, then waits
// doubling up to 15 minutes), the address across accounts (spraying), and the account across all
// addresses (distributed guessing, waits of at most a minute). Counters live in the database (every
// instance sees them) and are reached only through SECURITY DEFINER functions.
//
// A password is judged by the first two before it is checked (they count only what came from the
// caller's own address), and by the account's count across addresses only after: anyone anywhere can
// push that one, so it refuses a wrong password (with its wait) and never the right one. Otherwise one
// wrong guess whenever the wait ran out kept an owner out for good. Second-factor codes (reached only
// with the password) are judged by all three first.
//
// An attempt is counted before it is checked, in the same step that lets it on (`reservePassword`,
// `reserveCode`): a failure already, until it succeeds and is given back. Reading the counters first and
// counting after let a burst sent at once all pass the reading: 50 wrong passwords or codes, all checked.
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

/**
 * One attempt, counted before it is checked. Exactly one of its three ends is called; until then it counts
 * as a failure, so further attempts wait as if it had failed.
 */
export interface Attempt {
  /**
   * It failed: it stays counted, and a wait it started runs from now. A password's failure is counted on
   * the account across addresses now; the answer is that count's wait, if it waits (null: none).
   */
  failed(): Promise<DomainError | null>;
  /**
   * It succeeded: the count of this account from this address is cleared, and the others given back. Its
   * count across addresses is not cleared: an email may be a member of several tenants, and one tenant's
   * right password says nothing of guesses at another's.
   */
  succeeded(): Promise<void>;
  /** It was never judged (an error on the way): given back on every counter. */
  abandoned(): Promise<void>;
}

export class SignInThrottle {
  constructor(
    private readonly db: Db,
    private readonly limits: ThrottleLimits = THROTTLE,
  ) {}

  /**
   * A password attempt: refused with a Retry-After while this address's counters wait (the account from
   * here, the address across accounts), else counted on them at once. The account's count across addresses
   * is not asked: a wrong password is counted there when it fails (see `failed`).
   */
  reservePassword(requestId: string | null, email: string, address: string): Promise<Attempt> {
    const k = keys(email, address);
    return this.reserve(requestId, k, ['pair', 'address'], async () => {
      const until = await this.count(requestId, k.account, 'account');
      return until ? throttled(until) : null;
    });
  }

  /**
   * A second-factor attempt (`subject` names the account on its own): refused with a Retry-After while
   * any of the three counters waits, else counted on all three at once.
   */
  reserveCode(requestId: string | null, subject: string, address: string): Promise<Attempt> {
    return this.reserve(requestId, keys(subject, address), ['pair', 'address', 'account'], async () => null);
  }

  private async reserve(
    requestId: string | null,
    k: ReturnType<typeof keys>,
    names: ('pair' | 'address' | 'account')[],
    onFailure: () => Promise<DomainError | null>,
  ): Promise<Attempt> {
    const free = (among: typeof names) => among.map((n) => this.limits[n].free);
    const { rows } = await this.db.withoutTenant({ requestId }, (tx) =>
      tx.query<{ until: Date | null }>('SELECT parley_throttle_reserve($1::bytea[], $2::int[], $3::int[], $4) AS until', [
        names.map((n) => k[n]),
        free(names),
        names.map((n) => this.limits[n].maxWaitSeconds),
        this.limits.forgetSeconds,
      ]),
    );
    const until = rows[0]?.until;
    if (until) throw throttled(until);
    let ended = false;
    const end = async (fn: () => Promise<void>) => {
      if (ended) throw new Error('an attempt ends once');
      ended = true;
      await fn();
    };
    const refund = (among: typeof names) =>
      this.db.withoutTenant({ requestId }, (tx) =>
        tx.query('SELECT parley_throttle_refund($1::bytea[], $2::int[])', [among.map((n) => k[n]), free(among)]),
      );
    let answer: DomainError | null = null;
    return {
      failed: async () => {
        await end(async () => {
          await this.db.withoutTenant({ requestId }, (tx) => tx.query('SELECT parley_throttle_failed($1::bytea[])', [names.map((n) => k[n])]));
          answer = await onFailure();
        });
        return answer;
      },
      succeeded: () =>
        end(async () => {
          const others = names.filter((n) => n !== 'pair');
          await this.db.withoutTenant({ requestId }, (tx) => tx.query('SELECT parley_throttle_clear($1)', [k.pair]));
          if (others.length) await refund(others);
        }),
      abandoned: () => end(async () => void (await refund(names))),
    };
  }

  /** One more failure on one counter; the time it waits until (null: it does not). */
  private async count(requestId: string | null, key: Buffer, name: 'pair' | 'address' | 'account'): Promise<Date | null> {
    const c = this.limits[name];
    const { rows } = await this.db.withoutTenant({ requestId }, (tx) =>
      tx.query<{ until: Date | null }>('SELECT parley_throttle_fail($1, $2, $3, $4) AS until', [
        key,
        c.free,
        c.maxWaitSeconds,
        this.limits.forgetSeconds,
      ]),
    );
    return rows[0]?.until ?? null;
  }
}
