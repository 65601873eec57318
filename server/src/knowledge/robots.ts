// robots.txt as RFC 9309 reads it, for sitemap crawls: the groups naming our product token (case aside, all
// such groups merged), else the '*' groups; of the rules matching a path (with its query), the longest wins,
// an Allow winning a tie; no matching rule allows. '*' in a rule matches any run of characters and a final '$'
// ends the path. Lines that are not rules are ignored, so a file that is not a robots file allows everything.

/** What a crawl may fetch of one site: `allowed(pathAndQuery)`. */
export type RobotsRules = (path: string) => boolean;

/** The most of a robots.txt read (RFC 9309 asks crawlers to read at least 500 KiB). */
export const MAX_ROBOTS_BYTES = 512 * 1024;

interface Rule {
  allow: boolean;
  pattern: string;
  match: (path: string) => boolean;
}

/** A rule's path as a URL's path is written: characters outside printable ASCII percent-encoded. */
function encodePattern(p: string): string {
  return p.replace(/[^\x21-\x7e]+/gu, (run) => {
    try {
      return encodeURIComponent(run);
    } catch {
      return ''; // an unpaired surrogate: nothing a URL's path can hold
    }
  });
}

/**
 * A path or pattern as RFC 9309 compares them (2.2.2): an encoded unreserved character is the character
 * ("/%70rivate" is "/private"), other encodings stay encoded with upper-case hex ("%2f" is "%2F", not "/").
 */
export function normalisePath(p: string): string {
  return p.replace(/%[0-9a-fA-F]{2}/g, (m) => {
    const c = String.fromCharCode(Number.parseInt(m.slice(1), 16));
    return /[A-Za-z0-9\-._~]/.test(c) ? c : m.toUpperCase();
  });
}

function matcher(pattern: string): (path: string) => boolean {
  const anchored = pattern.endsWith('$');
  const body = anchored ? pattern.slice(0, -1) : pattern;
  if (!body.includes('*')) return anchored ? (p) => p === body : (p) => p.startsWith(body);
  // Wildcards: matched piece by piece, leftmost first (no regular expression, so no backtracking blow-up).
  const pieces = body.split('*');
  return (p) => {
    if (!p.startsWith(pieces[0]!)) return false;
    let at = pieces[0]!.length;
    for (let i = 1; i < pieces.length; i++) {
      const piece = pieces[i]!;
      if (i === pieces.length - 1 && anchored) return p.length - piece.length >= at && p.endsWith(piece);
      const found = p.indexOf(piece, at);
      if (found < 0) return false;
      at = found + piece.length;
    }
    return true;
  };
}

/** The rules of `text` for the crawler whose product token is `agent` (`ParleyBot`). */
export function parseRobots(text: string, agent: string): RobotsRules {
  const token = agent.toLowerCase();
  const ours: Rule[] = [];
  const anyone: Rule[] = [];
  let oursFound = false;
  let agents: string[] = [];
  let inRules = false;
  for (const raw of text.split(/\r\n|\r|\n/)) {
    const line = raw.replace(/#.*$/, '').trim();
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const key = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (key === 'user-agent') {
      // A user-agent line after rules starts a new group; consecutive ones share the group that follows.
      if (inRules) agents = [];
      inRules = false;
      // The product token is the name before any version or comment ("ParleyBot/2 (+url)").
      agents.push(value.split(/[\s/]/)[0]!.toLowerCase());
      if (agents.at(-1) === token) oursFound = true;
    } else if (key === 'allow' || key === 'disallow') {
      inRules = true;
      if (!value) continue; // an empty Disallow allows everything; it adds no rule
      const pattern = normalisePath(encodePattern(value));
      const rule = { allow: key === 'allow', pattern, match: matcher(pattern) };
      if (agents.includes(token)) ours.push(rule);
      if (agents.includes('*')) anyone.push(rule);
    }
  }
  const rules = oursFound ? ours : anyone;
  return (raw) => {
    const path = normalisePath(raw);
    let best: Rule | null = null;
    for (const r of rules) {
      if (!r.match(path)) continue;
      if (!best || r.pattern.length > best.pattern.length || (r.pattern.length === best.pattern.length && r.allow)) best = r;
    }
    return best?.allow ?? true;
  };
}
