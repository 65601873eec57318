const NONE: readonly RegExpExecArray[] = Object.freeze([]);

/**
 * Every match of a global pattern in `text`, as `text.matchAll(re)` gives them, without its cost per call:
 * matchAll builds a new RegExp (species lookup, flags string) and an iterator every time, which profiled at
 * about a tenth of detect(), as a message goes through some twenty scans and most find nothing.
 * The matches are collected before returning, so the caller may run any pattern, this one too, while reading them.
 */
export function allMatches(re: RegExp, text: string): readonly RegExpExecArray[] {
  if (!re.global) throw new TypeError(`allMatches needs a global pattern: ${re}`);
  re.lastIndex = 0;
  let m = re.exec(text);
  if (m === null) return NONE;
  const out: RegExpExecArray[] = [];
  while (m !== null) {
    out.push(m);
    // An empty match moves on by one character (a code point under the u or v flag), as matchAll does.
    if (m[0] === '') re.lastIndex = advance(text, re.lastIndex, /[uv]/.test(re.flags));
    m = re.exec(text);
  }
  // exec leaves lastIndex at 0 once it finds nothing more.
  return out;
}

function advance(text: string, i: number, unicode: boolean): number {
  if (!unicode || i + 1 >= text.length) return i + 1;
  const c = text.charCodeAt(i);
  return c >= 0xd800 && c <= 0xdbff && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00 ? i + 2 : i + 1;
}
