// Shared by bench/support.ts and bench/fit-decision.ts: the support question sets, and a run of one set
// against the demo tenant — each question asked by a widget visitor over HTTP (what a visitor gets), and
// the built-in answerer's decision features computed from the same retrieval (what the decision saw).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decide, type DecisionFeatures } from '../server/src/ai/decide.js';
import type { Passage } from '../server/src/ai/extractive.js';
import { queryTerms } from '../server/src/knowledge/lexical.js';
import { call, type Visitor } from '@parley/server/testing';

export type Expect = { source: string; heading: string }[] | 'unanswerable' | 'person';
export interface Question {
  q: string;
  expect: Expect;
}
export const loadSet = (file: string) => (JSON.parse(readFileSync(join(import.meta.dirname, file), 'utf8')) as { questions: Question[] }).questions;

type Cited = { externalId?: string | null; title: string; url?: string | null };
export const matches = (expect: Expect, r: Cited) =>
  Array.isArray(expect) &&
  expect.some((e) => (r.externalId === e.source || (r.url ?? '').includes(`/demo/help/${e.source}#`)) && r.title.includes(e.heading));

export type Outcome = 'right' | 'wrong' | 'suggested-right' | 'suggested-wrong' | 'handed-off' | 'answered-unanswerable' | 'person-answered';
export const UNSAFE: readonly Outcome[] = ['wrong', 'answered-unanswerable', 'person-answered'];

export interface Record_ {
  q: string;
  expect: Expect;
  outcome: Outcome;
  confidence: number | null;
  text: string;
  citations: string[];
  ms: number;
  /** Retrieval: rank (1-based) of the first right passage in the top 5, 0 when absent. */
  rank: number;
  /** The built-in answerer's decision on the same retrieval: its features, probability, and whether its candidate passage is right. */
  decision?: { features: DecisionFeatures; probability: number; correct: boolean; action: string };
}

export interface Demo {
  url: string;
  secretKey: string;
  synonyms: readonly string[];
  thresholds: { threshold: number; suggestThreshold: number };
}

export async function runSet(demo: Demo, visitor: Visitor, questions: readonly Question[], opts: { decisions: boolean }): Promise<Record_[]> {
  const out: Record_[] = [];
  for (const { q, expect } of questions) {
    const { body } = await call(demo.url, 'POST', '/v1/admin/knowledge/search', { key: demo.secretKey, body: { query: q, limit: 5 } });
    const results = body.results as (Cited & { chunkId: string; score: number; text: string })[];
    const rank = results.findIndex((r) => matches(expect, r)) + 1;
    // A fresh conversation per question: a handed-off conversation belongs to a person.
    const id = (await visitor.call('POST', '/conversations', {})).body.conversation.id as string;
    const started = performance.now();
    const events = await visitor.say(id, q);
    const ms = performance.now() - started;
    const done = events.find((e) => e.event === 'done')?.data.message as {
      text: string;
      citations: (Cited & { suggested?: boolean })[];
      confidence?: number;
    };
    const handedOff = events.some((e) => e.event === 'handoff');
    const suggested = done.citations.filter((c) => c.suggested);
    const quoted = done.citations.filter((c) => !c.suggested);
    let outcome: Outcome;
    if (expect === 'person') outcome = handedOff ? 'handed-off' : 'person-answered';
    else if (handedOff) outcome = 'handed-off';
    else if (suggested.length && !quoted.length) outcome = suggested.some((c) => matches(expect, c)) ? 'suggested-right' : 'suggested-wrong';
    else if (expect === 'unanswerable') outcome = 'answered-unanswerable';
    else outcome = quoted.some((c) => matches(expect, c)) ? 'right' : 'wrong';
    const rec: Record_ = {
      q,
      expect,
      outcome,
      confidence: done.confidence ?? null,
      text: done.text,
      citations: done.citations.map((c) => c.title),
      ms,
      rank,
    };
    if (opts.decisions && expect !== 'person') {
      const ps: Passage[] = results.map((r) => ({ chunkId: r.chunkId, title: r.title, url: r.url ?? null, text: r.text, score: r.score }));
      const d = decide(q, ps, queryTerms(q, { synonyms: demo.synonyms }), demo.thresholds);
      const cited = d.answer.cited[0];
      rec.decision = {
        features: d.features,
        probability: d.probability,
        action: d.action,
        correct: cited !== undefined && matches(expect, results[cited]!),
      };
    }
    out.push(rec);
  }
  return out;
}
