// Groups the questions the assistant could not answer by the terms they share, so a tenant sees "7
// questions about refund" rather than 7 lines. The terms come from the analyser retrieval uses (stems, stop
// words out), so "reset my password" and "password resets" meet on {password, reset}. Greedy and
// explainable: the term most questions share makes a group of every question holding it; repeat.
import type { UnansweredCluster } from '@parley/protocol';
import { TOKEN_RE } from '../ai/pii/index.js';
import { analyze, analyzeWords } from '../knowledge/analyze.js';

export interface Question {
  conversationId: string;
  /** Redacted as stored. */
  text: string;
  askedAt: Date;
}

/** Words of asking, not of the subject: they would group every question together. */
const FILLER = new Set(analyze('hi hello hey thanks thank please help need want know get tell anyone someone question like ok'));
const MAX_TERMS = 5;
const MAX_EXAMPLES = 3;

interface Analysed {
  q: Question;
  terms: Set<string>;
  /** term → the words it came from in this question. */
  words: Map<string, string>;
}

function analyseQuestion(q: Question): Analysed {
  // A redaction token names a class of personal data, not a subject: "[EMAIL_1]" must not group questions.
  const words = new Map<string, string>();
  for (const { term, word } of analyzeWords(q.text.replace(TOKEN_RE, ' '))) if (!FILLER.has(term) && !words.has(term)) words.set(term, word);
  return { q, terms: new Set(words.keys()), words };
}

function toCluster(members: Analysed[], lead: string | null): UnansweredCluster {
  const byNewest = [...members].sort((a, b) => b.q.askedAt.getTime() - a.q.askedAt.getTime());
  const held = new Map<string, number>();
  for (const m of members) for (const t of m.terms) held.set(t, (held.get(t) ?? 0) + 1);
  // A group is named by the terms at least half its questions share (every term, for one question).
  const shared = [...held]
    .filter(([t, n]) => t !== lead && (members.length === 1 || n * 2 >= members.length))
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .map(([t]) => t);
  const terms = (lead ? [lead, ...shared] : shared).slice(0, MAX_TERMS);
  const shown = (term: string) => {
    const seen = new Map<string, number>();
    for (const m of members) {
      const w = m.words.get(term);
      if (w) seen.set(w, (seen.get(w) ?? 0) + 1);
    }
    return [...seen].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))[0]![0];
  };
  return {
    terms: terms.map(shown),
    count: members.length,
    lastAskedAt: byNewest[0]!.q.askedAt.toISOString(),
    examples: byNewest
      .slice(0, MAX_EXAMPLES)
      .map((m) => ({ conversationId: m.q.conversationId, text: m.q.text, askedAt: m.q.askedAt.toISOString() })),
  };
}

/** The largest groups first (newest first among equals), the group without a topic last; at most `limit`. */
export function clusterQuestions(questions: readonly Question[], limit = 20): UnansweredCluster[] {
  let rest = questions.map(analyseQuestion);
  const groups: { members: Analysed[]; lead: string | null }[] = [];
  for (;;) {
    const held = new Map<string, number>();
    for (const a of rest) for (const t of a.terms) held.set(t, (held.get(t) ?? 0) + 1);
    let lead: string | null = null;
    let most = 1;
    for (const [t, n] of held) if (n > most || (n === most && lead !== null && t < lead)) [lead, most] = [t, n];
    if (!lead) break;
    const term = lead;
    groups.push({ members: rest.filter((a) => a.terms.has(term)), lead: term });
    rest = rest.filter((a) => !a.terms.has(term));
  }
  // Left: questions no other shares a term with, one group each; and those with no term at all (a
  // greeting, only a redaction token), one group together.
  for (const a of rest) if (a.terms.size) groups.push({ members: [a], lead: null });
  const termless = rest.filter((a) => !a.terms.size);
  if (termless.length) groups.push({ members: termless, lead: null });
  return groups
    .map((g) => toCluster(g.members, g.lead))
    .sort((a, b) => Number(!a.terms.length) - Number(!b.terms.length) || b.count - a.count || b.lastAskedAt.localeCompare(a.lastAskedAt))
    .slice(0, limit);
}
