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
  /** Share of the question's content words the answer covers (0..1). */
  coverage: number;
}

const STOP = new Set(
  'a an and are as at be been but by can could do does did for from had has have how i if in into is it its me my no not of on or our please should so that the their them then there these they this to us was we were what when where which who why will with would you your yours about any some get got tell know need want'.split(' '),
);

/** Lower-cased content words with a light English suffix fold, enough to match "refunds" to "refund". */
export function contentWords(text: string): string[] {
  return (text.toLowerCase().normalize('NFKC').match(/[\p{L}\p{N}]+/gu) ?? [])
    .filter((w) => w.length > 1 && !STOP.has(w))
    .map((w) => w.replace(/(ies)$/, 'y').replace(/(es|s|ing|ed)$/, '') || w);
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
      return { pi, si, s, score, matched };
    }),
  );
  const chosen = candidates
    .filter((c) => c.matched.length > 0)
    .sort((a, b) => b.score - a.score)
    .slice(0, maxSentences)
    .sort((a, b) => a.pi - b.pi || a.si - b.si);
  if (!chosen.length) return { text: '', cited: [], coverage: 0 };
  const cited = [...new Set(chosen.map((c) => c.pi))];
  const covered = new Set(chosen.flatMap((c) => c.matched));
  const parts = cited.map((pi) => {
    const n = cited.indexOf(pi) + 1;
    return `${chosen.filter((c) => c.pi === pi).map((c) => c.s).join(' ')} [${n}]`;
  });
  return { text: parts.join('\n\n'), cited, coverage: covered.size / q.length };
}
