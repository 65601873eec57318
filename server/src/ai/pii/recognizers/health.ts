import { applyContext, type ContextRule } from '../context.js';
import type { Match } from '../types.js';
import { match } from './types.js';

// Conditions, treatments and states that reveal someone's health. Specific terms score on their own;
// generic care words ("medication", "surgery") need someone they belong to.
const SPECIFIC = String.raw`diabet(?:es|ic)|cancer|tumou?rs?|leuka?emia|lymphoma|hiv(?:[- ]positive)?|aids|hepatitis(?: [abc])?|asthma|epilep(?:sy|tic)|seizures?|depression|depressed|anxiety(?: disorder)?|panic attacks?|bipolar(?: disorder)?|schizophreni[ac]|ptsd|adhd|autis(?:m|tic)|dementia|alzheimer'?s|parkinson'?s|multiple sclerosis|strokes?|heart attack|heart disease|heart condition|hypertension|high blood pressure|covid(?:-19)?|pregnan(?:t|cy)|miscarriage|abortion|chlamydia|herpes|syphilis|gonorrh?o?ea|tuberculosis|arthritis|migraines?|eating disorder|anorexi[ac]|bulimi[ac]|addict(?:ion|ed)|alcoholi(?:sm|c)|overdosed?|suicidal|self[- ]harm|dyslexi[ac]|celiac|coeliac|crohn'?s|kidney (?:failure|disease)|dialysis|transplant|chemo(?:therapy)?|radiotherapy|insulin|antidepressants?|prozac|xanax|zoloft|methadone|opioids?|psychiatrist|psychiatric|mental illness|mental health condition|allerg(?:y|ic) to \w+|disabilit(?:y|ies)|wheelchair(?: user)?|hearing aid|blind|deaf`;
const GENERIC = String.raw`medications?|prescriptions?|surgery|operation|therapy|therapist|diagnos(?:is|ed)|illness|hospital(?:ised|ized)?|treatment|symptoms?|rehab`;

/** Every health match names one of these words: a cheap case-insensitive scan before the Unicode-aware ones. */
export const HEALTH_GATE = new RegExp(`${SPECIFIC}|${GENERIC}`, 'i');
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
  for (const m of text.matchAll(SPECIFIC_RE)) {
    const end = m.index + m[0].length;
    out.push(match('health', text, m.index, end, applyContext(text, m.index, end, 0.6, [PERSONAL, NOT_PERSONAL])));
  }
  for (const m of text.matchAll(GENERIC_RE)) {
    const end = m.index + m[0].length;
    out.push(match('health', text, m.index, end, applyContext(text, m.index, end, 0.4, [PERSONAL, NOT_PERSONAL])));
  }
  for (const m of text.matchAll(DIAGNOSED)) {
    // Reach to the end of a named condition a few words on ("diagnosed with type 2 diabetes").
    const named = new RegExp(String.raw`^.{0,24}?(?<![\p{L}\p{N}])(?:${SPECIFIC})(?![\p{L}\p{N}])`, 'iu').exec(
      text.slice(m.index + 15, m.index + 60),
    );
    const end = named ? m.index + 15 + named[0].length : m.index + m[0].length;
    out.push(match('health', text, m.index, end, 0.85));
  }
  return out;
}
