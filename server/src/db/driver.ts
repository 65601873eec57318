import pg from 'pg';
import type { Tx } from './types.js';
import type { UpkeepStep } from './pglite-upkeep.js';

/** Who a transaction runs as: its role, tenant ('' for none) and request id ('' for none). */
export interface TxScope {
  role: 'parley_app' | 'parley_platform';
  tenantId: string;
  requestId: string;
  /** Also read how far this server (a replica) has replayed the WAL, as `replayed`. */
  replayed?: boolean;
}

// The statement that scopes a transaction: set_config(…, true) is SET LOCAL, so role and tenant end with the
// transaction. Its values go as parameters, so that it is prepared and planned once per connection; its two
// texts are constants, not built (and hashed for their prepared name) on every transaction.
const SCOPE = "SELECT set_config('role', $1, true), set_config('app.tenant_id', $2, true), set_config('app.request_id', $3, true)";
const SCOPE_REPLAYED = `${SCOPE}, pg_last_wal_replay_lsn()::text AS replayed`;

/** The statement that scopes a transaction to `s`, with its values. */
export function scopeStatement(s: TxScope): { sql: string; params: string[] } {
  return { sql: s.replayed ? SCOPE_REPLAYED : SCOPE, params: [s.role, s.tenantId, s.requestId] };
}

const WORD = /[A-Za-z0-9_$]/;

/** Where the quoted text, quoted name, dollar-quoted body or comment starting at `i` ends; -1: none starts there. */
function skip(sql: string, i: number): number {
  const c = sql[i];
  const next = sql[i + 1];
  if (c === '-' && next === '-') {
    const end = sql.indexOf('\n', i);
    return end < 0 ? sql.length : end;
  }
  if (c === '/' && next === '*') {
    // Block comments nest in PostgreSQL.
    let depth = 0;
    for (let j = i; j < sql.length - 1; j++) {
      if (sql[j] === '/' && sql[j + 1] === '*') depth++, j++;
      else if (sql[j] === '*' && sql[j + 1] === '/' && (j++, --depth === 0)) return j + 1;
    }
    return Infinity;
  }
  if (c === "'" || c === '"') {
    // E'…' takes backslash escapes; elsewhere a doubled quote is the only escape.
    const escapes = c === "'" && /[Ee]/.test(sql[i - 1] ?? '') && !WORD.test(sql[i - 2] ?? '');
    for (let j = i + 1; j < sql.length; j++) {
      if (escapes && sql[j] === '\\') j++;
      else if (sql[j] === c) {
        if (sql[j + 1] !== c) return j + 1;
        j++;
      }
    }
    return Infinity;
  }
  if (c === '$' && !WORD.test(sql[i - 1] ?? '')) {
    const tag = /^\$(?:[A-Za-z_][A-Za-z0-9_]*)?\$/.exec(sql.slice(i, i + 64))?.[0];
    if (tag) {
      const end = sql.indexOf(tag, i + tag.length);
      return end < 0 ? Infinity : end + tag.length;
    }
  }
  return -1;
}

// A read-only transaction on PostgreSQL commits with each write it sends and begins again with the next
// (postgres.ts): a setting made in one (SET, set_config) would not reach its later statements. Refused on
// both databases alike, where it is asked for.
const SETTING = /^\s*(?:SET|RESET)\b|\bset_config\s*\(/i;

/** Whether `p` fulfils (never rejects). */
export const succeeds = (p: Promise<unknown>): Promise<boolean> =>
  p.then(
    () => true,
    () => false,
  );

/** What a statement asked for after the transaction's last one (Tx.last) fails with, on both drivers. */
export const AFTER_LAST = 'the transaction has sent its last statement: nothing more may be asked in it';
/** What Tx.last fails with in a read-only transaction, on both drivers. */
export const LAST_READ_ONLY = 'a read-only transaction has no last write (Tx.last): use query';
/** A statement asked for once its transaction's function has ended (it would run after COMMIT or ROLLBACK). */
export const TX_OVER = 'the transaction is over';

/** Throws for a statement that changes a setting, which a read-only transaction cannot keep. */
export function checkReadOnly(sql: string): void {
  if (SETTING.test(sql)) throw new TypeError('a read-only transaction cannot change a setting: its statements may run in separate transactions');
}

/**
 * Refuses, when a write is held (Tx.defer) rather than when it runs with a later statement, what the
 * database would refuse of its values: a NUL in one (no text may hold it), a value missing or left over
 * for the $n placeholders (those inside quotes, quoted names, dollar-quoted bodies and comments are not
 * placeholders), an unterminated quote. Throws a TypeError.
 */
export function checkParams(sql: string, params: readonly unknown[] = []): void {
  const used = new Set<number>();
  for (let i = 0; i < sql.length; ) {
    const end = skip(sql, i);
    if (end === Infinity) throw new TypeError('the statement has an unterminated quote or comment');
    if (end >= 0) {
      i = end;
      continue;
    }
    const m = sql[i] === '$' && !WORD.test(sql[i - 1] ?? '') ? /^\$(\d+)/.exec(sql.slice(i, i + 12)) : null;
    if (!m) {
      i++;
      continue;
    }
    const n = Number(m[1]);
    if (n < 1 || n > params.length) throw new TypeError(`no value for $${n}`);
    used.add(n);
    i += m[0].length;
  }
  if (used.size !== params.length) throw new TypeError(`${params.length} values for ${used.size} placeholders`);
  params.forEach((v, i) => {
    if (holdsNul(v)) throw new TypeError(`$${i + 1} holds a NUL character`);
  });
}

/** A NUL in a text, or in an array's texts; an object goes as JSON, which writes a NUL escaped. */
const holdsNul = (v: unknown): boolean => (typeof v === 'string' ? v.includes('\0') : Array.isArray(v) && v.some(holdsNul));

// pg's own conversion of a parameter to what it sends (arrays, dates, JSON), which its types leave out.
const { prepareValue } = (pg as unknown as { utils: { prepareValue(v: unknown): string | Buffer | null } }).utils;

/** A parameter's text as node-postgres sends it to a server (null for NULL). */
export function paramText(value: unknown): string | null {
  const v = prepareValue(value);
  // pg sends a Buffer as a binary parameter; bytea's hex text is the same bytes.
  return Buffer.isBuffer(v) ? `\\x${v.toString('hex')}` : v;
}

export interface TxOptions {
  /** Set first thing in the transaction; its row goes to the transaction's function. */
  scope?: TxScope;
  /** BEGIN … READ ONLY: any write in the transaction fails. */
  readOnly?: boolean;
  /**
   * Called after COMMIT, only if the transaction wrote, with the primary's WAL insert position (postgres
   * only): the point a replica must have replayed to show this transaction's writes.
   */
  onWrite?: (lsn: string) => void;
}

/** What the scope statement read: `replayed` when asked for. */
export interface Scoped {
  replayed?: string | null;
}

/** Runs `fn` in one transaction on a connection of a pool. */
export type Runner = <T>(fn: (tx: Tx, scoped: Scoped) => Promise<T>, opts?: TxOptions) => Promise<T>;

/** What a database driver provides: plain transactions on the app and owner connections. */
export interface Driver {
  kind: 'pglite' | 'postgres';
  app: Runner;
  owner: Runner;
  /** One statement on the app connection outside any transaction (its own implicit one): a single round trip. */
  single: <R>(sql: string, params?: readonly unknown[]) => Promise<R[]>;
  /** Read-only transactions on the read replica (postgres with a read URL only); null: there is none. */
  replica: Runner | null;
  close(): Promise<void>;
  /** The embedded database's data folder as a tarball, which `openPglite` can start from (pglite only). */
  dump?(): Promise<Blob>;
  /**
   * The embedded database's upkeep, now (pglite only; its timer does it every minute): the VACUUM, ANALYZE
   * and checkpoint that PostgreSQL's background processes would have done, each with its pause.
   */
  upkeep?(): Promise<UpkeepStep[]>;
  /** Hears NOTIFY on `channel` in process (pglite only); resolves to the way to stop. */
  listen?(channel: string, heard: (payload: string) => void): Promise<() => Promise<void>>;
  /** Connection pool use, for metrics (a server's pools; the embedded database has none). */
  pools?(): PoolUse[];
}

export interface PoolUse {
  pool: 'app' | 'owner' | 'replica';
  total: number;
  idle: number;
  waiting: number;
}
