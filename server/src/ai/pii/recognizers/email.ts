import type { Match } from '../types.js';
import { allMatches } from './regex.js';
import { match } from './types.js';

// Unicode letters are allowed on both sides (internationalised addresses), with their combining marks
// (a letter and its accent as macOS pastes them); the TLD must be letters.
const EMAIL =
  /(?<![\p{L}\p{M}\p{N}._%+\-])[\p{L}\p{M}\p{N}_%+\-](?:[\p{L}\p{M}\p{N}._%+\-]{0,62}[\p{L}\p{M}\p{N}_%+\-])?@(?:[\p{L}\p{N}](?:[\p{L}\p{M}\p{N}\-]{0,61}[\p{L}\p{M}\p{N}])?\.)+\p{L}{2,24}(?![\p{L}\p{N}\-@])/gu;

export function findEmails(text: string): Match[] {
  const out: Match[] = [];
  for (const m of allMatches(EMAIL, text)) out.push(match('email', text, m.index, m.index + m[0].length, 0.95));
  return out;
}
