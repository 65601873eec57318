import { applyContext } from '../context.js';
import { factsOf } from '../facts.js';
import type { Match } from '../types.js';
import { allMatches } from './regex.js';
import { ninoValid } from '../validators.js';
import { match } from './types.js';

const NINO = /(?<![\p{L}\p{N}])[A-Za-z]{2} ?\d{2} ?\d{2} ?\d{2} ?[A-Da-d](?![\p{L}\p{N}])/gu;

/**
 * Ids with no check digit (passports, driving licences, national and tax ids) look like any other
 * code, so they are only taken right after a word naming them: "my driver's license number is A5631".
 * Bounded by Latin letters by hand (no u flag): a Unicode class there costs every message a slower scan.
 */
const NAMED_ID =
  /(?<![A-Za-z0-9\u00c0-\u024f])(?:passport|driver'?s?'? ?licen[cs]e|driving licen[cs]e|dl|licen[cs]e (?:number|no\.?|#)|national (?:id|identity|insurance)|id card|identity card|tax (?:id|number|code)|personal (?:id|number)|personnummer|dni|nie|nif|cpf|rg|aadhaar|pesel|bsn|steuer-?id|codice fiscale|ni number|nino|health (?:card|insurance) number|medicare number|nhs number|(?:personal)?ausweis(?:nummer)?|reisepass(?:nummer)?|passnummer|f[üu]hrerschein(?:nummer)?|passeport|num[ée]ro de passeport|carte d'identit[ée]|pasaporte|documento de identidad|passaporte|carta d'identit[àa])(?![A-Za-z0-9\u00c0-\u024f])/gi;
// A code with at least one digit and 5-20 characters (dots may group it: "123.456.789-09"); the filler
// words in between are skipped, in the languages the names are in.
const ID_AFTER =
  /^(?:[\s:#=-]|(?<![\p{L}])(?:number|no|num|nr|is|was|it's|its|my|the|reads|id|ist|lautet|est|es|é|è|mein|meine|mon|ma|mi|meu|minha)(?![\p{L}])|\.)*((?=[A-Za-z0-9.-]*\d)[A-Za-z0-9][A-Za-z0-9.-]{3,18}[A-Za-z0-9])(?![\p{L}\p{N}])/iu;

export function findGovernmentIds(text: string, facts = factsOf(text)): Match[] {
  const out: Match[] = [];
  // A NINO's six digits go in pairs, perhaps spaced, after its letters.
  for (const m of facts.chain >= 6 && facts.letterSpaceDigit ? allMatches(NINO, text) : []) {
    if (!ninoValid(m[0])) continue;
    const end = m.index + m[0].length;
    const score = applyContext(text, m.index, end, 0.6, [{ words: /\b(?:national insurance|nino|ni number|ni no|hmrc)\b/, delta: 0.35, before: 60 }]);
    out.push(match('government_id', text, m.index, end, score));
  }
  for (const m of allMatches(NAMED_ID, text)) {
    const from = m.index + m[0].length;
    const id = ID_AFTER.exec(text.slice(from, from + 60));
    if (!id) continue;
    const start = from + id[0].length - id[1]!.length;
    out.push(match('government_id', text, start, start + id[1]!.length, 0.8));
  }
  return out;
}
