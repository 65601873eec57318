import { describe, expect, it } from 'vitest';
import { type Facts, factsOf } from './facts.js';
import { findAddresses } from './recognizers/address.js';
import { findCards } from './recognizers/card.js';
import { findBirthDates } from './recognizers/dob.js';
import { findGovernmentIds } from './recognizers/govid.js';
import { findIbans } from './recognizers/iban.js';
import { findIps } from './recognizers/ip.js';
import { findSsns } from './recognizers/ssn.js';

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
      const gates: [boolean, (t: string) => unknown[]][] = [
        [f.chain >= 12, findCards],
        [f.chain >= 9 && f.run >= 4, findSsns],
        [f.letterDigit && f.digits >= 2, findIbans],
        [f.digitDotDigit || f.colon, findIps],
        [f.digits >= 4 && f.run >= 2, findBirthDates],
      ];
      for (const [pass, find] of gates) {
        const hits = find(text).length;
        found += hits;
        if (!pass) expect(hits, text).toBe(0);
      }
      // The recognisers' own gates, inside: the same matches as with every pattern tried.
      for (const find of [findBirthDates, findGovernmentIds, findAddresses]) expect(find(text, f), text).toEqual(find(text, open));
    }
    expect(found).toBeGreaterThan(1000);
  });
});
