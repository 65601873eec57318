import { parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js/min';
import { applyContext, type ContextRule } from '../context.js';
import type { Match } from '../types.js';
import { allMatches } from './regex.js';
import { dateValid, digitCount, digitsOf, phoneDigitsPlausible } from '../validators.js';
import { match } from './types.js';

// Optional +CC or 00 prefix, optional (area), digit groups joined by one space, dot or hyphen, optional
// extension ("x305", "ext. 214", "poste 12", "Durchwahl 3", "#7"). A colon may come right before it after
// a word ("TEL:03-…"), never after a digit ("10:30").
const EXTENSION = String.raw`(?:,?[ ]?(?:x|ext\.?|extension|poste|durchwahl|dw\.?|toestel|interno|#)[ ]?\d{1,6})`;
const CANDIDATE = new RegExp(
  String.raw`(?<![\p{L}\p{N}+\-./_#$€£¥]|\d,|(?:^|[^\p{L}]):)(?:\+\d{1,3}[ .\-]?)?(?:\(\d{1,5}\)[ .\-]?)?\d{1,12}(?:[ .\-]\d{1,8}){0,5}${EXTENSION}?(?![\p{L}\p{N}]|[.\-/:]\d|,\d{1,3}(?!\d))`,
  'giu',
);
const EXTENSION_AT_END = new RegExp(`${EXTENSION}$`, 'i');
// National numbers (no + or 00) are checked against the regions our tenants' visitors write from most:
// US, GB, DE, FR, NL, IN. Any one is enough, so the order only sets the cost: Germany's open numbering plan
// accepts most digit runs and is checked a third faster than the US or GB (which first pick the country
// among those sharing +1 or +44), so it goes first and the slow ones last.
const REGIONS: CountryCode[] = ['DE', 'IN', 'FR', 'NL', 'US', 'GB'];

const NANP = /^(?:(?:\+?1|001)[ .\-]?)?(?:\(\d{3}\)[ .\-]?|\d{3}[ .\-])\d{3}[ .\-]\d{4}(?:[ ]?(?:x|ext\.?|extension)[ ]?\d{1,6})?$/i;

const CONTEXT: ContextRule[] = [
  {
    // The words in other languages end open ("handynummer", "telefonnummer", "جوالي" my mobile); scripts
    // without spaces between words are matched anywhere in the window.
    words:
      /\b(?:phone|call|calling|tel|telephone|mobile|cell|mob|fax|sms|text me|whatsapp|reach|ring|dial|contact|number|answering|hotline|landline)\b|\u0000[\s\-,]*(?:office|fax|mobile|home|work|cell)\b|\b(?:telef|t[eé]l[eé]phone|telefoon|handy|rufnummer|mobil|m[oó]vil|celular|cellulare|telem[oó]vel|portable|num[eé]ro|n[uú]mero|nummer)|телефон|мобильн|電話|携帯|手机|电话|手機|연락처|전화|휴대폰|핸드폰|هاتف|جوال|موبايل|اتصل/,
    delta: 0.3,
    before: 40,
    after: 12,
  },
  {
    words:
      /(?:\b(?:order|invoice|ref|reference|tracking|account|acct|id|version|build|price|total|qty|zip|postcode|postal|isbn|serial|sku|ssn|social security|card|iban)\b|bestell|rechnung|kunden|sendung|commande|facture|suivi|pedido|factura|seguimiento|ordine|fattura|spedizione|encomenda|rastreamento|bestelling|factuur|zending|заказ|отслеж|订单|訂單|快递单|追踪|注文|伝票|追跡|주문|운송장|طلب|فاتورة)[^\u0000]{0,20}\u0000|[$€£¥]\s*\u0000/,
    delta: -0.4,
    before: 30,
    after: 0,
  },
];

/** Dates and date-times written with hyphens or dots share the phone shape. */
function looksLikeDate(raw: string): boolean {
  const ymd = /^(\d{4})[-.](\d{1,2})[-.](\d{1,2})(?: \d{1,2})?$/.exec(raw);
  if (ymd) return dateValid(+ymd[1]!, +ymd[2]!, +ymd[3]!);
  const dmy = /^(\d{1,2})[-.](\d{1,2})[-.](\d{4})$/.exec(raw);
  if (dmy) return dateValid(+dmy[3]!, +dmy[2]!, +dmy[1]!) || dateValid(+dmy[3]!, +dmy[1]!, +dmy[2]!);
  return false;
}

export function findPhones(text: string): Match[] {
  const out: Match[] = [];
  for (const m of allMatches(CANDIDATE, text)) {
    // Most candidates are short numbers ("5 items", "2021"), and fewer than six digits make no phone (below):
    // dropped before the string work.
    if (digitCount(m[0]) < 6) continue;
    const raw = m[0].replace(/[ .\-]+$/, '');
    const number = raw.replace(EXTENSION_AT_END, '');
    const digits = digitsOf(number);
    const groups = raw.split(/[ .\-()]+/).filter(Boolean);
    // Six digits pass only when grouped ("33 93 31"), and then only with context.
    const short = digits.length === 6 && groups.length >= 3;
    if ((!short && !phoneDigitsPlausible(digits)) || looksLikeDate(raw)) continue;
    // Decimals and dotted pairs ("3.1415926") are numbers, not phones.
    if (groups.length === 2 && raw.includes('.')) continue;
    let base: number;
    if (raw.startsWith('+')) base = 0.75;
    else if (NANP.test(raw)) base = 0.7;
    else if (raw.includes('(')) base = 0.65;
    else if (short) base = 0.25;
    else if (groups.length >= 2) base = 0.4;
    else base = 0.3;
    if (number !== raw) base += 0.1;
    // E.164 rules by libphonenumber-js: an international number must be valid for its country code; a national
    // one that is valid in a likely region gains confidence.
    if (/^(?:\+|00)/.test(number)) {
      const parsed = parsePhoneNumberFromString(number.replace(/^00/, '+'));
      if (!parsed?.isPossible()) continue;
      if (parsed.isValid()) base = Math.max(base, 0.85);
    } else if (digits.length >= 9 && REGIONS.some((r) => parsePhoneNumberFromString(number, r)?.isValid())) base += 0.15;
    const end = m.index + raw.length;
    out.push(match('phone', text, m.index, end, applyContext(text, m.index, end, base, CONTEXT)));
  }
  return out;
}
