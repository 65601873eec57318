import { describe, expect, it } from 'vitest';
import { type Facts, factsOf } from './facts.js';
import { RECOGNIZERS } from './gates.js';
import { EXTENSIONS, findAddresses, mayExtendAt, STREET_SUFFIX, suffixEnd } from './recognizers/address.js';
import { findBirthDates } from './recognizers/dob.js';
import { findGovernmentIds } from './recognizers/govid.js';

describe('factsOf', () => {
  it('counts digits, runs and chains', () => {
    expect(factsOf('card 4111 1111-1111 1111, ref 12.5 at 10:30')).toEqual({
      digits: 23,
      run: 4,
      chain: 16,
      letterDigit: false,
      letterSpaceDigit: true,
      digitDotDigit: true,
      dateSeparator: true,
      at: false,
      colon: true,
    });
    expect(factsOf('GB82 WEST, a@b').letterDigit).toBe(true);
    expect(factsOf('1 -2 3').chain).toBe(2);
  });

  // A gate may pass text with no match, never stop one with a match: random text dense in what the patterns read.
  it('never stops text a gated recogniser finds something in', () => {
    let seed = 7;
    const rand = () => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed / 0x80000000;
    };
    const alphabet = '0123456789012345678901234567890123456789     --..//:GBDEab';
    // Facts that open every gate: each recogniser then tries all its patterns.
    const open: Facts = {
      digits: 1e9,
      run: 1e9,
      chain: 1e9,
      letterDigit: true,
      letterSpaceDigit: true,
      digitDotDigit: true,
      dateSeparator: true,
      at: true,
      colon: true,
    };
    let found = 0;
    for (let n = 0; n < 20000; n++) {
      let text = '';
      for (let i = 0, len = 4 + Math.floor(rand() * 40); i < len; i++) text += alphabet[Math.floor(rand() * alphabet.length)];
      const f = factsOf(text);
      // The gates index.ts runs them behind: a closed one must stop only text its recogniser, every pattern
      // tried, finds nothing in.
      for (const { gate, recognize } of Object.values(RECOGNIZERS).flat()) {
        const hits = recognize(text, open).length;
        found += hits;
        if (!gate(text, f)) expect(hits, `${recognize.name}: ${text}`).toBe(0);
      }
      // The recognisers' own gates, inside: the same matches as with every pattern tried.
      for (const find of [findBirthDates, findGovernmentIds, findAddresses]) expect(find(text, f), text).toEqual(find(text, open));
    }
    expect(found).toBeGreaterThan(1000);
  });
});

// The address scanner's own first-character gates, checked against the patterns they stand before, for every
// code unit of the Basic Multilingual Plane: where a gate says no, no pattern may match.
describe('address pattern gates', () => {
  const units = Array.from({ length: 0x10000 }, (_, c) => String.fromCharCode(c));

  it('extend() tries its patterns only where one can match', () => {
    const tails = ['', 'pt 5', 'uite 12', 'e la Mer 75002', 'pringfield IL 62704', '2345', 'W1 6XE', ' 5'];
    let checked = 0;
    const wrong: string[] = [];
    for (const c of units)
      for (const gap of [' ', ''])
        for (const tail of tails) {
          const rest = `${gap}${c}${tail}`;
          if (mayExtendAt(rest, 0)) continue;
          checked++;
          for (const re of EXTENSIONS) if (re.test(rest)) wrong.push(`${re.source.slice(0, 40)} on ${JSON.stringify(rest)}`);
        }
    expect(wrong).toEqual([]);
    expect(checked).toBeGreaterThan(100_000);
  });

  it('the street-suffix pattern is tried only on a word ending as a suffix does', () => {
    const wrong: string[] = [];
    for (const c of units)
      for (const stem of ['Kromwater', 'Genterstrass', 'Kalverstraa', 'ul']) {
        const w = `${stem}${c}`;
        const b = w.toLowerCase();
        if (!suffixEnd(w, b) && STREET_SUFFIX.test(b)) wrong.push(w);
      }
    expect(wrong).toEqual([]);
  });
});
