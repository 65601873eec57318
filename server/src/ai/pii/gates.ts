// Which recognisers run on a text: each behind a cheap test of what every one of its matches needs, read from
// the text's facts (facts.ts), found in one pass before any recogniser runs.
import type { Facts } from './facts.js';
import { findAddresses, NAMED_STREET_WORDS } from './recognizers/address.js';
import { findCards } from './recognizers/card.js';
import { DOMESTIC_ACCOUNT_GATE, findDomesticAccounts } from './recognizers/domestic-account.js';
import { findBirthDates } from './recognizers/dob.js';
import { findEmails, findSpeltEmails, SPELT_EMAIL_GATE } from './recognizers/email.js';
import { findGovernmentIds } from './recognizers/govid.js';
import { findHealth, HEALTH_GATE } from './recognizers/health.js';
import { findIbans } from './recognizers/iban.js';
import { findIps } from './recognizers/ip.js';
import { findMinors } from './recognizers/minors.js';
import { findNames } from './recognizers/names.js';
import { findPhones } from './recognizers/phone.js';
import { findSecrets } from './recognizers/secrets.js';
import { CJK_ADDRESS_GATE, CJK_NAME_GATE, CYRILLIC_GATE, findCjkAddresses, findCjkNames, findCyrillicNames } from './recognizers/scripts.js';
import { findSsns } from './recognizers/ssn.js';
import type { Recognizer } from './recognizers/types.js';
import type { PiiClass } from './types.js';

/**
 * A recogniser behind a cheap test of something every one of its matches needs (digits, an "@", a keyword):
 * most messages carry no candidate for most classes, and one plain scan is far cheaper than a recogniser's
 * Unicode-aware patterns. A gate may pass text with no match; it must never stop text with one.
 */
export interface Gated {
  gate: (text: string, facts: Facts) => boolean;
  recognize: Recognizer;
}
const always = (recognize: Recognizer): Gated => ({ gate: () => true, recognize });
const matching = (re: { test(text: string): boolean }, recognize: Recognizer): Gated => ({ gate: (text) => re.test(text), recognize });
const when = (test: (facts: Facts) => boolean, recognize: Recognizer): Gated => ({ gate: (_, facts) => test(facts), recognize });
/** For recognisers whose every match holds at least `n` digits (a phone 6, a named id 1). */
const digits = (n: number, recognize: Recognizer): Gated => when((f) => f.digits >= n, recognize);

export const RECOGNIZERS: Record<PiiClass, Gated[]> = {
  person: [always(findNames), matching(CYRILLIC_GATE, findCyrillicNames), matching(CJK_NAME_GATE, findCjkNames)],
  email: [when((f) => f.at, findEmails), matching(SPELT_EMAIL_GATE, findSpeltEmails)],
  // Six digits grouped ("33 93 31") at the least, else seven to fifteen.
  phone: [digits(6, findPhones)],
  // A house number, a ship, or a street named without its number.
  address: [
    { gate: (text, f) => f.digits > 0 || /\b(?:USNS|USNV|USS|USCGC)\b/.test(text) || NAMED_STREET_WORDS.test(text), recognize: findAddresses },
    // Chinese, Japanese and Korean addresses: a district or city and a number.
    { gate: (text, f) => f.digits > 0 && CJK_ADDRESS_GATE.test(text), recognize: findCjkAddresses },
  ],
  // An SSN has nine digits, grouped by one space, hyphen or (named) dot at most, four in a row; a named id at least
  // one digit, a NINO six.
  government_id: [when((f) => (f.chain >= 9 || f.digitDotDigit) && f.run >= 4, findSsns), digits(1, findGovernmentIds)],
  // Twelve digits or more, grouped by one space or hyphen at most, or in fours kept apart by dots, slashes,
  // wider spaces or lines.
  payment_card: [when((f) => f.chain >= 12 || (f.digits >= 12 && f.run >= 4), findCards)],
  // Two check digits right after the country code.
  bank_account: [
    when((f) => f.letterDigit && f.digits >= 2, findIbans),
    // A sort code has six digits, an account number or a routing number more.
    { gate: (text, f) => f.digits >= 6 && DOMESTIC_ACCOUNT_GATE.test(text), recognize: findDomesticAccounts },
  ],
  // An IPv4 address has a digit, a dot, a digit; an IPv6 one colons.
  ip_address: [when((f) => f.digitDotDigit || f.colon, findIps)],
  // A year and a day: "3/4/21", "5 May 1990"; the year two digits in a row at least.
  date_of_birth: [when((f) => f.digits >= 4 && f.run >= 2, findBirthDates)],
  credential: [
    matching(
      /BEGIN|A[SBCGIPNR][A-Z]{2}[A-Z2-7]{16}|AKIA|secret|eyJ|bearer|[sprk]k[-_]|whsec_|gh[pousr]_|github_pat_|xox|AIza|:\/\/|passw|pwd|passcode|passphrase|\bpin\b|api|token|mot de passe|contrase|senha|kennwort|wachtwoord|has[lł]o|parola|l[oö]senord|пароль|パスワード|密[码碼]|비밀번호/i,
      findSecrets,
    ),
  ],
  health: [matching(HEALTH_GATE, findHealth)],
  // Each of its patterns is behind its own gate (recognizers/minors.ts).
  minor: [always(findMinors)],
};
