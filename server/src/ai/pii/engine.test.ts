import { describe, expect, it } from 'vitest';
import { defaultPolicy, detect, PiiPolicySchema, redact, resolveOverlaps, restore, type Match, type PiiPolicy } from './index.js';

describe('offsets', () => {
  it('are UTF-16 indices, right after emoji and combining marks', () => {
    const text = '👋🏽 Zoë here — mail zoë.müller@example.com or call +49 30 901820 🙏';
    const ms = detect(text, { classes: ['email', 'phone'] });
    expect(ms.map((m) => m.class)).toEqual(['email', 'phone']);
    for (const m of ms) expect(text.slice(m.start, m.end)).toBe(m.text);
    expect(ms[0]!.text).toBe('zoë.müller@example.com');
  });
});

describe('identifiers', () => {
  // Random UUIDs the engine once read as an IBAN and as cards that pass Luhn (an audit test's flake).
  const ids = ['8ecdda8a-f38b-4d8b-be22-c6906ad39530', 'cbe69929-0150-407e-8aef-47d53dfe1011', '9a619137-4606-45a7-b3d5-16bf13e6f9d2'];

  it("a UUID's groups are never a card, an account or a phone; what stands beside one still is", () => {
    for (const id of ids) {
      expect(detect(`Order ${id} was refunded.`)).toEqual([]);
      expect(detect(JSON.stringify({ handoffId: id, keyId: `k_${id}` }))).toEqual([]);
      expect(detect(`Order ${id.toUpperCase()} was refunded.`)).toEqual([]);
    }
    const text = `Card 4242 4242 4242 4242 for order ${ids[1]}, IBAN GB82 WEST 1234 5698 7654 32.`;
    expect(detect(text).map((m) => [m.class, m.text])).toEqual([
      ['payment_card', '4242 4242 4242 4242'],
      ['bank_account', 'GB82 WEST 1234 5698 7654 32'],
    ]);
  });

  it('of 2,000 random UUIDs, none has a match', () => {
    const found = Array.from({ length: 2000 }, () => crypto.randomUUID()).flatMap((id) => detect(`id ${id}`));
    expect(found).toEqual([]);
  });
});

describe('overlap resolution', () => {
  const m = (cls: Match['class'], start: number, end: number, score: number): Match => ({ class: cls, start, end, score, text: '' });
  it('keeps the higher score, then the longer span, whatever the input order', () => {
    const input = [m('person', 0, 5, 0.6), m('email', 0, 20, 0.95), m('phone', 18, 30, 0.7), m('address', 25, 40, 0.7), m('person', 41, 45, 0.5)];
    const expected = [m('email', 0, 20, 0.95), m('address', 25, 40, 0.7), m('person', 41, 45, 0.5)];
    expect(resolveOverlaps(input)).toEqual(expected);
    expect(resolveOverlaps([...input].reverse())).toEqual(expected);
  });
  it('an email wins over the name inside it', () => {
    expect(detect('write to anna.smith@example.org').map((x) => x.class)).toEqual(['email']);
  });
});

describe('policy', () => {
  it('the schema fills safe defaults and rejects unknown modes and classes', () => {
    expect(PiiPolicySchema.parse({})).toEqual(defaultPolicy);
    const custom = PiiPolicySchema.parse({ classes: { email: { mode: 'flag', minScore: 0.7, channels: { email: 'reversible' } } } });
    expect(custom.classes.email).toEqual({ mode: 'flag', minScore: 0.7, channels: { email: 'reversible' } });
    expect(custom.classes.payment_card).toEqual(defaultPolicy.classes.payment_card);
    expect(PiiPolicySchema.safeParse({ classes: { email: { mode: 'hide', minScore: 0.5 } } }).success).toBe(false);
    expect(PiiPolicySchema.safeParse({ classes: { shoe_size: { mode: 'flag', minScore: 0.5 } } }).success).toBe(false);
    expect(PiiPolicySchema.safeParse({ classes: { email: { mode: 'flag', minScore: 2 } } }).success).toBe(false);
  });
  it('defaults: strict for cards, ids, bank accounts and credentials; reversible for contact details; minors flagged', () => {
    const modes = Object.fromEntries(Object.entries(defaultPolicy.classes).map(([c, p]) => [c, p.mode]));
    expect(modes).toMatchObject({
      payment_card: 'strict',
      government_id: 'strict',
      bank_account: 'strict',
      credential: 'strict',
      email: 'reversible',
      phone: 'reversible',
      person: 'reversible',
      address: 'reversible',
      minor: 'flag',
    });
  });
});

describe('redact', () => {
  const text = 'Hi, I am Anna Kowalski, email anna@example.com, card 4111 1111 1111 1111. Again: anna@example.com';

  it('masks an honorific with its name; the name alone is the value, so "Mrs. Voronov" and "Voronov" share a token', () => {
    const r = redact('Mrs. Voronov called. Voronov wants a refund.', defaultPolicy, 'widget');
    expect(r.redacted).toBe('[PERSON_1] called. [PERSON_1] wants a refund.');
    expect(r.matches.map((m) => m.text)).toEqual(['Voronov', 'Voronov']);
    // Restoring gives back what the visitor wrote, honorific included.
    expect(r.vault).toEqual([{ token: '[PERSON_1]', class: 'person', value: 'Mrs. Voronov' }]);
    expect(restore('Thanks, [PERSON_1]!', r.vault)).toBe('Thanks, Mrs. Voronov!');
  });

  it('strict tokens leave no vault entry, reversible ones do, same value same token', () => {
    const r = redact(text, defaultPolicy, 'widget');
    expect(r.redacted).toBe('Hi, I am [PERSON_1], email [EMAIL_1], card [CARD_1]. Again: [EMAIL_1]');
    expect(r.vault).toEqual([
      { token: '[PERSON_1]', class: 'person', value: 'Anna Kowalski' },
      { token: '[EMAIL_1]', class: 'email', value: 'anna@example.com' },
    ]);
    expect(r.matches.map((m) => [m.class, m.action])).toEqual([
      ['person', 'reversible'],
      ['email', 'reversible'],
      ['payment_card', 'strict'],
      ['email', 'reversible'],
    ]);
    expect(JSON.stringify(r.state)).not.toContain('anna');
  });

  it('modes differ per channel; flag leaves text as is', () => {
    const policy: PiiPolicy = {
      classes: { ...defaultPolicy.classes, email: { mode: 'reversible', minScore: 0.5, channels: { email: 'flag', api: 'strict' } } },
    };
    const byChannel = (ch: 'widget' | 'api' | 'email') => redact('from bob@example.com', policy, ch);
    expect(byChannel('widget').redacted).toBe('from [EMAIL_1]');
    expect(byChannel('widget').vault).toHaveLength(1);
    expect(byChannel('api').redacted).toBe('from [EMAIL_1]');
    expect(byChannel('api').vault).toEqual([]);
    const flagged = byChannel('email');
    expect(flagged.redacted).toBe('from bob@example.com');
    expect(flagged.matches).toMatchObject([{ class: 'email', action: 'flag', text: 'bob@example.com' }]);
  });

  it('the per-class threshold drops weak matches', () => {
    const policy: PiiPolicy = { classes: { ...defaultPolicy.classes, phone: { mode: 'strict', minScore: 0.9 } } };
    expect(redact('+44 20 7946 0958', policy, 'widget').redacted).toBe('+44 20 7946 0958');
    expect(redact('call +44 20 7946 0958', policy, 'widget').redacted).toBe('call [PHONE_1]');
  });

  it('numbering carries over turns through state and its key, without mutating it', () => {
    const key = Buffer.alloc(32, 1);
    const t1 = redact('mail anna@example.com or bob@example.com', defaultPolicy, 'widget', undefined, key);
    const before = structuredClone(t1.state);
    const t2 = redact('bob@example.com? no, carol@example.com', defaultPolicy, 'widget', t1.state, key);
    expect(t2.redacted).toBe('[EMAIL_2]? no, [EMAIL_3]');
    expect(t1.state).toEqual(before);
    expect(redact('anna@example.com', defaultPolicy, 'widget').redacted).toBe('[EMAIL_1]');
    // The state alone recognises nothing: under another key the same value is a new one, and a carried
    // state without its key is a programming error.
    expect(redact('bob@example.com', defaultPolicy, 'widget', t1.state, Buffer.alloc(32, 2)).redacted).toBe('[EMAIL_3]');
    expect(() => redact('bob@example.com', defaultPolicy, 'widget', t1.state)).toThrow(TypeError);
    expect(JSON.stringify(t2.state)).not.toMatch(/bob|anna|carol/);
  });

  it('restore puts reversible values back and leaves strict and unknown tokens', () => {
    const r = redact(text, defaultPolicy, 'widget');
    const answer = `Thanks ${r.matches[0] ? '[PERSON_1]' : ''}, we wrote to [EMAIL_1] about [CARD_1] and [EMAIL_9].`;
    expect(restore(answer, r.vault)).toBe('Thanks Anna Kowalski, we wrote to anna@example.com about [CARD_1] and [EMAIL_9].');
    expect(restore(r.redacted, r.vault)).toBe(text.replace('4111 1111 1111 1111', '[CARD_1]'));
  });

  it('a restored value that looks like a token is not expanded again', () => {
    expect(
      restore('[PERSON_1]', [
        { token: '[PERSON_1]', value: '[EMAIL_1]' },
        { token: '[EMAIL_1]', value: 'x@y.z' },
      ]),
    ).toBe('[EMAIL_1]');
  });
});

// Seeded generator so a failure is reproducible.
function rng(seed: number) {
  return () => {
    seed = (seed * 1664525 + 1013904223) >>> 0;
    return seed / 2 ** 32;
  };
}

function luhnComplete(prefix: string, len: number, rand: () => number): string {
  let s = prefix;
  while (s.length < len - 1) s += Math.floor(rand() * 10);
  for (let d = 0; d < 10; d++) {
    const c = s + d;
    let sum = 0;
    for (let i = 0; i < c.length; i++) {
      let x = Number(c[c.length - 1 - i]);
      if (i % 2 === 1) x = x * 2 > 9 ? x * 2 - 9 : x * 2;
      sum += x;
    }
    if (sum % 10 === 0) return c;
  }
  throw new Error('unreachable');
}

function iban(country: string, bban: string): string {
  const num = (bban + country + '00').replace(/[A-Z]/g, (ch) => String(ch.charCodeAt(0) - 55));
  let rem = 0;
  for (const d of num) rem = (rem * 10 + Number(d)) % 97;
  return `${country}${String(98 - rem).padStart(2, '0')}${bban}`;
}

describe('no raw PII survives strict or reversible redaction', () => {
  it('over generated samples', () => {
    const rand = rng(42);
    const pick = <T>(xs: readonly T[]) => xs[Math.floor(rand() * xs.length)]!;
    const digits = (n: number) => Array.from({ length: n }, () => Math.floor(rand() * 10)).join('');
    const letters = (n: number) => Array.from({ length: n }, () => String.fromCharCode(65 + Math.floor(rand() * 26))).join('');
    const generators: (() => { value: string; sentence: string })[] = [
      () => {
        const v = `${pick(['anna', 'j.doe', 'mike_77', 'zoë'])}${digits(2)}@${pick(['example.com', 'mail.co.uk', 'firma.de'])}`;
        return { value: v, sentence: pick([`my email is ${v}`, `write to ${v} 😀`, `${v}`]) };
      },
      () => {
        const prefix = pick(['4', '51', '55', '2221', '37']);
        const v = luhnComplete(prefix, prefix === '37' ? 15 : 16, rand).replace(/(\d{4})(?=\d)/g, pick(['$1 ', '$1-', '$1']));
        return { value: v, sentence: pick([`card ${v} please`, `charged ${v} twice`, `pay with ${v}`]) };
      },
      () => {
        const country = pick(['DE', 'GB', 'NL']);
        const v = iban(country, country === 'DE' ? digits(18) : `${letters(4)}${digits(country === 'GB' ? 14 : 10)}`);
        return { value: v, sentence: `iban ${v}` };
      },
      () => {
        const v = `${100 + Math.floor(rand() * 565)}-${String(1 + Math.floor(rand() * 98)).padStart(2, '0')}-${String(1 + Math.floor(rand() * 9998)).padStart(4, '0')}`;
        return { value: v, sentence: pick([`SSN ${v}`, `my social security number is ${v}`]) };
      },
      () => {
        const v = pick([
          `+44 20 ${digits(4)} ${digits(4)}`,
          `(${200 + Math.floor(rand() * 700)}) ${200 + Math.floor(rand() * 700)}-${digits(4)}`,
          `+1-${200 + Math.floor(rand() * 700)}-555-${digits(4)}`,
        ]);
        return { value: v, sentence: pick([`call me at ${v}`, `my phone is ${v}`, `mobile: ${v}`]) };
      },
      () => {
        const v = `${1 + Math.floor(rand() * 223)}.${Math.floor(rand() * 256)}.${Math.floor(rand() * 256)}.${1 + Math.floor(rand() * 254)}`;
        return { value: v, sentence: `blocked from ${v} again` };
      },
      () => {
        const v = `AKIA${letters(16)}`;
        return { value: v, sentence: `aws key ${v}` };
      },
      () => {
        const v = `sk_live_${letters(8)}${digits(8)}`;
        return { value: v, sentence: `secret=${v}` };
      },
    ];
    const policy: PiiPolicy = { classes: { ...defaultPolicy.classes, phone: { mode: 'strict', minScore: 0.5 } } };
    for (let i = 0; i < 400; i++) {
      const parts = Array.from({ length: 1 + Math.floor(rand() * 3) }, () => pick(generators)());
      const text = parts.map((p) => p.sentence).join(pick(['. ', '\n', ' — ', ' 🙂 ']));
      for (const channel of ['widget', 'api', 'email'] as const) {
        const r = redact(text, policy, channel);
        for (const p of parts) expect(r.redacted, `${text} → ${r.redacted}`).not.toContain(p.value);
        // Nor a long run of its digits, e.g. a card's last eight.
        for (const p of parts) {
          const tail = p.value.replace(/\D/g, '').slice(-8);
          if (tail.length === 8) expect(r.redacted.replace(/\D/g, '')).not.toContain(tail);
        }
      }
    }
  });
});
