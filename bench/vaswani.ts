// The Vaswani (NPL) test collection and its scoring, shared by the retrieval benches: documents, queries
// (lower-cased titles), relevance judgements, and nDCG@10 / recall@10 / MRR of one ranking.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const DATA = process.env.VASWANI ?? join(import.meta.dirname, '../../shared/data/retrieval/vaswani-dev');

export const docs = [...readFileSync(join(DATA, 'doc-text.trec'), 'utf8').matchAll(/<DOCNO>(\d+)<\/DOCNO>([\s\S]*?)<\/DOC>/g)].map((m) => ({
  id: m[1]!,
  text: m[2]!.trim(),
}));
export const queries = [...readFileSync(join(DATA, 'query-text.trec'), 'utf8').matchAll(/<num>(\d+)<\/num><title>([\s\S]*?)<\/title>/g)].map((m) => ({
  id: m[1]!,
  text: m[2]!.trim().toLowerCase(),
}));
export const qrels = new Map<string, Set<string>>();
for (const line of readFileSync(join(DATA, 'qrels'), 'utf8').trim().split('\n')) {
  const [q, , d, rel] = line.split(/\s+/);
  if (Number(rel) > 0) (qrels.get(q!) ?? qrels.set(q!, new Set()).get(q!)!).add(d!);
}

export function score(ranked: string[], relevant: Set<string>) {
  const top = ranked.slice(0, 10);
  const dcg = top.reduce((s, d, i) => s + (relevant.has(d) ? 1 / Math.log2(i + 2) : 0), 0);
  const ideal = [...Array(Math.min(10, relevant.size)).keys()].reduce((s, i) => s + 1 / Math.log2(i + 2), 0);
  const first = ranked.findIndex((d) => relevant.has(d));
  return { ndcg: ideal ? dcg / ideal : 0, recall: top.filter((d) => relevant.has(d)).length / relevant.size, mrr: first >= 0 ? 1 / (first + 1) : 0 };
}
