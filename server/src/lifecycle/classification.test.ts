// The registry against the database: every column of every table of the migrated schema has a class, and
// the registry names no column that does not exist. And the protections it drives (log and trace redaction).
import { Writable } from 'node:stream';
import { CLASSIFICATION, classifiedColumns, classOf, DATA_CLASSES, SHOWN_PERSONAL_FIELDS, shownInAdminViews } from '@parley/protocol';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createLogger } from '../http/logger.js';
import { traceable } from '../telemetry/spans.js';
import { createTestDb, type TestDb } from '../test/db.js';
import { isSensitiveField, SENSITIVE_FIELDS } from './classification.js';

let t: TestDb;
beforeAll(async () => {
  t = await createTestDb();
}, 120_000);
afterAll(() => t?.close());

/** Every (table, column) of the migrated schema's tables, from the catalog. */
async function catalog(): Promise<string[]> {
  const { rows } = await t.db.withOwner((tx) =>
    tx.query<{ table_name: string; column_name: string }>(
      `SELECT c.table_name, c.column_name
         FROM information_schema.columns c
         JOIN information_schema.tables tb ON tb.table_schema = c.table_schema AND tb.table_name = c.table_name
        WHERE c.table_schema = current_schema() AND tb.table_type = 'BASE TABLE'`,
    ),
  );
  return rows.map((r) => `${r.table_name}.${r.column_name}`).sort();
}

describe('classification registry', () => {
  test('every column of every table has exactly one class, and every classified column exists', async () => {
    const inDb = await catalog();
    expect(inDb.length).toBeGreaterThan(300);
    const classified = classifiedColumns().map((c) => `${c.table}.${c.column}`);
    const unclassified = inDb.filter((c) => !classified.includes(c));
    const gone = classified.filter((c) => !inDb.includes(c));
    const twice = classified.filter((c, i) => classified.indexOf(c) !== i);
    expect({ unclassified, gone, twice }).toEqual({ unclassified: [], gone: [], twice: [] });
  });

  test('the personal fields admin views show are personal columns of the registry, and the profile is not one', () => {
    const named = SHOWN_PERSONAL_FIELDS.flatMap((f) => f.columns.map((c) => ({ field: `${f.table}.${c}`, cls: classOf(f.table, c) })));
    expect(named.filter((n) => n.cls !== 'personal')).toEqual([]);
    expect(named.length).toBeGreaterThan(10);
    // The verified profile is withheld unless revealed; the email a visitor left to be answered on is shown.
    expect(shownInAdminViews('verified_visitors', 'profile')).toBe(false);
    expect(shownInAdminViews('conversations', 'contact_email_sealed')).toBe(true);
  });

  test('a column the catalog gains without a class is reported', async () => {
    await t.db.withOwner((tx) => tx.exec('ALTER TABLE messages ADD COLUMN shoe_size integer'));
    try {
      const classified = new Set(classifiedColumns().map((c) => `${c.table}.${c.column}`));
      expect((await catalog()).filter((c) => !classified.has(c))).toEqual(['messages.shoe_size']);
    } finally {
      await t.db.withOwner((tx) => tx.exec('ALTER TABLE messages DROP COLUMN shoe_size'));
    }
  });

  test('the classes that matter are where they must be', () => {
    expect(Object.keys(CLASSIFICATION).length).toBeGreaterThan(40);
    expect(classOf('messages', 'text')).toBe('personal');
    expect(classOf('pii_vault', 'sealed')).toBe('restricted');
    expect(classOf('api_keys', 'hash')).toBe('secret');
    expect(classOf('members', 'password_hash')).toBe('secret');
    expect(classOf('publishable_keys', 'key')).toBe('public');
    expect(classOf('messages', 'nope')).toBeUndefined();
    // Every credential column, sealed or hashed, is secret.
    const credentials = classifiedColumns().filter((c) =>
      /^(.*_)?(sealed|secret_hash|token_hash|code_hash|password_hash|wrapped|redaction_key)$/.test(c.column),
    );
    expect(credentials.length).toBeGreaterThan(10);
    for (const c of credentials.filter((c) => !['pii_vault', 'conversations', 'verified_visitors'].includes(c.table)))
      expect(`${c.table}.${c.column}: ${c.dataClass}`).toBe(`${c.table}.${c.column}: secret`);
    expect(DATA_CLASSES).toEqual(['public', 'internal', 'confidential', 'personal', 'restricted', 'secret']);
  });
});

describe('protections driven by the registry', () => {
  test('logs redact every personal, restricted and secret field the registry names', () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk, _enc, cb) {
        lines.push(String(chunk));
        cb();
      },
    });
    const logger = createLogger('info', sink);
    logger.info(
      {
        text: 'my card is 4111 1111 1111 1111',
        visitorId: 'v_leak_marker',
        identitySubject: 'user-leak-42',
        msg2: { email: 'ada@example.com', displayName: 'Ada Leak', passwordHash: 'h', body: 'webhook body leak', id: 'keep-me' },
        tenantId: 'kept-tenant',
      },
      'x',
    );
    const out = lines.join('');
    for (const leaked of ['4111 1111', 'v_leak_marker', 'user-leak-42', 'ada@example.com', 'Ada Leak', 'webhook body leak'])
      expect(out).not.toContain(leaked);
    expect(out).toContain('kept-tenant');
    expect(out).toContain('keep-me');
  });

  test('span attributes named after sensitive fields are dropped', () => {
    expect(SENSITIVE_FIELDS.has('identity_subject')).toBe(true);
    expect(isSensitiveField('parley.visitor_id')).toBe(true);
    expect(isSensitiveField('parley.tenant_id')).toBe(false);
    expect(traceable({ 'parley.tenant_id': 't', 'parley.identity_subject': 's', 'parley.email': 'e' })).toEqual({ 'parley.tenant_id': 't' });
  });
});
