import { analyze } from '../knowledge/analyze.js';

// The built-in answerer: no model, no network. It answers with the best-supported sentences of the
// retrieved passages, so the product works offline and every sentence of an answer is a quotation
// of a cited source.

export interface Passage {
  chunkId: string;
  title: string;
  url: string | null;
  text: string;
  score: number;
}

export interface ExtractiveAnswer {
  /** Markdown with [n] citation markers. */
  text: string;
  /** Indexes into the passages, in citation order. */
  cited: number[];
  /** Share of the question's content words the answer covers (0..1), rarer words weighing more. */
  coverage: number;
}

// Words that frame a question rather than say what it is about ("how long does it take…").
const FRAMING = new Set(analyze('long take much many often soon possible able way need want know tell help get got please thanks hello hi question'));

/** The question's (or a sentence's) content terms, analysed as the index analyses them. */
export function contentWords(text: string): string[] {
  return analyze(text).filter((w) => !FRAMING.has(w));
}

function sentences(text: string): string[] {
  return text
    .split(/(?<=[.!?])\s+(?=[\p{Lu}\p{N}"'(])|\n+/u)
    .map((s) => s.replace(/^[-*•#>\s]+/, '').trim())
    .filter((s) => s.length >= 12 && s.length <= 600);
}

export function extractiveAnswer(question: string, passages: readonly Passage[], maxSentences = 3): ExtractiveAnswer {
  const q = [...new Set(contentWords(question))];
  if (!q.length || !passages.length) return { text: '', cited: [], coverage: 0 };
  // Rarer question words (in fewer passages) weigh more, as in IDF.
  const df = new Map(q.map((w) => [w, passages.filter((p) => contentWords(p.text + ' ' + p.title).includes(w)).length]));
  const weight = (w: string) => Math.log(1 + (passages.length + 1) / (1 + (df.get(w) ?? 0)));
  const candidates = passages.flatMap((p, pi) =>
    sentences(p.text).map((s, si) => {
      const words = new Set(contentWords(s));
      const title = new Set(contentWords(p.title));
      const matched = q.filter((w) => words.has(w) || title.has(w));
      const score = matched.reduce((n, w) => n + weight(w) * (words.has(w) ? 1 : 0.5), 0) / (1 + 0.15 * pi) - 0.01 * si;
      return { pi, si, s, score, matched, inSentence: matched.filter((w) => words.has(w)).length };
    }),
  );
  // A sentence must match the question in its own words (a heading alone is not support), and be
  // close to the best one: weaker sentences dilute an answer more than they help it.
  const supported = candidates.filter((c) => c.inSentence > 0);
  const best = Math.max(0, ...supported.map((c) => c.score));
  const chosen = supported
    .filter((c) => c.score >= 0.5 * best)
    .sort((a, b) => b.score - a.score)
    .slice(0, maxSentences)
    .sort((a, b) => a.pi - b.pi || a.si - b.si);
  if (!chosen.length) return { text: '', cited: [], coverage: 0 };
  const cited = [...new Set(chosen.map((c) => c.pi))];
  const covered = new Set(chosen.flatMap((c) => c.matched));
  const parts = cited.map((pi) => {
    const n = cited.indexOf(pi) + 1;
    return `${chosen
      .filter((c) => c.pi === pi)
      .map((c) => c.s)
      .join(' ')} [${n}]`;
  });
  // Weighted like the scores: a question word no passage contains ("Sunday" asked of a shop whose
  // help centre never mentions opening days) is what the question is most about, so leaving it
  // unanswered costs the most.
  const total = q.reduce((n, w) => n + weight(w), 0);
  return { text: parts.join('\n\n'), cited, coverage: [...covered].reduce((n, w) => n + weight(w), 0) / total };
}
