import { describe, expect, it } from 'vitest';
import { auditLeafBytes, canonicalJson, type AuditEntryCanonical } from './canonical.js';

const fromBits = (hex: string) => Buffer.from(hex, 'hex').readDoubleBE(0);

describe('canonicalJson (RFC 8785)', () => {
  it('reproduces the §3.2.2 example', () => {
    const input = JSON.parse(
      '{"numbers":[333333333.33333329,1E30,4.50,2e-3,0.000000000000000000000000001],' +
        '"string":"\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/","literals":[null,true,false]}',
    );
    expect(canonicalJson(input)).toBe(
      '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],' + '"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}',
    );
  });

  it('sorts keys by UTF-16 code units (§3.2.3), not by code points', () => {
    const input = {
      '\u20ac': 'Euro Sign',
      '\r': 'Carriage Return',
      '\ufb33': 'Hebrew Letter Dalet With Dagesh',
      '1': 'One',
      '\ud83d\ude00': 'Emoji: Grinning Face',
      '\u0080': 'Control',
      '\u00f6': 'Latin Small Letter O With Diaeresis',
    };
    // Read the order off the text: Object.keys would list the integer-like "1" first regardless.
    const order = ['\r', '1', '\u0080', '\u00f6', '\u20ac', '\ud83d\ude00', '\ufb33'];
    expect(canonicalJson(input)).toBe(`{${order.map((k) => `${JSON.stringify(k)}:${JSON.stringify(input[k as keyof typeof input])}`).join(',')}}`);
  });

  it('serialises numbers as Appendix B requires', () => {
    const samples: [string, string][] = [
      ['0000000000000000', '0'],
      ['8000000000000000', '0'],
      ['0000000000000001', '5e-324'],
      ['8000000000000001', '-5e-324'],
      ['7fefffffffffffff', '1.7976931348623157e+308'],
      ['ffefffffffffffff', '-1.7976931348623157e+308'],
      ['4340000000000000', '9007199254740992'],
      ['c340000000000000', '-9007199254740992'],
      ['4430000000000000', '295147905179352830000'],
      ['44b52d02c7e14af5', '9.999999999999997e+22'],
      ['44b52d02c7e14af6', '1e+23'],
      ['44b52d02c7e14af7', '1.0000000000000001e+23'],
      ['444b1ae4d6e2ef4e', '999999999999999700000'],
      ['444b1ae4d6e2ef4f', '999999999999999900000'],
      ['444b1ae4d6e2ef50', '1e+21'],
      ['3eb0c6f7a0b5ed8c', '9.999999999999997e-7'],
      ['3eb0c6f7a0b5ed8d', '0.000001'],
      ['41b3de4355555553', '333333333.3333332'],
      ['41b3de4355555554', '333333333.33333325'],
      ['41b3de4355555555', '333333333.3333333'],
      ['41b3de4355555556', '333333333.3333334'],
      ['41b3de4355555557', '333333333.33333343'],
      ['becbf647612f3696', '-0.0000033333333333333333'],
      ['43143ff3c1cb0959', '1424953923781206.2'],
    ];
    for (const [bits, text] of samples) expect(canonicalJson(fromBits(bits)), bits).toBe(text);
    for (const bits of ['7fffffffffffffff', '7ff0000000000000', 'fff0000000000000']) {
      expect(() => canonicalJson(fromBits(bits))).toThrow(TypeError);
    }
  });

  it('skips undefined properties and writes undefined array slots as null, as the stored JSON reads back', () => {
    const slots: unknown[] = [1, undefined];
    slots[3] = 3; // leaves a hole at index 2
    const value = { b: undefined, a: slots, c: { d: undefined } };
    expect(canonicalJson(value)).toBe('{"a":[1,null,null,3],"c":{}}');
    expect(canonicalJson(value)).toBe(canonicalJson(JSON.parse(JSON.stringify(value))));
  });

  it('escapes strings exactly as JSON.stringify does (well-formed input)', () => {
    const pool = ['a', 'Z', ' ', '"', '\\', '/', '\n', '\u0000', '\u001f', '\u007f', '\u00e9', '\u2028', '\ud83d\ude00', '\uffff'];
    let seed = 7;
    for (let n = 0; n < 2000; n++) {
      let s = '';
      for (let i = n % 12; i > 0; i--) s += pool[(seed = (seed * 48271) % 2147483647) % pool.length];
      expect(canonicalJson(s)).toBe(JSON.stringify(s));
    }
  });

  it('accepts null-prototype objects and a value shared (not cyclic) between branches', () => {
    const shared = { x: 1 };
    const bare = Object.assign(Object.create(null) as Record<string, unknown>, { k: shared, j: shared });
    expect(canonicalJson(bare)).toBe('{"j":{"x":1},"k":{"x":1}}');
  });

  it('refuses what is not JSON data rather than hash it lossily', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    class Thing {
      a = 1;
    }
    for (const bad of [
      undefined,
      () => 1,
      Symbol('s'),
      10n,
      NaN,
      Infinity,
      new Date(0),
      new Map(),
      new Thing(),
      Buffer.from('x'),
      cyclic,
      { deep: [cyclic] },
      'lone \ud800 surrogate',
      { '\udc00': 1 },
    ]) {
      expect(() => canonicalJson(bad), String(typeof bad)).toThrow(TypeError);
    }
  });
});

describe('auditLeafBytes', () => {
  const entry: AuditEntryCanonical = {
    seq: 7,
    ts: '2025-01-02T03:04:05.678Z',
    tenantId: '00000000-0000-0000-0000-000000000000',
    requestId: 'req-1',
    actor: { type: 'admin_key', id: 'k1' },
    action: 'tenant.update',
    target: { type: 'tenant', id: null },
    policyVersion: 3,
    source: 'server',
    reason: null,
    metadata: { z: 1, é: ['ü', true], a: { c: 2, b: null } },
  };

  it('is the UTF-8 of the canonical entry with v: 1, keys sorted at every depth', () => {
    expect(auditLeafBytes(entry).toString('utf8')).toBe(
      '{"action":"tenant.update","actor":{"id":"k1","type":"admin_key"},' +
        '"metadata":{"a":{"b":null,"c":2},"z":1,"é":["ü",true]},"policyVersion":3,"reason":null,' +
        '"requestId":"req-1","seq":7,"source":"server","target":{"id":null,"type":"tenant"},' +
        '"tenantId":"00000000-0000-0000-0000-000000000000","ts":"2025-01-02T03:04:05.678Z","v":1}',
    );
    expect(auditLeafBytes(entry).includes(Buffer.from('c3a9', 'hex'))).toBe(true); // é as UTF-8
  });

  it('hashes only the named fields, so a wider object gives the same bytes', () => {
    const wider = { ...entry, leafHash: 'ab', v: 9, actor: { ...entry.actor, name: 'x' } };
    expect(auditLeafBytes(wider)).toEqual(auditLeafBytes(entry));
    expect(auditLeafBytes({ ...entry, target: null }).toString()).toContain('"target":null');
  });

  it('changes with every field', () => {
    const base = auditLeafBytes(entry);
    const variants: Partial<AuditEntryCanonical>[] = [
      { seq: 8 },
      { ts: '2025-01-02T03:04:05.679Z' },
      { tenantId: '11111111-1111-1111-1111-111111111111' },
      { requestId: null },
      { actor: { type: 'admin_key', id: null } },
      { action: 'tenant.delete' },
      { target: null },
      { policyVersion: 4 },
      { source: 'cli' },
      { reason: 'break-glass' },
      { metadata: {} },
    ];
    for (const v of variants) expect(auditLeafBytes({ ...entry, ...v }).equals(base), JSON.stringify(v)).toBe(false);
  });

  it('refuses a seq or ts that the stored row could not reproduce', () => {
    expect(() => auditLeafBytes({ ...entry, seq: -1 })).toThrow(TypeError);
    expect(() => auditLeafBytes({ ...entry, seq: 1.5 })).toThrow(TypeError);
    expect(() => auditLeafBytes({ ...entry, ts: '2025-01-02T03:04:05Z' })).toThrow(TypeError);
    expect(() => auditLeafBytes({ ...entry, ts: '2025-01-02T03:04:05.678+00:00' })).toThrow(TypeError);
  });
});
