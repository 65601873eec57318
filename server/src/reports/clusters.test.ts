// Grouping unanswered questions: pure, so checked directly beside the HTTP test.
import { describe, expect, test } from 'vitest';
import { clusterQuestions } from './clusters.js';

const at = (minute: number) => new Date(Date.UTC(2026, 0, 10, 9, minute));
const qs = (...texts: string[]) => texts.map((text, i) => ({ conversationId: `c${i}`, text, askedAt: at(i) }));

describe('clusterQuestions', () => {
  test('the term most questions share makes the first group; a question joins one group only', () => {
    const out = clusterQuestions(qs('refund for my order', 'refund status', 'where is my refund', 'order status', 'cancel my order'));
    // order (3) before refund (3): equal counts go alphabetically, so the result does not depend on input
    // order; "refund for my order" is then in the order group only, and refund groups what is left.
    expect(out.map((c) => [c.terms, c.count])).toEqual([
      [['order'], 3],
      [['refund', 'status'], 2],
    ]);
    expect(
      clusterQuestions(qs('refund for my order', 'refund status', 'where is my refund', 'order status', 'cancel my order').reverse()).map(
        (c) => c.terms,
      ),
    ).toEqual([['order'], ['refund', 'status']]);
    expect(out.reduce((n, c) => n + c.count, 0)).toBe(5);
  });

  test('a group is named by the words as visitors wrote them most often, examples newest first, three at most', () => {
    const out = clusterQuestions(qs('shipping to Norway', 'shipping to Norway?', 'do you ship to Norway', 'Norway shipping time'));
    expect(out).toHaveLength(1);
    expect(out[0]!.terms.slice(0, 2)).toEqual(['norway', 'shipping']);
    expect(out[0]!.examples.map((e) => e.conversationId)).toEqual(['c3', 'c2', 'c1']);
    expect(out[0]!.lastAskedAt).toBe(at(3).toISOString());
  });

  test('redaction tokens and words of asking are no topic; at most `limit` groups', () => {
    const out = clusterQuestions(qs('[EMAIL_1] please help', 'hi, [EMAIL_2] here', 'alpha', 'beta', 'gamma'), 2);
    expect(out.map((c) => c.terms)).toEqual([['gamma'], ['beta']]);
    expect(clusterQuestions(qs('[EMAIL_1] please help', 'hi, [EMAIL_2] here')).map((c) => [c.terms, c.count])).toEqual([[[], 2]]);
  });
});
