// The built-in answerer's parts: sentence selection (extractive.ts) and the calibrated decision to answer,
// offer "Did you mean", or hand off (decide.ts). Pure functions; the app-level flow is in answers.test.ts.
import { describe, expect, test } from 'vitest';
import { expandQuery } from '../knowledge/expand.js';
import { ASKS_FOR_PERSON, suggestText } from './answerer.js';
import { DECISION_MODEL, decide, FEATURES, features, MAX_OFFERS, probability, type DecisionFeatures } from './decide.js';
import { extractiveAnswer, type Passage } from './extractive.js';

const p = (title: string, text: string, score: number): Passage => ({ chunkId: title, title, url: null, text, score });
const RETURNS = p(
  'Returns › Return window',
  'You can return any unworn, unwashed item within 30 days of delivery. Items must still have their original tags attached. Sale items can be returned within 14 days.',
  9,
);
const REFUNDS = p(
  'Returns › Refund timing',
  'Refunds go back to the original payment method within 5 business days after we receive your parcel. We email you when the refund is issued.',
  6,
);
const DELIVERY = p('Shipping › Delivery times', 'Express delivery costs 9 euros and arrives the next business day when you order before 2 pm.', 3);

describe('sentence selection', () => {
  test('the sentence that answers, not the whole passage', () => {
    const a = extractiveAnswer('can I return sale items?', [RETURNS, REFUNDS]);
    expect(a.text).toBe('Sale items can be returned within 14 days. [1]');
    expect(a.cited).toEqual([0]);
  });

  test("a second sentence of the same passage only when it meets question words the first leaves unmet; never another passage's", () => {
    const a = extractiveAnswer('do unwashed items need their tags?', [RETURNS, REFUNDS]);
    expect(a.text).toContain('unwashed item within 30 days');
    expect(a.text).toContain('original tags attached');
    expect(a.text).not.toContain('Sale items');
    const b = extractiveAnswer('when is the refund issued after you receive the parcel?', [REFUNDS, DELIVERY]);
    expect(b.cited).toEqual([0]);
    expect(b.text).not.toContain('Express');
  });

  test("retrieval's passage is kept even when another passage's sentence has a rarer matching word", () => {
    const a = extractiveAnswer('how long until my refund arrives?', [REFUNDS, DELIVERY]);
    expect(a.cited).toEqual([0]);
  });

  test('a synonym meets a question word at its weight; a word nothing meets is missing', () => {
    const terms = expandQuery('where is my package', { synonyms: ['package = parcel'] });
    const a = extractiveAnswer('where is my package', [REFUNDS], terms);
    expect(a.text).toContain('parcel');
    expect(a.coverage).toBeGreaterThan(0.5);
    expect(a.coverage).toBeLessThan(1);
    const sunday = extractiveAnswer('are you open on Sunday', [RETURNS, REFUNDS]);
    expect(sunday.missing).toBeGreaterThan(0.5);
  });

  test('a sentence that leans on the one before it ("You can also …", "This …", "… show it") comes with it', () => {
    const tracking = p(
      'Shipping › Tracking your order',
      'As soon as your parcel leaves our warehouse you receive an email with a tracking link. You can also find tracking under Orders in your account.',
      5,
    );
    const a = extractiveAnswer('where do I see my orders', [tracking]);
    expect(a.text).toBe(
      'As soon as your parcel leaves our warehouse you receive an email with a tracking link. You can also find tracking under Orders in your account. [1]',
    );
    // One that ends on a pronoun for what came before ("… to show it").
    const timing = p('Returns › Refund timing', 'We email you when the refund is issued. Your bank may take a few more days to show it.', 5);
    expect(extractiveAnswer('when does it show up at my bank', [timing]).text).toBe(
      'We email you when the refund is issued. Your bank may take a few more days to show it. [1]',
    );
    // A sentence that stands on its own stays alone.
    expect(extractiveAnswer('can I return sale items?', [RETURNS]).text).toBe('Sale items can be returned within 14 days. [1]');
  });

  test('"how long" or "when" is answered with the sentence that gives a time, "how much" with the one that gives an amount', () => {
    const timing = p(
      'Returns › Refund timing',
      'Refunds go back to the original payment method within 5 business days after we receive your parcel. We email you when the refund is issued. Your bank may take a few more days to show it.',
      9,
    );
    // "show" is the rarer word, and only the last sentence has it; the first is the one that says when.
    expect(extractiveAnswer('When will my refund show up on my card?', [timing, RETURNS]).text).toBe(
      'Refunds go back to the original payment method within 5 business days after we receive your parcel. Your bank may take a few more days to show it. [1]',
    );
    const abroad = p(
      'Shipping › International shipping',
      'We ship to 40 countries in Europe and North America. Shipping outside the EU costs 15 euros per order.',
      5,
    );
    expect(extractiveAnswer('how much is shipping to Norway?', [abroad]).text).toBe(
      'We ship to 40 countries in Europe and North America. Shipping outside the EU costs 15 euros per order. [1]',
    );
    // A question of another kind keeps the sentence that meets its words first.
    expect(extractiveAnswer('do you ship to Norway?', [abroad]).text).toBe('We ship to 40 countries in Europe and North America. [1]');
  });

  test('a lone refusal comes with what the passage says to do instead', () => {
    const exchanges = p(
      'Returns › Exchanges',
      'We do not offer direct exchanges. Return the item for a refund and place a new order for the size or colour you want. Gift cards cannot be exchanged.',
      9,
    );
    expect(extractiveAnswer('can I exchange my jacket?', [exchanges, RETURNS]).text).toBe(
      'We do not offer direct exchanges. Return the item for a refund and place a new order for the size or colour you want. [1]',
    );
    // An answer that says yes stands alone.
    expect(extractiveAnswer('can I return sale items?', [RETURNS]).text).toBe('Sale items can be returned within 14 days. [1]');
  });

  test('a chunk edited since it was last read is read again: the answer quotes its words of now', () => {
    const before = p('Returns › Edited', 'Sale items can be returned within 14 days.', 9);
    expect(extractiveAnswer('can I return sale items?', [before]).text).toBe('Sale items can be returned within 14 days. [1]');
    const after = { ...before, text: 'Sale items can be exchanged within 7 days. Sale items cannot be returned.' };
    expect(extractiveAnswer('can I return sale items?', [after]).text).toBe('Sale items cannot be returned. [1]');
    const renamed = { ...after, title: 'Exchanges › Sale items' };
    expect(extractiveAnswer('how do exchanges work?', [renamed]).text).toBe('Sale items can be exchanged within 7 days. [1]');
  });

  test('a heading alone is not support', () => {
    expect(extractiveAnswer('refund timing', [p('Returns › Refund timing', 'Contact us.', 5)]).text).toBe('');
  });
});

describe('the decision', () => {
  const f = (o: Partial<DecisionFeatures>): DecisionFeatures => ({
    strength: 0.6,
    margin: 0.3,
    coverage: 0.6,
    missing: 0.2,
    unmet: 0.2,
    heading: 0.5,
    intent: 1,
    first: 1,
    yesno: 0,
    ...o,
  });

  test('the fitted model has a weight for every feature, and moves the way the evidence does', () => {
    for (const k of FEATURES) expect(Number.isFinite(DECISION_MODEL.weights[k])).toBe(true);
    expect(probability(f({ coverage: 1 }))).toBeGreaterThan(probability(f({ coverage: 0.2 })));
    expect(probability(f({ missing: 0.9 }))).toBeLessThan(probability(f({ missing: 0 })));
    expect(probability(f({ heading: 1 }))).toBeGreaterThan(probability(f({ heading: 0 })));
    for (const x of [f({}), f({ coverage: 0, strength: 0 }), f({ coverage: 1, strength: 1, missing: 0 })]) {
      expect(probability(x)).toBeGreaterThan(0);
      expect(probability(x)).toBeLessThan(1);
    }
  });

  test('features are read from the retrieval and the answer', () => {
    const q = 'can I return sale items?';
    const terms = expandQuery(q);
    const x = features(q, [RETURNS, REFUNDS], terms, extractiveAnswer(q, [RETURNS, REFUNDS], terms));
    expect(x.first).toBe(1);
    expect(x.margin).toBeCloseTo(1 - 6 / 9, 5);
    expect(x.yesno).toBe(1);
    expect(x.heading).toBeGreaterThan(0);
    expect(x.coverage).toBe(1);
  });

  test('two thresholds: answer, offer "Did you mean" (the cited heading first), or hand off', () => {
    const q = 'can I return sale items?';
    const terms = expandQuery(q);
    const passages = [RETURNS, REFUNDS, DELIVERY];
    const pr = decide(q, passages, terms, { threshold: 0, suggestThreshold: 0 }).probability;
    expect(decide(q, passages, terms, { threshold: pr, suggestThreshold: 0 }).action).toBe('answer');
    const offer = decide(q, passages, terms, { threshold: pr + 0.001, suggestThreshold: pr });
    expect(offer.action).toBe('suggest');
    // Delivery scores under the runner-up share of the best: not offered.
    expect(offer.suggestions).toEqual([
      { index: 0, heading: 'Return window' },
      { index: 1, heading: 'Refund timing' },
    ]);
    expect(offer.suggestions!.length).toBeLessThanOrEqual(MAX_OFFERS);
    expect(decide(q, passages, terms, { threshold: pr + 0.001, suggestThreshold: pr + 0.0005 }).action).toBe('handoff');
    // With the two thresholds equal (or crossed) no offer is made.
    expect(decide(q, passages, terms, { threshold: pr + 0.001, suggestThreshold: pr + 0.001 }).action).toBe('handoff');
    expect(decide('zebra quantum', passages, expandQuery('zebra quantum'), { threshold: 0, suggestThreshold: 0 }).action).toBe('handoff');
  });

  test('a broad question (one subject and a word that only points at it) gets its passages offered, not a handoff', () => {
    const passages = [REFUNDS, RETURNS, DELIVERY];
    const defaults = { threshold: 0.7, suggestThreshold: 0.4 };
    for (const q of ['What is your returns policy?', 'Can I return something?']) {
      const d = decide(q, passages, expandQuery(q), defaults);
      expect({ q, action: d.action }).toEqual({ q, action: 'suggest' });
      expect(d.probability).toBeLessThan(defaults.suggestThreshold);
      expect(d.suggestions!.map((o) => o.heading)).toEqual(['Refund timing', 'Return window']);
    }
    // Not where the tenant makes no offers, nor for a question that names two things, nor one that meets nothing.
    expect(decide('What is your returns policy?', passages, expandQuery('returns policy'), { threshold: 0.7, suggestThreshold: 0.7 }).action).toBe(
      'handoff',
    );
    expect(decide('What is your returns policy on Sundays?', passages, expandQuery('returns policy on Sundays'), defaults).action).toBe('handoff');
    expect(decide('What is your privacy policy?', passages, expandQuery('privacy policy'), defaults).action).toBe('handoff');
  });

  test('the offer reads as a question with the headings as the tenant wrote them', () => {
    expect(suggestText(['Return window'])).toBe('Did you mean: Return window?');
    expect(suggestText(['Return window', 'Refund timing', 'Exchanges'])).toBe('Did you mean: Return window, Refund timing or Exchanges?');
  });
});

describe('asking for a person', () => {
  test.each([
    ['I want to talk to a human', true],
    ['agent please', true],
    ['Can I speak with someone from your team?', true],
    ['please transfer me to a supervisor', true],
    ['stop the bot, I need a person', true],
    ['I want a real human', true],
    ['do you need a person to sign for the parcel?', false],
    ['I need support with my order', false],
    ['how long does delivery take', false],
    ['can I put my order on hold', false],
    ['can someone else use my gift card', false],
  ])('%s → %s', (q, yes) => expect(ASKS_FOR_PERSON.test(q)).toBe(yes));
});
