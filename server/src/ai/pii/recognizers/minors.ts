import type { Match } from '../types.js';
import { allMatches } from './regex.js';
import { match } from './types.js';

const NUMBER_WORDS: Record<string, number> = {
  one: 1,
  two: 2,
  three: 3,
  four: 4,
  five: 5,
  six: 6,
  seven: 7,
  eight: 8,
  nine: 9,
  ten: 10,
  eleven: 11,
  twelve: 12,
  thirteen: 13,
  fourteen: 14,
  fifteen: 15,
  sixteen: 16,
  seventeen: 17,
};
const AGE = String.raw`(\d{1,2}|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|seventeen)`;
const PERSON_NOUN = String.raw`son|daughter|kid|child|boy|girl|brother|sister|student|nephew|niece|grandson|granddaughter|teen|teenager|baby|toddler`;

// "a 12-year-old laptop" is not a child: the noun after the age decides.
const YEARS_OLD = new RegExp(String.raw`\b${AGE}[- ](?:years?|yrs?)[- ]old\b(?:[- ]([\p{L}]+))?`, 'giu');
const SELF_AGE = new RegExp(
  String.raw`\b(?:i am|i'm|i’m|im|he is|she is|he's|she's|my (?:${PERSON_NOUN}) is|aged?)\s+${AGE}(?![\d.,%:]|\s*(?:minutes?|mins?|hours?|days?|weeks?|months?|times?|dollars?|euros?|pounds?|miles?|km|items?|percent|am|pm|of|out|in|on|at|min|sec)\b)`,
  'giu',
);
const SCHOOL =
  /\b(?:(?:[1-9]|1[0-2])(?:st|nd|rd|th)[- ]grader?|(?:first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|eleventh|twelfth)[- ]grader?|grade (?:[1-9]|1[0-2])\b(?! ?%)|middle school|elementary school|primary school|junior high|kindergarten|high school (?:student|freshman|sophomore|junior)|(?:i'm|i am|im) (?:a )?(?:minor|kid|teen|teenager|child)|underage|under[- ]?(?:13|16|18)|my (?:mom|mum|dad|parents?) (?:won't|wont|doesn't|don't|do not|will not) let me)\b/giu;

// Each pattern runs only when its gate, a plain scan for a piece every one of its matches holds (same flags,
// so the same case folding), passes: most messages mention no age and no school.
const YEARS_OLD_GATE = /old/iu;
const SELF_AGE_GATE = /(?:[a'’i]m|[i'’]s|age|aged)\s+(?:\d|one|two|th|fo|fi|si|se|ei|ni|te|el|tw)/iu;
const SCHOOL_GATE = /grade|school|junior|kindergarten|minor|kid|teen|child|under|let me/iu;
/** Any of the three: one scan, as most messages pass none. */
const ANY_GATE = new RegExp([YEARS_OLD_GATE, SELF_AGE_GATE, SCHOOL_GATE].map((g) => g.source).join('|'), 'iu');

const CHILD_NOUN = new RegExp(`^(?:${PERSON_NOUN})s?$`);
const FUNCTION_WORD = /^(?:and|but|who|is|was|with|in|at|on|from|has|had|can|will|wants?|needs?|and)$/;

function ageOf(s: string): number {
  return NUMBER_WORDS[s.toLowerCase()] ?? Number(s);
}

export function findMinors(text: string): Match[] {
  const out: Match[] = [];
  if (!ANY_GATE.test(text)) return out;
  if (YEARS_OLD_GATE.test(text))
    for (const m of allMatches(YEARS_OLD, text)) {
      const age = ageOf(m[1]!);
      if (age >= 18) continue;
      const noun = m[2]?.toLowerCase();
      const score = noun === undefined || CHILD_NOUN.test(noun) ? 0.8 : FUNCTION_WORD.test(noun) ? 0.75 : 0.3;
      if (score > 0) out.push(match('minor', text, m.index, m.index + m[0].length, score));
    }
  if (SELF_AGE_GATE.test(text))
    for (const m of allMatches(SELF_AGE, text)) {
      const age = ageOf(m[1]!);
      if (age >= 18 || age < 4) continue;
      out.push(match('minor', text, m.index, m.index + m[0].length, 0.65));
    }
  if (SCHOOL_GATE.test(text)) for (const m of allMatches(SCHOOL, text)) out.push(match('minor', text, m.index, m.index + m[0].length, 0.7));
  return out;
}
