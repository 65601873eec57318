import { applyContext, type ContextRule } from '../context.js';
import type { Match } from '../types.js';
import { allMatches } from './regex.js';
import { match } from './types.js';

// Conditions, treatments and states that reveal someone's health. Specific terms score on their own;
// generic care words ("medication", "surgery") need someone they belong to.
const SPECIFIC = String.raw`diabet(?:es|ic)|cancer|tumou?rs?|leuka?emia|lymphoma|hiv(?:[- ]positive)?|aids|hepatitis(?: [abc])?|asthma|epilep(?:sy|tic)|seizures?|depression|depressed|anxiety(?: disorder)?|panic attacks?|bipolar(?: disorder)?|schizophreni[ac]|ptsd|adhd|autis(?:m|tic)|dementia|alzheimer'?s|parkinson'?s|multiple sclerosis|strokes?|heart attack|heart disease|heart condition|hypertension|high blood pressure|covid(?:-19)?|pregnan(?:t|cy)|miscarriage|abortion|chlamydia|herpes|syphilis|gonorrh?o?ea|tuberculosis|arthritis|migraines?|eating disorder|anorexi[ac]|bulimi[ac]|addict(?:ion|ed)|alcoholi(?:sm|c)|overdosed?|suicidal|self[- ]harm|dyslexi[ac]|celiac|coeliac|crohn'?s|kidney (?:failure|disease)|dialysis|transplant|chemo(?:therapy)?|radiotherapy|insulin|antidepressants?|prozac|xanax|zoloft|methadone|opioids?|psychiatrist|psychiatric|mental illness|mental health condition|allerg(?:y|ic) to \w+|disabilit(?:y|ies)|wheelchair(?: user)?|hearing aid|blind|deaf`;
const GENERIC = String.raw`medications?|prescriptions?|surgery|operation|therapy|therapist|diagnos(?:is|ed)|illness|hospital(?:ised|ized)?|treatment|symptoms?|rehab`;

/** The top-level alternatives of a pattern's source. */
function alternatives(source: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let from = 0;
  for (let i = 0; i < source.length; i++) {
    const c = source[i];
    if (c === '\\') i++;
    else if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (c === '|' && depth === 0) {
      out.push(source.slice(from, i));
      from = i + 1;
    }
  }
  out.push(source.slice(from));
  return out;
}

/** The letters a term always starts with: up to the first one made optional or repeated, at most four. */
function leadingLetters(term: string): string {
  let n = 0;
  while (n < 4 && /[a-z]/.test(term[n] ?? '') && !/[?*+{]/.test(term[n + 1] ?? '')) n++;
  return term.slice(0, n);
}
// A text holding none of the terms' leading letters, in any case, names no term, and a hand scan for them is
// far cheaper than a regex over a hundred words. Four letters where the term has them, so that common
// triples ("the" of "therapy") do not pass most text.
const TRIPLES = new Uint8Array(26 ** 3);
const QUADS = new Uint8Array(26 ** 4);
for (const term of alternatives(`${SPECIFIC}|${GENERIC}`)) {
  const lead = leadingLetters(term);
  if (lead.length < 3) throw new Error(`health term without three leading letters: ${term}`);
  let code = 0;
  for (let i = 0; i < lead.length; i++) code = code * 26 + lead.charCodeAt(i) - 97;
  (lead.length === 3 ? TRIPLES : QUADS)[code] = 1;
}
/** 0-25 for an ASCII letter in either case, else -1. */
function letterIndex(c: number): number {
  if (c >= 0x41 && c <= 0x5a) return c - 0x41;
  if (c >= 0x61 && c <= 0x7a) return c - 0x61;
  return -1;
}

/** Every health match names one of the terms, and every term starts with its leading letters. */
export const HEALTH_GATE = { test: hasTerm };
/** The terms, tried at one position only (sticky). */
const TERM_AT = new RegExp(`${SPECIFIC}|${GENERIC}`, 'iy');

/**
 * Does a term start somewhere in the text? The hand scan finds where a term's leading letters (ASCII, any case)
 * stand, and the term pattern is tried there alone: the same answer as a scan of the whole text with it, at a
 * few sticky tests instead of a hundred-word pattern tried at every position.
 */
function hasTerm(text: string): boolean {
  // How many letters in a row end here, and the last three of them as one number.
  let run = 0;
  let code = 0;
  for (let i = 0; i < text.length; i++) {
    const c = letterIndex(text.charCodeAt(i));
    if (c < 0) {
      run = 0;
      continue;
    }
    run++;
    if (run >= 4 && QUADS[code * 26 + c] && termAt(text, i - 3)) return true;
    code = (code % 676) * 26 + c;
    if (run >= 3 && TRIPLES[code] && termAt(text, i - 2)) return true;
  }
  return false;
}
function termAt(text: string, at: number): boolean {
  TERM_AT.lastIndex = at;
  return TERM_AT.test(text);
}
const SPECIFIC_RE = new RegExp(String.raw`(?<![\p{L}\p{N}])(?:${SPECIFIC})(?![\p{L}\p{N}])`, 'giu');
const GENERIC_RE = new RegExp(String.raw`(?<![\p{L}\p{N}])(?:${GENERIC})(?![\p{L}\p{N}])`, 'giu');
const DIAGNOSED = /\bdiagnosed with (?:an? )?[\p{L}\p{N}'-]+(?: [\p{L}\p{N}'-]+)?/giu;

const PERSONAL: ContextRule = {
  words:
    /\b(?:i|i'm|im|i've|i am|my|me|he|she|his|her|he's|she's|son|daughter|wife|husband|mother|father|mom|mum|dad|patient|child|kid|suffer\w*|have|has|had|with|on)\b/,
  delta: 0.2,
  before: 30,
  after: 0,
};
const NOT_PERSONAL: ContextRule = {
  words:
    /\b(?:retail|product|software|site|website|app|page|server|database|website's)\b\s*\u0000|\u0000\s*(?:awareness|research|charity|foundation|month)/,
  delta: -0.4,
  before: 20,
  after: 16,
};

export function findHealth(text: string): Match[] {
  const out: Match[] = [];
  for (const m of allMatches(SPECIFIC_RE, text)) {
    const end = m.index + m[0].length;
    out.push(match('health', text, m.index, end, applyContext(text, m.index, end, 0.6, [PERSONAL, NOT_PERSONAL])));
  }
  for (const m of allMatches(GENERIC_RE, text)) {
    const end = m.index + m[0].length;
    out.push(match('health', text, m.index, end, applyContext(text, m.index, end, 0.4, [PERSONAL, NOT_PERSONAL])));
  }
  for (const m of allMatches(DIAGNOSED, text)) {
    // Reach to the end of a named condition a few words on ("diagnosed with type 2 diabetes").
    const named = new RegExp(String.raw`^.{0,24}?(?<![\p{L}\p{N}])(?:${SPECIFIC})(?![\p{L}\p{N}])`, 'iu').exec(
      text.slice(m.index + 15, m.index + 60),
    );
    const end = named ? m.index + 15 + named[0].length : m.index + m[0].length;
    out.push(match('health', text, m.index, end, 0.85));
  }
  return out;
}
