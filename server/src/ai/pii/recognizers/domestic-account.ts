import type { Match } from '../types.js';
import { allMatches } from './regex.js';
import { match } from './types.js';

// Bank accounts written the domestic way, which no checksum tells from other numbers: a UK sort code
// ("sort code 40-47-84"), a US routing number ("routing 021000021", ABA checksum), and an account number
// named as one where a bank is spoken of ("account number 31415926, sort code …"). An account number
// alone ("my account number is 1234") is as often the shop's own customer number, which the assistant
// needs: only beside a bank's words is it taken.
// Between a label and its value: spaces, ':', '#', '.', '=' or the word "is".
const GAP = String.raw`(?:\s+is\b)?[\s:#.=]*`;
const SORT_CODE = new RegExp(String.raw`\b(?:sort[\s-]?code|s\/c)\b${GAP}(\d{2}(?:\s?[-.]\s?|\s)?\d{2}(?:\s?[-.]\s?|\s)?\d{2})(?![\d-])`, 'gi');
const ROUTING = new RegExp(String.raw`\b(?:routing|aba)(?:\s+(?:number|no\.?|#))?${GAP}(\d{9})(?!\d)`, 'gi');
const ACCOUNT = new RegExp(
  String.raw`\b(?:(?:bank\s+|checking\s+|savings\s+)?account|acct|acc|a\/c|konto(?:nummer)?|num[ée]ro de compte|n[uú]mero de cuenta|numero di conto|rekeningnummer)(?:\s+(?:number|no\.?|nr\.?|#|num(?:ber)?))?${GAP}(\d{6,17})(?!\d)`,
  'gi',
);
// Words only a bank account has near it ("bank", "transfer" are also how a shop's own account is paid into).
const BANK_WORDS = /\b(?:sort[\s-]?code|s\/c|routing|aba|bsb|swift|bic|iban|bank account|checking|savings|bankleitzahl|blz)\b/i;
// A shop's own account ("customer account", "order number … account") is the assistant's business.
const SHOP_ACCOUNT = /\b(?:customer|shop|store|order|member(?:ship)?|loyalty|user|my account (?:page|settings))\b/i;
/** What a domestic account needs near it: one of its words. */
export const DOMESTIC_ACCOUNT_GATE = /sort[\s-]?code|s\/c|routing|aba|account|acct|acc|a\/c|konto|compte|cuenta|conto|rekening/i;

/** The ABA routing checksum: 3·(d1+d4+d7) + 7·(d2+d5+d8) + (d3+d6+d9) ≡ 0 (mod 10). */
function abaValid(d: string): boolean {
  const n = [...d].map(Number);
  return (3 * (n[0]! + n[3]! + n[6]!) + 7 * (n[1]! + n[4]! + n[7]!) + (n[2]! + n[5]! + n[8]!)) % 10 === 0;
}

const valueAt = (m: RegExpExecArray) => m.index + m[0].length - m[1]!.length;

export function findDomesticAccounts(text: string): Match[] {
  const out: Match[] = [];
  for (const m of allMatches(SORT_CODE, text)) out.push(match('bank_account', text, valueAt(m), m.index + m[0].length, 0.85));
  for (const m of allMatches(ROUTING, text)) if (abaValid(m[1]!)) out.push(match('bank_account', text, valueAt(m), m.index + m[0].length, 0.85));
  for (const m of allMatches(ACCOUNT, text)) {
    const near = text.slice(Math.max(0, m.index - 60), m.index + m[0].length + 60);
    if (SHOP_ACCOUNT.test(text.slice(Math.max(0, m.index - 30), m.index + m[0].length))) continue;
    if (/\b(?:bank|checking|savings)\s+account\b/i.test(m[0]) || BANK_WORDS.test(near))
      out.push(match('bank_account', text, valueAt(m), m.index + m[0].length, 0.8));
  }
  return out;
}
