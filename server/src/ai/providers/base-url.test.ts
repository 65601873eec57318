import { describe, expect, test } from 'vitest';
import { DEVELOPMENT_ALLOW, Outbound, parseAllowList } from '../../outbound/outbound.js';
import { BaseUrlError, checkBaseUrl as check } from './base-url.js';

const outbound = {
  development: new Outbound({ env: 'development', allow: parseAllowList(DEVELOPMENT_ALLOW) }),
  production: new Outbound({ env: 'production', allow: parseAllowList('') }),
};
const checkBaseUrl = (url: string, env: 'development' | 'production') => check(url, outbound[env]);

const refused = (url: string, env: 'development' | 'production' = 'production') => {
  try {
    checkBaseUrl(url, env);
  } catch (err) {
    if (err instanceof BaseUrlError) return err.message;
    throw err;
  }
  throw new Error(`accepted ${url}`);
};

describe('openai-compatible base URL', () => {
  test('a public https URL is accepted and normalised', () => {
    expect(checkBaseUrl('https://llm.example.com/v1/', 'production')).toBe('https://llm.example.com/v1');
    expect(checkBaseUrl('https://LLM.Example.com:8443/openai/v1', 'production')).toBe('https://llm.example.com:8443/openai/v1');
  });

  test.each([
    'javascript:alert(1)',
    'file:///etc/passwd',
    'data:text/plain,hi',
    'ftp://llm.example.com/v1',
    '//llm.example.com/v1',
    'llm.example.com/v1',
  ])('refuses %s in every environment', (url) => {
    expect(refused(url, 'development')).toMatch(/http\(s\) URL/);
  });

  test.each(['https://user:pass@llm.example.com/v1', 'https://token@llm.example.com/v1', 'https://llm.example.com@evil.example/v1'])(
    'refuses credentials in %s',
    (url) => expect(refused(url, 'development')).toMatch(/credentials/),
  );

  test.each(['https://llm.example.com/v1?api_key=abc', 'https://llm.example.com/v1#x', 'https://llm.example.com/v1?'])(
    'refuses a query or fragment: %s',
    (url) => expect(refused(url, 'development')).toMatch(/query or fragment/),
  );

  test('production requires https', () => {
    expect(refused('http://llm.example.com/v1')).toMatch(/https/);
    expect(checkBaseUrl('http://localhost:11434/v1', 'development')).toBe('http://localhost:11434/v1');
  });

  test.each([
    'https://localhost/v1',
    'https://api.localhost/v1',
    'https://127.0.0.1/v1',
    'https://2130706433/v1', // 127.0.0.1 in decimal
    'https://169.254.169.254/latest/meta-data',
    'https://10.1.2.3/v1',
    'https://172.20.0.1/v1',
    'https://192.168.1.10/v1',
    'https://100.64.0.1/v1',
    'https://0.0.0.0/v1',
    'https://[::1]/v1',
    'https://[fd00::1]/v1',
    'https://[fe80::1]/v1',
    'https://[::ffff:127.0.0.1]/v1',
    'https://metadata/computeMetadata',
    'https://db.internal/v1',
    // Accepted before the outbound module had the one table of non-public ranges:
    'https://[::127.0.0.1]/v1', // IPv4-compatible loopback
    'https://[::7f00:1]/v1',
    'https://[::ffff:0:a00:1]/v1', // IPv4-translated
    'https://[2002:7f00:1::1]/v1', // 6to4 of loopback
    'https://[64:ff9b:1::a00:1]/v1', // local-use NAT64
    'https://[fec0::1]/v1', // site-local
    'https://[100::1]/v1', // discard-only
    'https://[2001:db8::1]/v1', // documentation
    'https://192.0.2.1/v1',
    'https://198.51.100.1/v1',
    'https://203.0.113.5/v1',
    'https://127.0.0.1../v1', // two trailing dots are not normalised by the URL parser
    'https://metadata.goog/v1',
    'https://kubernetes.default.svc/v1',
  ])('production refuses the internal host of %s', (url) => {
    expect(refused(url)).toMatch(/public host/);
  });
});
