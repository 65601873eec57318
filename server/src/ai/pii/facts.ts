// What the recogniser gates (index.ts) read of a text, found in one pass over it before any recogniser runs:
// a plain loop over the code units costs about what one regex scan does, and spares the scans of every
// recogniser whose matches all need something the text lacks (most messages hold no long digit run, no "@").

export interface Facts {
  /** ASCII digits, all that a regex's \d matches. */
  digits: number;
  /** The longest run of digits in a row. */
  run: number;
  /** The most digits in a chain where each is next to the one before or one space or hyphen after it ("4111 1111-1"). */
  chain: number;
  /** An ASCII letter right before a digit ("GB82"). */
  letterDigit: boolean;
  /** An ASCII letter, perhaps a space, a digit ("AB 12"). */
  letterSpaceDigit: boolean;
  /** A digit, a dot, a digit ("1.2"). */
  digitDotDigit: boolean;
  /** A digit, a slash, dot or hyphen, a digit ("3/4", "2021-05"). */
  dateSeparator: boolean;
  at: boolean;
  colon: boolean;
}

const isDigit = (c: number) => c >= 0x30 && c <= 0x39;
const isAsciiLetter = (c: number) => (c | 0x20) >= 0x61 && (c | 0x20) <= 0x7a;

export function factsOf(text: string): Facts {
  const f: Facts = {
    digits: 0,
    run: 0,
    chain: 0,
    letterDigit: false,
    letterSpaceDigit: false,
    digitDotDigit: false,
    dateSeparator: false,
    at: false,
    colon: false,
  };
  let run = 0;
  let chain = 0;
  // The code unit before this one, and the one before that.
  let p1 = 0;
  let p2 = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (isDigit(c)) {
      f.digits++;
      if (++run > f.run) f.run = run;
      chain = isDigit(p1) || ((p1 === 0x20 || p1 === 0x2d) && isDigit(p2)) ? chain + 1 : 1;
      if (chain > f.chain) f.chain = chain;
      if (isAsciiLetter(p1)) f.letterDigit = f.letterSpaceDigit = true;
      else if (p1 === 0x20 && isAsciiLetter(p2)) f.letterSpaceDigit = true;
      else if ((p1 === 0x2e || p1 === 0x2f || p1 === 0x2d) && isDigit(p2)) {
        f.dateSeparator = true;
        if (p1 === 0x2e) f.digitDotDigit = true;
      }
    } else {
      run = 0;
      if (c === 0x40) f.at = true;
      else if (c === 0x3a) f.colon = true;
    }
    p2 = p1;
    p1 = c;
  }
  return f;
}
