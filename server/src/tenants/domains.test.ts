import { describe, expect, test } from 'vitest';
import { formatPattern, originAllowed, parsePattern } from './domains.js';

const allow = (patterns: string[], origin: string, env: 'development' | 'production' = 'development') =>
  originAllowed(
    origin,
    patterns.map((p) => parsePattern(p, env)),
  );

describe('domain patterns', () => {
  test('exact host matches https on the default port only', () => {
    expect(allow(['example.com'], 'https://example.com')).toBe(true);
    expect(allow(['example.com'], 'http://example.com')).toBe(false);
    expect(allow(['example.com'], 'https://example.com:8443')).toBe(false);
    expect(allow(['example.com'], 'https://www.example.com')).toBe(false);
    expect(allow(['example.com'], 'https://example.com.evil.test')).toBe(false);
    expect(allow(['example.com'], 'https://evilexample.com')).toBe(false);
  });

  test('wildcards match subdomains, never the apex or look-alikes', () => {
    expect(allow(['*.example.com'], 'https://shop.example.com')).toBe(true);
    expect(allow(['*.example.com'], 'https://a.b.example.com')).toBe(true);
    expect(allow(['*.example.com'], 'https://example.com')).toBe(false);
    expect(allow(['*.example.com'], 'https://badexample.com')).toBe(false);
    expect(allow(['*.example.com'], 'https://example.com.attacker.net')).toBe(false);
  });

  test('explicit ports and schemes', () => {
    expect(allow(['shop.example.com:8443'], 'https://shop.example.com:8443')).toBe(true);
    expect(allow(['shop.example.com:8443'], 'https://shop.example.com')).toBe(false);
    expect(allow(['http://intranet.example.com'], 'http://intranet.example.com')).toBe(true);
    expect(allow(['http://intranet.example.com'], 'https://intranet.example.com')).toBe(false);
  });

  test('localhost: any port and scheme unless a port is given; refused in production', () => {
    expect(allow(['localhost'], 'http://localhost:5173')).toBe(true);
    expect(allow(['localhost:3000'], 'http://localhost:3000')).toBe(true);
    expect(allow(['localhost:3000'], 'http://localhost:3001')).toBe(false);
    expect(() => parsePattern('localhost', 'production')).toThrow(/production/);
    expect(() => parsePattern('http://example.com', 'production')).toThrow(/production/);
  });

  test('normalises case and IDN to ASCII, rejects URLs with paths and bad wildcards', () => {
    expect(formatPattern(parsePattern('HTTPS://Example.COM/', 'development'))).toBe('https://example.com');
    expect(formatPattern(parsePattern('bücher.example', 'development'))).toBe('xn--bcher-kva.example');
    for (const bad of ['example.com/path', 'a.*.example.com', '*', 'user@example.com', 'example', '1.2.3.4', '-bad.example.com'])
      expect(() => parsePattern(bad, 'development'), bad).toThrow();
  });

  test('odd origins are refused', () => {
    for (const o of [undefined, 'null', '', 'file://', 'https://example.com/path', 'javascript:alert(1)', 'https://user:pw@example.com'])
      expect(allow(['example.com'], o as string), String(o)).toBe(false);
  });
});
