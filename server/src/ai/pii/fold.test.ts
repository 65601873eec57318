// Attack (third review): personal data written with Unicode look-alikes passed redaction whole. A card in
// fullwidth digits (what Japanese and Chinese keyboards type), or with zero-width characters, soft hyphens
// or no-break spaces between its digits, an email with a fullwidth or small @, a phone or an IBAN in
// fullwidth: each was stored, sent to the provider and to webhooks in clear. Recognisers read a folded
// copy of the text; every match maps back to the original characters, which redaction then replaces.
import { describe, expect, it } from 'vitest';
import { defaultPolicy, detect, redact } from './index.js';
import { fold } from './fold.js';

const fullwidth = (s: string) => s.replace(/[0-9A-Z+@]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 0xfee0));
const between = (s: string, z: string) => [...s].join(z);
const arabicIndic = (s: string) => s.replace(/\d/g, (d) => String.fromCharCode(0x0660 + Number(d)));

const CASES: [string, string, string][] = [
  ['payment_card', 'fullwidth digits', `my card is ${fullwidth('4111 1111 1111 1111')}`],
  ['payment_card', 'zero-width spaces', `my card is ${between('4111111111111111', '\u200b')}`],
  ['payment_card', 'zero-width joiners', `my card is ${between('4111111111111111', '\u200d')}`],
  ['payment_card', 'soft hyphens', `my card is ${between('4111111111111111', '\u00ad')}`],
  ['payment_card', 'no-break spaces', 'my card is 4111\u00a01111\u00a01111\u00a01111'],
  ['payment_card', 'Arabic-Indic digits', `my card is ${arabicIndic('4111111111111111')}`],
  ['payment_card', 'dots', 'my card is 4111.1111.1111.1111'],
  ['payment_card', 'slashes', 'my card is 4111/1111/1111/1111'],
  ['payment_card', 'two spaces', 'my card is 4111  1111  1111  1111'],
  ['payment_card', 'a line each', 'my card is\n4111\n1111\n1111\n1111'],
  ['email', 'a fullwidth @', 'write to jane.doe\uff20example.com'],
  ['email', 'a small @', 'write to jane.doe\ufe6bexample.com'],
  ['email', 'a zero-width space before the @', 'write to jane.doe\u200b@example.com'],
  ['phone', 'fullwidth', `call me at ${fullwidth('+1 415 555 2671')}`],
  ['phone', 'zero-width spaces', `call me at ${between('+14155552671', '\u200b')}`],
  ['bank_account', 'fullwidth', `my IBAN is ${fullwidth('DE89 3704 0044 0532 0130 00')}`],
  ['bank_account', 'zero-width spaces', `my IBAN is ${between('DE89370400440532013000', '\u200b')}`],
  ['government_id', 'fullwidth', `my SSN is ${fullwidth('078-05-1120')}`],
  ['government_id', 'zero-width spaces', `my SSN is 078\u200b-05\u200b-1120`],
];

describe('look-alike characters', () => {
  it.each(CASES)('%s written with %s is found, and redaction leaves none of it', (cls, _how, text) => {
    const found = detect(text);
    expect(found.map((m) => m.class)).toContain(cls);
    const m = found.find((x) => x.class === cls)!;
    expect(text.slice(m.start, m.end)).toBe(m.text);
    const { redacted } = redact(text, defaultPolicy, 'widget');
    expect(redacted.replace(/\[[A-Z_]+_\d+\]/g, '')).not.toMatch(/[\p{Nd}@\uff20\ufe6b]/u);
  });

  it('a match maps back to exactly the characters that make it, whatever was folded around it', () => {
    const text = `\u200bcard: ${fullwidth('4111 1111 1111 1111')}\u200b, thanks`;
    const [m] = detect(text, { classes: ['payment_card'] });
    expect(m!.text).toBe(fullwidth('4111 1111 1111 1111'));
    expect(redact(text, defaultPolicy, 'widget').redacted).toBe('\u200bcard: [CARD_1]\u200b, thanks');
  });

  it('ASCII text is read as it is, without a copy', () => {
    const ascii = 'call 415 555 2671, card 4111 1111 1111 1111';
    expect(fold(ascii).text).toBe(ascii);
    expect(fold(ascii).from).toBeNull();
    expect(fold('a\u00a0b\u200bc\uff11').text).toBe('a bc1');
  });
});
