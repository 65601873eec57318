// Strict personal data must not be recoverable from a database dump. The attacker holds every row of
// every table (not the master key or KMS) and the source code, knows a card's BIN and last four, the
// year someone was born, the first five digits of an SSN and a list of candidate emails, and tries the
// engine's own construction and the obvious alternatives against every hash- or salt-looking value.
import { createHmac, hash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { Keyring } from '../../crypto/keyring.js';
import { rotateDataKeys } from '../../crypto/rotation.js';
import { loadMigrations, migrate } from '../../db/migrate.js';
import { createTestDb } from '../../test/db.js';
import { defaultPolicy, loadRedactionState, redact, type RedactionState } from './index.js';
import { startTestApp, type TestApp } from '../../test/app.js';
import { call } from '../../test/http.js';
import { Visitor } from '../../test/widget.js';
import type { CreatedTenant } from '../../tenants/service.js';

let t: TestApp;
let tenant: CreatedTenant;
const ORIGIN = 'https://strict.example';

beforeAll(async () => {
  t = await startTestApp();
  tenant = await t.tenant('Strict', ['strict.example']);
  const strict = { mode: 'strict', minScore: 0.5 };
  const put = await admin('PATCH', '/settings', {
    pii: {
      classes: { email: strict, payment_card: strict, date_of_birth: strict, government_id: strict, phone: { mode: 'reversible', minScore: 0.5 } },
    },
  });
  expect(put.status).toBe(200);
});
afterAll(() => t.close());

const admin = (method: string, path: string, body?: unknown) => call(t.url, method, `/v1/admin${path}`, { key: tenant.secretKey, body });

async function visitor(): Promise<{ v: Visitor; conv: string }> {
  const v = new Visitor(t.url, tenant.publishableKey, ORIGIN);
  await v.start();
  return { v, conv: (await v.call('POST', '/conversations', {})).body.conversation.id };
}

async function transcript(conv: string): Promise<string[]> {
  const res = await admin('GET', `/conversations/${conv}`);
  expect(res.status).toBe(200);
  return res.body.messages.filter((m: { role: string }) => m.role === 'visitor').map((m: { text: string }) => m.text);
}

/** Every column of every table in the public schema as text, as a dump would hold it (bytea as hex and base64). */
async function dump(): Promise<string> {
  return t.runtime.db.withOwner(async (tx) => {
    const tables = await tx.query<{ relname: string }>(
      "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND c.relkind = 'r' ORDER BY 1",
    );
    const out: string[] = [];
    for (const { relname } of tables.rows) {
      const rows = await tx.query<Record<string, unknown>>(`SELECT * FROM "${relname}"`);
      for (const row of rows.rows) {
        for (const v of Object.values(row)) {
          if (v instanceof Uint8Array) out.push(Buffer.from(v).toString('hex'), Buffer.from(v).toString('base64'));
          else out.push(typeof v === 'object' && v !== null && !(v instanceof Date) ? JSON.stringify(v) : String(v));
        }
      }
    }
    return out.join('\n');
  });
}

// ---- the brute force -------------------------------------------------------------------------------

const luhn = (s: string) => {
  let sum = 0;
  for (let i = 0; i < s.length; i++) {
    let d = s.charCodeAt(s.length - 1 - i) - 48;
    if (i % 2) d = d * 2 > 9 ? d * 2 - 9 : d * 2;
    sum += d;
  }
  return sum % 10 === 0;
};

const CARD = '4111119876501111';
const DOB = '14/03/1987';
const SSN = '536-22-4198';
const EMAIL = 'ada.byron@analytical.example';

/** All 16-digit cards with BIN 411111 and last four 1111 that pass Luhn. */
function cardSpace(): string[] {
  const out: string[] = [];
  for (let m = 0; m < 1_000_000; m++) {
    const c = `411111${String(m).padStart(6, '0')}1111`;
    if (luhn(c)) out.push(c);
  }
  return out;
}

/** Every day of 1987 in the common written forms, as typed and as the engine normalises them. */
function dobSpace(): string[] {
  const months = ['january', 'february', 'march', 'april', 'may', 'june', 'july', 'august', 'september', 'october', 'november', 'december'];
  const out = new Set<string>();
  for (let d = new Date(Date.UTC(1987, 0, 1)); d.getUTCFullYear() === 1987; d = new Date(d.getTime() + 86_400_000)) {
    const [y, m, day] = [d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate()];
    const dd = String(day).padStart(2, '0');
    const mm = String(m).padStart(2, '0');
    for (const f of [
      `${dd}/${mm}/${y}`,
      `${mm}/${dd}/${y}`,
      `${day}/${m}/${y}`,
      `${m}/${day}/${y}`,
      `${y}-${mm}-${dd}`,
      `${dd}.${mm}.${y}`,
      `${dd}-${mm}-${y}`,
      `${day} ${months[m - 1]} ${y}`,
      `${months[m - 1]} ${day}, ${y}`,
      `${dd}${mm}${y}`,
      `${y}${mm}${dd}`,
    ])
      out.add(f);
  }
  return [...out];
}

/** Every SSN starting 536-22, digits only and as written. */
function ssnSpace(): string[] {
  const out: string[] = [];
  for (let s = 0; s < 10_000; s++) {
    const serial = String(s).padStart(4, '0');
    out.push(`53622${serial}`, `536-22-${serial}`);
  }
  return out;
}

function emailSpace(): string[] {
  const out = [EMAIL];
  for (let i = 0; i < 500; i++) out.push(`person${i}@analytical.example`, `ada.byron${i}@example.org`);
  return out;
}

// A digest counts as found when its first 8 bytes start any token of the dump, read as hex or as base64
// (either alphabet): its encodings are compared as bytes, so each digest is encoded once, in hex.
const PREFIX_BYTES = 8;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Tries, for every candidate value and every salt-looking string in the dump (16 to 32 characters): the engine's construction
 * (HMAC-SHA256 keyed by the salt string, base64url), HMAC keyed by the salt's decoded bytes,
 * sha256(salt‖value), sha256(value‖salt) and plain sha256(value); any digest encoding (hex, base64,
 * base64url), truncated or not. Returns the candidates whose digest appears in the dump.
 */
async function bruteForce(
  dumpText: string,
  spaces: Record<string, string[]>,
): Promise<{ recovered: Record<string, string[]>; salts: number; hashes: number }> {
  const tokens = [...new Set(dumpText.match(/[A-Za-z0-9+/_-]{16,}={0,2}/g) ?? [])];
  const seen = new Set<string>();
  for (const token of tokens) {
    if (/^[0-9a-f]{16}/i.test(token)) seen.add(token.slice(0, PREFIX_BYTES * 2).toLowerCase());
    seen.add(Buffer.from(token.slice(0, 12), 'base64').toString('hex', 0, PREFIX_BYTES));
  }
  // Salts are 16 to 24 random bytes written in base64 or hex; 32-byte values here are digests, keys and
  // signatures, tried as targets.
  const salts = tokens.filter((s) => s.length <= 32 && !UUID.test(s));
  const keys: { str: string; bytes: Buffer[] }[] = salts.map((s) => {
    const bytes: Buffer[] = [];
    if (/^[A-Za-z0-9_-]+$/.test(s)) bytes.push(Buffer.from(s, 'base64url'));
    if (/^[0-9a-f]+$/i.test(s) && s.length % 2 === 0) bytes.push(Buffer.from(s, 'hex'));
    return { str: s, bytes };
  });
  const hit = (hex: string) => seen.has(hex.slice(0, PREFIX_BYTES * 2));
  const sha256 = (s: string) => hash('sha256', s, 'hex');
  const recovered: Record<string, string[]> = {};
  let hashes = 0;
  for (const [label, values] of Object.entries(spaces)) {
    const found = new Set<string>();
    for (const [i, value] of values.entries()) {
      // Lets the test server (same process) run its timers meanwhile.
      if (i % 2000 === 0) await new Promise((r) => setImmediate(r));
      hashes++;
      if (hit(sha256(value))) found.add(value);
      for (const k of keys) {
        hashes += 3 + k.bytes.length;
        if (hit(createHmac('sha256', k.str).update(value).digest('hex'))) found.add(value);
        for (const b of k.bytes) if (hit(createHmac('sha256', b).update(value).digest('hex'))) found.add(value);
        if (hit(sha256(k.str + value))) found.add(value);
        if (hit(sha256(value + k.str))) found.add(value);
      }
    }
    if (found.size) recovered[label] = [...found];
  }
  return { recovered, salts: salts.length, hashes };
}

describe('strict personal data in a database dump', () => {
  test('a brute force over a known-BIN card space, a year of birth dates, an SSN range and candidate emails recovers nothing', {
    timeout: 240_000,
  }, async () => {
    const { v, conv } = await visitor();
    await v.say(conv, `My card ${CARD.replace(/(\d{4})(?=\d)/g, '$1 ')} was charged twice, my SSN is ${SSN}`);
    await v.say(conv, `I was born on ${DOB}, write to ${EMAIL}`);
    await v.say(conv, `Again: card ${CARD}, email ${EMAIL}`);
    const texts = await transcript(conv);
    expect(texts).toEqual([
      'My card [CARD_1] was charged twice, my SSN is [GOV_ID_1]',
      'I was born on [DOB_1], write to [EMAIL_1]',
      'Again: card [CARD_1], email [EMAIL_1]',
    ]);
    const text = await dump();
    for (const value of [CARD, DOB, SSN, EMAIL, '536224198', CARD.replace(/(\d{4})(?=\d)/g, '$1 ')]) expect(text).not.toContain(value);

    const spaces = { card: cardSpace(), dob: dobSpace(), ssn: ssnSpace(), email: emailSpace() };
    // The attack covers the values actually sent.
    expect(spaces.card).toContain(CARD);
    expect(spaces.dob).toContain(DOB);
    expect(spaces.ssn).toContain(SSN.replace(/-/g, ''));
    const started = performance.now();
    const result = await bruteForce(text, spaces);
    console.info(`brute force: ${result.salts} salt candidates, ${result.hashes} hashes, ${Math.round(performance.now() - started)} ms`);
    expect(result.recovered).toEqual({});
  });

  test('the brute force recovers what a weaker scheme leaves in a dump, in every encoding it tries', async () => {
    const salt = 'q4Cx0fJm7RkPz2LdVb9sWA';
    const saltHex = '8e1f3a5c7b9d2e4f6a8c0b1d3e5f7a9c';
    const b64 = (d: Buffer) => d.toString('base64');
    const weak = [
      `card_hash=${hash('sha256', CARD, 'hex')}`,
      `salt=${salt} dob=${createHmac('sha256', salt).update(DOB).digest('base64url')}`,
      `salt=${saltHex} ssn=${b64(createHmac('sha256', Buffer.from(saltHex, 'hex')).update(SSN.replace(/-/g, '')).digest()).slice(0, 22)}`,
      `email=${b64(Buffer.from(hash('sha256', salt + EMAIL, 'hex'), 'hex'))}`,
    ];
    const spaces = { card: [CARD, '4000000000000002'], dob: [DOB, '1990-01-01'], ssn: ssnSpace(), email: emailSpace() };
    expect(spaces.ssn).toContain(SSN.replace(/-/g, ''));
    const { recovered } = await bruteForce(weak.join('\n'), spaces);
    expect(recovered).toEqual({ card: [CARD], dob: [DOB], ssn: [SSN.replace(/-/g, '')], email: [EMAIL] });
  });

  test('one value keeps one placeholder within a conversation, however written; another conversation shares nothing', async () => {
    const a = await visitor();
    await a.v.say(a.conv, `card ${CARD}, SSN ${SSN}, email ${EMAIL}`);
    await a.v.say(a.conv, `card ${CARD.replace(/(\d{4})(?=\d)/g, '$1-')} again, another card 4012 8888 8888 1881, mail ${EMAIL.toUpperCase()}`);
    expect(await transcript(a.conv)).toEqual([
      'card [CARD_1], SSN [GOV_ID_1], email [EMAIL_1]',
      'card [CARD_1] again, another card [CARD_2], mail [EMAIL_1]',
    ]);

    const b = await visitor();
    await b.v.say(b.conv, `email ${EMAIL}, card ${CARD}`);
    expect(await transcript(b.conv)).toEqual(['email [EMAIL_1], card [CARD_1]']);

    const rows = await t.runtime.db.withOwner((tx) =>
      tx.query<{ id: string; redaction_state: RedactionState; redaction_key: Uint8Array | null }>(
        'SELECT id, redaction_state, redaction_key FROM conversations WHERE id = ANY($1::uuid[])',
        [[a.conv, b.conv]],
      ),
    );
    const [sa, sb] = [a.conv, b.conv].map((id) => rows.rows.find((r) => r.id === id)!);
    expect(Object.keys(sa!.redaction_state).sort()).toEqual(['counters', 'tokens']);
    expect(Object.values(sa!.redaction_state.tokens).sort()).toEqual(['[CARD_1]', '[CARD_2]', '[EMAIL_1]', '[GOV_ID_1]']);
    // The same card and email, unrelated fingerprints; each conversation has its own sealed key.
    const shared = Object.keys(sa!.redaction_state.tokens).filter((k) => k in sb!.redaction_state.tokens);
    expect(shared).toEqual([]);
    expect(sa!.redaction_key).toBeInstanceOf(Uint8Array);
    expect(Buffer.from(sa!.redaction_key!).equals(Buffer.from(sb!.redaction_key!))).toBe(false);
  });

  test('reversible values still restore for the visitor, and a data key rotation keeps every placeholder', { timeout: 60_000 }, async () => {
    const { v, conv } = await visitor();
    const PHONE = '+1 415 555 0199';
    await v.say(conv, `card ${CARD}, call me on ${PHONE}`);
    const version = (sealed: Uint8Array) => Keyring.versionOf(sealed);
    const keyBefore = await t.runtime.db.withOwner((tx) =>
      tx.query<{ redaction_key: Uint8Array }>('SELECT redaction_key FROM conversations WHERE id = $1', [conv]),
    );
    const actor = { type: 'cli' as const, id: 'test' };
    // The scheduled path: the platform role re-seals the conversation key along with the vault.
    const result = await t.runtime.db.withPlatform(
      { requestId: null, actor, reason: 'test rotation', action: 'data_key.rotate', target: { type: 'tenant', id: tenant.tenant.id } },
      (tx) => rotateDataKeys(tx, tenant.tenant.id, { keyring: t.runtime.keyring, audit: t.runtime.audit, requestId: null, actor }),
    );
    expect(result!.resealed['conversations.redaction_key']).toBeGreaterThanOrEqual(1);
    expect(result!.failed).toBe(0);
    expect(result!.retired).toContain(version(keyBefore.rows[0]!.redaction_key));
    const keyAfter = await t.runtime.db.withOwner((tx) =>
      tx.query<{ redaction_key: Uint8Array }>('SELECT redaction_key FROM conversations WHERE id = $1', [conv]),
    );
    expect(version(keyAfter.rows[0]!.redaction_key)).toBe(result!.toVersion);

    await v.say(conv, `the card ${CARD} is still blocked, phone ${PHONE}`);
    expect(await transcript(conv)).toEqual(['card [CARD_1], call me on [PHONE_1]', 'the card [CARD_1] is still blocked, phone [PHONE_1]']);
    const mine = (await v.call('GET', `/conversations/${conv}`)).body.messages
      .filter((m: { role: string }) => m.role === 'visitor')
      .map((m: { text: string }) => m.text);
    expect(mine).toEqual([`card [CARD_1], call me on ${PHONE}`, `the card [CARD_1] is still blocked, phone ${PHONE}`]);
  });

  test('deleting a conversation deletes its key: nothing of it is left in the dump', async () => {
    const { v, conv } = await visitor();
    await v.say(conv, `card ${CARD}, born ${DOB}`);
    const sealed = (
      await t.runtime.db.withOwner((tx) => tx.query<{ redaction_key: Uint8Array }>('SELECT redaction_key FROM conversations WHERE id = $1', [conv]))
    ).rows[0]!.redaction_key;
    const hex = Buffer.from(sealed).toString('hex');
    expect(await dump()).toContain(hex);
    await t.runtime.db.withOwner((tx) => tx.query('DELETE FROM conversations WHERE id = $1', [conv]));
    const after = await dump();
    expect(after).not.toContain(hex);
    // Only the audit log still names the conversation; nothing of its content or key remains.
    const left = await t.runtime.db.withOwner((tx) =>
      tx.query<{ n: number }>(
        `SELECT (SELECT count(*) FROM conversations WHERE id = $1) + (SELECT count(*) FROM messages WHERE conversation_id = $1)
              + (SELECT count(*) FROM pii_vault WHERE conversation_id = $1) + (SELECT count(*) FROM conversation_events WHERE conversation_id = $1) AS n`,
        [conv],
      ),
    );
    expect(Number(left.rows[0]!.n)).toBe(0);
  });
});

describe('migration 065', () => {
  test('scrubs the salt and every unkeyed fingerprint from existing states, keeping the counters', async () => {
    const db = await createTestDb({ migrate: false });
    try {
      const all = loadMigrations();
      const tenantId = crypto.randomUUID();
      const convs = [crypto.randomUUID(), crypto.randomUUID(), crypto.randomUUID()];
      const oldState = {
        salt: 'fIaKBCNHwbrUv3to7KyWdg',
        counters: { email: 2, payment_card: 1 },
        tokens: {
          'email:k38z5JmFAglrtu9gauni1yLRECwWcFBtaRa6v': '[EMAIL_1]',
          'payment_card:QsnY6PTwy0JiDzV1ZqSm4402gaVHfAYNQbVS7IjPH54': '[CARD_1]',
        },
      };
      const rows = await db.db.withOwner(async (tx) => {
        await migrate(
          tx,
          all.filter((m) => m.name < '065'),
        );
        await tx.query("INSERT INTO tenants (id, name) VALUES ($1, 'Old')", [tenantId]);
        await tx.query(
          `INSERT INTO conversations (id, tenant_id, visitor_id, redaction_state) VALUES ($1, $4, 'v1', $5), ($2, $4, 'v2', '{}'), ($3, $4, 'v3', '{"salt": "x"}')`,
          [...convs, tenantId, JSON.stringify(oldState)],
        );
        expect(await migrate(tx, all)).toContain('065_redaction_key.sql');
        return (
          await tx.query<{ id: string; redaction_state: unknown; redaction_key: Uint8Array | null }>(
            'SELECT id, redaction_state, redaction_key FROM conversations',
          )
        ).rows;
      });
      const by = (id: string) => rows.find((r) => r.id === id)!;
      expect(by(convs[0]!).redaction_state).toEqual({ counters: { email: 2, payment_card: 1 }, tokens: {} });
      expect(by(convs[1]!).redaction_state).toEqual({});
      expect(by(convs[2]!).redaction_state).toEqual({ counters: {}, tokens: {} });
      expect(JSON.stringify(rows)).not.toMatch(/fIaKBCNHwbrUv3to7KyWdg|k38z5JmF|QsnY6PTw|salt/);
      // A value seen before the migration gets a fresh number, never one already in the transcript or vault.
      const next = redact(`write to ${EMAIL}`, defaultPolicy, 'widget', by(convs[0]!).redaction_state as RedactionState, Buffer.alloc(32, 7));
      expect(next.redacted).toBe('write to [EMAIL_3]');
      // A legacy state written by an instance still running the old code is read the same way.
      expect(loadRedactionState(oldState)).toEqual({ counters: { email: 2, payment_card: 1 }, tokens: {} });
      expect(loadRedactionState({})).toEqual({ counters: {}, tokens: {} });
    } finally {
      await db.close();
    }
  });
});
