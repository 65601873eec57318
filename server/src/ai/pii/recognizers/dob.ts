import { hasContext } from '../context.js';
import { factsOf } from '../facts.js';
import type { Match } from '../types.js';
import { allMatches } from './regex.js';
import { dateValid } from '../validators.js';
import { match } from './types.js';

const MONTHS =
  'jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?';
const MONTH_INDEX = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];

// A time right after the date makes it a timestamp, not a birth date.
const NOT_TIME = String.raw`(?![\d/\-]|\.\d|[T ]\d{1,2}:\d)`;
const NUMERIC = new RegExp(String.raw`(?<![\d/.\-])(\d{1,2})([/.\-])(\d{1,2})\2(\d{4}|\d{2})${NOT_TIME}`, 'g');
const ISO = new RegExp(String.raw`(?<![\d/.\-])(\d{4})-(\d{2})-(\d{2})${NOT_TIME}`, 'g');
// Year first with slashes or dots, as Chinese, Japanese and Korean forms write it: 1990/5/12, 1992.03.07.
const YMD = new RegExp(String.raw`(?<![\d/.\-])(\d{4})([/.])(\d{1,2})\2(\d{1,2})${NOT_TIME}`, 'g');
const TEXTUAL = new RegExp(
  String.raw`\b(?:(\d{1,2})(?:st|nd|rd|th)?\s+(?:of\s+)?(${MONTHS})\.?,?\s+(\d{4})|(${MONTHS})\.?\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4}))\b`,
  'gi',
);

// Written in Chinese, Japanese or Korean: 1990年5月12日, 1992년 3월 7일.
const CJK = /(?<!\d)(\d{4})\s*[年년]\s*(\d{1,2})\s*[月월]\s*(\d{1,2})\s*[日일]/g;
// Written with a month's name in German, French, Spanish, Italian, Portuguese or Dutch: "12. Mai 1990",
// "3 février 1985", "12 de mayo de 1990".
const MONTH_NAMES = new Map<string, number>();
for (const [i, names] of [
  'januar janvier enero gennaio janeiro januari',
  'februar février fevrier febrero febbraio fevereiro februari',
  'märz maerz mars marzo março marco maart',
  'april avril abril aprile',
  'mai mayo maggio maio mei',
  'juni juin junio giugno junho',
  'juli juillet julio luglio julho',
  'august août aout agosto augustus',
  'september septembre septiembre settembre setembro',
  'oktober octobre octubre ottobre outubro',
  'november novembre noviembre novembro',
  'dezember décembre decembre diciembre dicembre dezembro december',
].entries())
  for (const name of names.split(' ')) MONTH_NAMES.set(name, i + 1);
// Russian months, as a date writes them (the genitive: "12 мая 1990").
for (const [i, name] of 'января февраля марта апреля мая июня июля августа сентября октября ноября декабря'.split(' ').entries())
  MONTH_NAMES.set(name, i + 1);
const NAMED = new RegExp(
  String.raw`(?<![\p{L}\p{N}])(\d{1,2})(?:\.|er|º|°)?\s+(?:de\s+)?(${[...MONTH_NAMES.keys()].sort((a, b) => b.length - a.length).join('|')})\.?\s+(?:de\s+)?(\d{4})(?!\d)`,
  'giu',
);

// Birth named in English and the languages above; before the date, or right after it ("1990年5月12日生まれ").
// Scripts without spaces between words are matched anywhere in the window.
const BIRTH =
  /\b(?:born|birth|dob|d\.o\.b|birthday|bday|birthdate|date of birth|geboren|nacido|nacida|nascido|nascida|nato|nata|née?)\b|\b(?:geburt|naissance|nacimiento|nascimento|nascita|geboorte|urodz|do[gğ]um)|рожден|родил|生年月日|生まれ|出生|生日|誕生|생년월일|생일|출생|ميلاد|مواليد/;
// A birthday present is bought for a date that is no one's birth ("生日礼物", "Geburtstagsgeschenk", "a birthday gift").
const GIFT = /gift|present|geschenk|cadeau|regalo|presente|cadeau|подар|礼物|禮物|プレゼント|선물/;

function plausibleYear(y: number): boolean {
  return y >= 1900 && y <= new Date().getUTCFullYear();
}

function year4(y: string): number {
  if (y.length === 4) return +y;
  // Two-digit years in a birth date: assume the latest past century.
  const now = new Date().getUTCFullYear() % 100;
  return +y <= now ? 2000 + +y : 1900 + +y;
}

/**
 * Dates are everywhere in support text (orders, outages, appointments); only one said to be a birth
 * date is personal data, so the score is high only with birth context nearby.
 */
export function findBirthDates(text: string, facts = factsOf(text)): Match[] {
  const out: Match[] = [];
  // A numeric date has its separator between digits; an ISO or written one a four-digit year.
  if (facts.dateSeparator)
    for (const m of allMatches(NUMERIC, text)) {
      const a = +m[1]!,
        b = +m[3]!,
        y = year4(m[4]!);
      if (plausibleYear(y) && (dateValid(y, a, b) || dateValid(y, b, a))) out.push(birthDate(text, m.index, m.index + m[0].length));
    }
  if (facts.run < 4) return out;
  if (facts.dateSeparator)
    for (const m of allMatches(ISO, text)) {
      if (plausibleYear(+m[1]!) && dateValid(+m[1]!, +m[2]!, +m[3]!)) out.push(birthDate(text, m.index, m.index + m[0].length));
    }
  if (facts.dateSeparator)
    for (const m of allMatches(YMD, text)) {
      if (plausibleYear(+m[1]!) && dateValid(+m[1]!, +m[3]!, +m[4]!)) out.push(birthDate(text, m.index, m.index + m[0].length));
    }
  for (const m of allMatches(CJK, text))
    if (plausibleYear(+m[1]!) && dateValid(+m[1]!, +m[2]!, +m[3]!)) out.push(birthDate(text, m.index, m.index + m[0].length));
  for (const m of allMatches(NAMED, text)) {
    const y = +m[3]!;
    if (plausibleYear(y) && dateValid(y, MONTH_NAMES.get(m[2]!.toLowerCase())!, +m[1]!)) out.push(birthDate(text, m.index, m.index + m[0].length));
  }
  for (const m of allMatches(TEXTUAL, text)) {
    const day = +(m[1] ?? m[5])!;
    const month = MONTH_INDEX.indexOf((m[2] ?? m[4])!.slice(0, 3).toLowerCase()) + 1;
    const y = +(m[3] ?? m[6])!;
    if (plausibleYear(y) && dateValid(y, month, day)) out.push(birthDate(text, m.index, m.index + m[0].length));
  }
  return out;
}

function birthDate(text: string, start: number, end: number): Match {
  const score = hasContext(text, start, end, BIRTH, 60, 8) && !hasContext(text, start, end, GIFT, 60, 8) ? 0.85 : 0.2;
  return match('date_of_birth', text, start, end, score);
}
