import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { ConfigError, EnvSchema, loadConfig } from './config.js';

const key = () => randomBytes(32).toString('base64');
const prod = (over: Record<string, string | undefined> = {}) => ({
  PARLEY_ENV: 'production',
  PARLEY_PUBLIC_URL: 'https://api.example.com',
  PARLEY_MASTER_KEY: key(),
  PARLEY_SIGNING_KEY: key(),
  DATABASE_URL: 'postgres://parley_app@db/parley',
  PARLEY_DATA_DIR: mkdtempSync(join(tmpdir(), 'parley-cfg-')),
  ...over,
});

const BAD_SETTINGS: [string, Record<string, string | undefined>][] = [
  ['PARLEY_MASTER_KEY', { PARLEY_MASTER_KEY: undefined }],
  ['PARLEY_SIGNING_KEY', { PARLEY_SIGNING_KEY: undefined }],
  ['PARLEY_PUBLIC_URL', { PARLEY_PUBLIC_URL: 'http://api.example.com' }],
  ['PARLEY_PUBLIC_URL', { PARLEY_PUBLIC_URL: undefined }],
  ['PARLEY_MASTER_KEY', { PARLEY_MASTER_KEY: `dev-${key()}` }],
  ['PARLEY_SIGNING_KEY', { PARLEY_SIGNING_KEY: `dev-${key()}` }],
  ['PARLEY_MASTER_KEY', { PARLEY_MASTER_KEY: randomBytes(16).toString('base64') }],
  ['DATABASE_URL', { DATABASE_URL: undefined }],
  // A typo'd scheme (or a folder) ran production on the embedded database, with the password in a folder's name.
  ['DATABASE_URL', { DATABASE_URL: 'postgress://parley_app:pw@127.0.0.1:5432/parley' }],
  ['DATABASE_URL', { DATABASE_URL: '/var/lib/parley' }],
  ['DATABASE_OWNER_URL', { DATABASE_OWNER_URL: 'postgress://postgres:pw@127.0.0.1:5432/parley' }],
  // A token with a space is one no Authorization header could carry.
  ['PARLEY_METRICS_TOKEN', { PARLEY_METRICS_TOKEN: 'correct horse battery staple and more words' }],
  ['PORT', { PORT: 'eighty' }],
  ['PINECONE_INDEX_HOST', { PINECONE_API_KEY: 'pc-key' }],
  ['PINECONE_API_KEY', { PINECONE_INDEX_HOST: 'https://idx-abc.svc.pinecone.io' }],
  ['PINECONE_INDEX_HOST', { PINECONE_API_KEY: 'pc-key', PINECONE_INDEX_HOST: 'http://idx-abc.svc.pinecone.io' }],
];

function refusal(env: Record<string, string | undefined>): ConfigError {
  try {
    loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('config was accepted');
}

describe('config', () => {
  test('a complete production config loads', () => {
    const c = loadConfig(prod());
    expect(c).toMatchObject({ env: 'production', host: '0.0.0.0', devKeys: false, publicUrl: 'https://api.example.com' });
  });

  // Staging is a deployment too: it ran on throwaway keys, the embedded database and a plain http URL.
  test.each(['production', 'staging'].flatMap((env) => BAD_SETTINGS.map(([setting, over]) => [env, setting, over] as const)))(
    '%s refuses a bad %s and names it',
    (env, setting, over) => {
      const err = refusal(prod({ PARLEY_ENV: env, ...over }));
      expect(err.setting).toBe(setting);
      expect(err.message).toContain(setting);
    },
  );

  test('a database URL of another scheme is refused anywhere, without repeating it; a folder or memory:// is the embedded database in development', () => {
    const dir = mkdtempSync(join(tmpdir(), 'parley-cfg-'));
    const err = refusal({ PARLEY_DATA_DIR: dir, DATABASE_URL: 'postgress://parley_app:s3cret-pw@127.0.0.1:5432/parley' });
    expect(err.setting).toBe('DATABASE_URL');
    expect(err.message).not.toContain('s3cret-pw');
    expect(loadConfig({ PARLEY_DATA_DIR: dir, DATABASE_URL: 'memory://' }).databaseUrl).toBe('memory://');
    expect(loadConfig({ PARLEY_DATA_DIR: dir, DATABASE_URL: join(dir, 'db') }).databaseUrl).toBe(join(dir, 'db'));
    expect(loadConfig(prod({ DATABASE_URL: 'postgresql://parley_app@db/parley' })).databaseUrl).toBe('postgresql://parley_app@db/parley');
  });

  test('Pinecone is used only with both of its settings', () => {
    expect(loadConfig(prod()).pinecone).toBeNull();
    expect(loadConfig(prod({ PINECONE_API_KEY: 'pc-key', PINECONE_INDEX_HOST: 'https://idx-abc.svc.pinecone.io' })).pinecone).toEqual({
      apiKey: 'pc-key',
      indexHost: 'https://idx-abc.svc.pinecone.io',
    });
  });

  test("one address's share of a tenant's live streams: a fifth of them, at least a visitor's, unless set", () => {
    expect(loadConfig(prod()).sseStreamsPerAddress).toBe(100);
    expect(loadConfig(prod({ PARLEY_SSE_MAX_PER_TENANT: '12', PARLEY_SSE_MAX_PER_VISITOR: '5' })).sseStreamsPerAddress).toBe(5);
    expect(loadConfig(prod({ PARLEY_SSE_MAX_PER_ADDRESS: '7' })).sseStreamsPerAddress).toBe(7);
  });

  test("one address's share of a tenant's widget requests: a quarter of them, at least a session's, unless set", () => {
    expect(loadConfig(prod()).widgetAddressRateLimit).toBe(1500);
    expect(loadConfig(prod({ PARLEY_WIDGET_TENANT_RATE_LIMIT: '400', PARLEY_WIDGET_SESSION_RATE_LIMIT: '120' })).widgetAddressRateLimit).toBe(120);
    expect(loadConfig(prod({ PARLEY_WIDGET_TENANT_RATE_LIMIT: '10000' })).widgetAddressRateLimit).toBe(2500);
    expect(loadConfig(prod({ PARLEY_WIDGET_ADDRESS_RATE_LIMIT: '3000' })).widgetAddressRateLimit).toBe(3000);
  });

  test('NODE_ENV=production with PARLEY_ENV unset is refused, not read as development', () => {
    // A production build (the image sets NODE_ENV=production) started without PARLEY_ENV ran as development:
    // listening on every interface, loopback allowed as a destination of tenant URLs, plain http accepted.
    const dir = mkdtempSync(join(tmpdir(), 'parley-cfg-'));
    const err = refusal({ NODE_ENV: 'production', PARLEY_DATA_DIR: dir });
    expect(err.setting).toBe('PARLEY_ENV');
    expect(err.message).toMatch(/NODE_ENV=production/);
    // Said out loud, development is what the operator chose (trying the image on its embedded database).
    expect(loadConfig({ NODE_ENV: 'production', PARLEY_ENV: 'development', PARLEY_DATA_DIR: dir }).env).toBe('development');
    expect(loadConfig(prod({ NODE_ENV: 'production' })).env).toBe('production');
    expect(loadConfig(prod({ NODE_ENV: 'production', PARLEY_ENV: 'staging' })).env).toBe('staging');
    // Any other NODE_ENV (a test runner's, none) leaves the default as it was.
    expect(loadConfig({ NODE_ENV: 'test', PARLEY_DATA_DIR: dir }).env).toBe('development');
  });

  test('development generates throwaway keys once, in a private file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'parley-cfg-'));
    const a = loadConfig({ PARLEY_DATA_DIR: dir });
    const b = loadConfig({ PARLEY_DATA_DIR: dir });
    expect(a.devKeys).toBe(true);
    expect(a.masterKey.equals(b.masterKey)).toBe(true);
    expect(statSync(join(dir, 'dev-keys.json')).mode & 0o777).toBe(0o600);
    expect(a).toMatchObject({ env: 'development', host: '127.0.0.1', port: 8787, publicUrl: 'http://localhost:8787' });
  });
});

test('the README documents every setting the server reads', () => {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const table = readme.slice(readme.indexOf('## Operating Parley'));
  expect(Object.keys(EnvSchema.shape).filter((name) => !table.includes(`\`${name}\``))).toEqual([]);
});
