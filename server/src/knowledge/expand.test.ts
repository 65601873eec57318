// Query expansion (WordNet, irregular forms, tenant synonyms), the lazy WordNet reader, headings as
// evidence, and RM3-style feedback terms: pure functions over the real WordNet database files.
import { describe, expect, test } from 'vitest';
import { analyze } from './analyze.js';
import { expandQuery, synonymGroups, TENANT_SYNONYM_WEIGHT, WORDNET_WEIGHTS } from './expand.js';
import { askedPart, contentWords, headingMatch, headingOf, headingTypes, questionType } from './intent.js';
import { counted, feedbackDocs, feedbackTerms, FEEDBACK } from './lexical.js';
import { SUPPORT_LEXICON, SUPPORT_LEXICON_WEIGHT } from './support-lexicon.js';
import { senses } from './wordnet.js';

const weightOf = (q: string, word: string, opts = {}) => expandQuery(q, opts).find((t) => t.term === analyze(word)[0])?.weight;

describe('WordNet, read lazily from the package', () => {
  test('finds a lemma, its senses in frequency order, and a collocation', () => {
    const parcel = senses('parcel');
    expect(parcel[0]).toEqual({ pos: 'noun', rank: 0, words: ['package'] });
    expect(senses('shipment')[0]!.words).toContain('consignment');
    expect(senses('log_in').find((s) => s.pos === 'verb')!.words).toContain('log_on');
  });

  test('the first and last lemmas of an index file are found; an unknown word and odd input find nothing', () => {
    // The binary search must reach both ends of the sorted index (the first line follows the licence header).
    expect(senses('aah').map((s) => s.pos)).toEqual(['verb']); // index.verb's first lemma
    expect(senses('zoom_in').map((s) => s.pos)).toEqual(['verb']); // …and its last
    expect(senses('zyrian').map((s) => s.pos)).toEqual(['noun']); // index.noun's last
    expect(senses('zigzag').some((s) => s.pos === 'adv')).toBe(true); // index.adv's last
    expect(senses('qwertyuiopasdf')).toEqual([]);
    expect(senses('DROP TABLE')).toEqual([]);
    expect(senses('')).toEqual([]);
  });
});

describe('query expansion', () => {
  test('an irregular verb meets its other forms, which the stemmer leaves apart', () => {
    // "pay" meets a page's "are paid by"; "wore" meets "wear" and "worn".
    expect(weightOf('will I have to pay import fees', 'paid')).toBe(1);
    expect(weightOf('wore it once, returnable?', 'wear')).toBe(1);
    expect(weightOf('wore it once, returnable?', 'worn')).toBe(1);
  });

  test('an adverb in -ly meets its adjective, which the stemmer leaves apart', () => {
    // Porter stems "internationally" to "internation" and "International" to "intern".
    expect(weightOf('Do you ship internationally?', 'international')).toBe(1);
    expect(weightOf('is it additionally charged?', 'additional')).toBe(1);
    expect(weightOf('do you ship quickly?', 'quick')).toBe(1);
    expect(weightOf('can I change it easily', 'easy')).toBe(1);
  });

  test("the question's numbers, in digits or words, weigh less than its words", () => {
    expect(weightOf('bought 12 boots three weeks ago', 'boots')).toBe(1);
    expect(weightOf('bought 12 boots three weeks ago', 'three')).toBeLessThan(0.5);
    expect(weightOf('bought 12 boots three weeks ago', '12')).toBeLessThan(0.5);
  });

  test("the question's own terms weigh 1, WordNet synonyms less, by sense rank", () => {
    const terms = expandQuery('where is my parcel', { lexicon: false });
    expect(terms.find((t) => t.term === 'parcel')).toEqual({ term: 'parcel', weight: 1 });
    expect(terms.find((t) => t.term === 'packag')).toEqual({ term: 'packag', weight: WORDNET_WEIGHTS[0], from: 'parcel' });
    expect(Math.max(...terms.filter((t) => t.from).map((t) => t.weight))).toBeLessThan(1);
  });

  test('words that only frame a question are not expanded ("how long" is not "yearn")', () => {
    expect(weightOf('how long do refunds take', 'yearn')).toBeUndefined();
    expect(weightOf('how long do refunds take', 'refund')).toBe(1);
  });

  test('irregular forms reach their base word at full weight', () => {
    expect(weightOf('I wore it once', 'wear')).toBe(1);
    expect(weightOf('I forgot my password', 'forget')).toBe(1);
  });

  test("the built-in support vocabulary bridges the trade's words WordNet lacks, below a tenant's own", () => {
    // WordNet alone has no "gift card" for "voucher" nor "ship" for "dispatched".
    expect(weightOf('how much is left on my voucher', 'gift', { lexicon: false })).toBeUndefined();
    expect(weightOf('how much is left on my voucher', 'gift')).toBe(SUPPORT_LEXICON_WEIGHT);
    expect(weightOf('how much is left on my voucher', 'card')).toBe(SUPPORT_LEXICON_WEIGHT);
    expect(weightOf('has my order been dispatched', 'ship')).toBe(SUPPORT_LEXICON_WEIGHT);
    // A phrase applies only whole: "gift card" is a voucher, a lone "card" is not.
    expect(weightOf('which card do you accept', 'voucher', { wordnet: false })).toBeUndefined();
    expect(weightOf('please close my account', 'delete', { wordnet: false })).toBe(SUPPORT_LEXICON_WEIGHT);
    expect(weightOf('how close is your store', 'delete', { wordnet: false })).toBeUndefined();
    // The trade's compounds: "return shipping" is the prepaid label, "how much is left" the balance.
    expect(weightOf('is return shipping free?', 'prepaid', { wordnet: false })).toBe(SUPPORT_LEXICON_WEIGHT);
    expect(weightOf('is shipping free?', 'prepaid', { wordnet: false })).toBeUndefined();
    expect(weightOf('how much is left on my voucher', 'balance', { wordnet: false })).toBe(SUPPORT_LEXICON_WEIGHT);
    expect(weightOf('my parcel left the warehouse', 'balance', { wordnet: false })).toBeUndefined();
    // A shopper's money, after a return, is the page's refund.
    expect(weightOf('you got my return a week ago, where is my money?', 'refund', { wordnet: false })).toBe(SUPPORT_LEXICON_WEIGHT);
    // The tenant's own list outweighs it, and the question's own words outweigh both.
    expect(SUPPORT_LEXICON_WEIGHT).toBeLessThan(TENANT_SYNONYM_WEIGHT);
    expect(SUPPORT_LEXICON_WEIGHT).toBeGreaterThan(WORDNET_WEIGHTS[0]!);
    expect(weightOf('voucher', 'coupon', { synonyms: ['voucher = coupon'] })).toBe(TENANT_SYNONYM_WEIGHT);
    expect(weightOf('gift card voucher', 'voucher')).toBe(1);
    // A country reaches its region, one way only; "us" is a pronoun, not a country.
    expect(weightOf('can you ship to Germany?', 'europe')).toBe(SUPPORT_LEXICON_WEIGHT);
    expect(weightOf('do you ship within Europe', 'germany')).toBeUndefined();
    expect(weightOf('please email us', 'america', { wordnet: false })).toBeUndefined();
    // A question about a cost looks for the page saying it is free, one way only.
    expect(weightOf('do you charge for returns?', 'free', { wordnet: false })).toBe(SUPPORT_LEXICON_WEIGHT);
    expect(weightOf('how much is shipping?', 'free', { wordnet: false })).toBe(SUPPORT_LEXICON_WEIGHT);
    expect(weightOf('are returns free?', 'price', { wordnet: false })).toBeUndefined();
    // The thing a visitor names is an "item" to a returns page, one way only.
    expect(weightOf('can I swap this jacket for another colour?', 'item', { wordnet: false })).toBe(SUPPORT_LEXICON_WEIGHT);
    expect(weightOf('is it ok to return jeans I already washed?', 'item', { wordnet: false })).toBe(SUPPORT_LEXICON_WEIGHT);
    expect(weightOf('can I return sale items?', 'jacket', { wordnet: false })).toBeUndefined();
    // Wearing is a return condition, but the loose words of a phrase are not: "worn" does not look for "new".
    expect(weightOf('can I send back shoes I have already worn outside?', 'unworn', { wordnet: false })).toBe(SUPPORT_LEXICON_WEIGHT);
    expect(weightOf('can I send back shoes I have already worn outside?', 'new', { wordnet: false })).toBeUndefined();
    // "Where is my parcel?" is answered by a tracking page, which never says "where"; a refund is no parcel.
    expect(weightOf('how can I see where my parcel is?', 'track', { wordnet: false })).toBe(SUPPORT_LEXICON_WEIGHT);
    expect(weightOf("where's my order?", 'track', { wordnet: false })).toBe(SUPPORT_LEXICON_WEIGHT);
    expect(weightOf('you got my return a week ago, where is my money?', 'track', { wordnet: false })).toBeUndefined();
    expect(weightOf('where do I drop off my parcel?', 'track', { wordnet: false })).toBeUndefined();
    // Every entry is a group of at least two members once analysed (no member lost to stop words).
    const groups = synonymGroups(SUPPORT_LEXICON);
    expect(groups).toHaveLength(SUPPORT_LEXICON.length);
    for (const [i, g] of groups.entries()) expect(g, SUPPORT_LEXICON[i]).toHaveLength(SUPPORT_LEXICON[i]!.split('=').length);
  });

  test("a tenant's synonym groups apply when one member, phrase or word, is in the question", () => {
    const synonyms = ['send back = return', 'parcel = package = order'];
    expect(synonymGroups(synonyms)).toEqual([
      [['send', 'back'], ['return']],
      [['parcel'], ['packag'], ['order']],
    ]);
    expect(weightOf('how do I send this back', 'return', { synonyms, wordnet: false })).toBe(TENANT_SYNONYM_WEIGHT);
    expect(weightOf('how do I send this', 'return', { synonyms, wordnet: false })).toBeUndefined();
    expect(weightOf('track my order', 'parcel', { synonyms, wordnet: false })).toBe(TENANT_SYNONYM_WEIGHT);
    expect(synonymGroups(['lonely', ' = ', 'a = '])).toEqual([]);
  });

  test("a tenant's edited synonyms apply to the next question, and an empty list adds none", () => {
    const before = ['parcel = package'];
    const after = ['parcel = box'];
    expect(weightOf('where is my parcel', 'package', { synonyms: before, wordnet: false, lexicon: false })).toBe(TENANT_SYNONYM_WEIGHT);
    expect(weightOf('where is my parcel', 'package', { synonyms: after, wordnet: false, lexicon: false })).toBeUndefined();
    expect(weightOf('where is my parcel', 'box', { synonyms: after, wordnet: false, lexicon: false })).toBe(TENANT_SYNONYM_WEIGHT);
    // The same text in another array is the same list; none is none.
    expect(weightOf('where is my parcel', 'box', { synonyms: [...after], wordnet: false, lexicon: false })).toBe(TENANT_SYNONYM_WEIGHT);
    expect(weightOf('where is my parcel', 'box', { synonyms: [], wordnet: false, lexicon: false })).toBeUndefined();
    expect(weightOf('where is my parcel', 'box', { wordnet: false, lexicon: false })).toBeUndefined();
  });

  test('the expansion is bounded', () => {
    const long = 'return refund exchange delivery shipping parcel package order account password gift card balance cash store online';
    expect(expandQuery(long).length).toBeLessThanOrEqual(32);
    expect(expandQuery('').length).toBe(0);
  });
});

describe('what a message asks', () => {
  test('its questions without the story around them, unless they point back into it or name nothing', () => {
    expect(askedPart('My parcel went back on Monday. The tracking says delivered. When do I get my money?')).toBe('When do I get my money?');
    expect(askedPart('Hi! I bought boots in May. How do I return them?')).toBe('Hi! I bought boots in May. How do I return them?');
    expect(askedPart('I want to return my boots. Is that possible?')).toBe('I want to return my boots. Is that possible?');
    expect(askedPart('I need boots. Is that possible? Do you ship abroad?')).toBe('I need boots. Is that possible? Do you ship abroad?');
    expect(askedPart('Do you ship abroad? Is express faster?')).toBe('Do you ship abroad? Is express faster?');
    expect(askedPart('how long do refunds take')).toBe('how long do refunds take');
  });

  test('one list of framing words: no content of the question, and no synonyms in its expansion', () => {
    expect(contentWords('I would like a refund, how long does it take?')).toEqual(['refund']);
    // WordNet's synonyms (weighing less than the word; "taken" and "took" are forms of it, weighing the same).
    const added = expandQuery('how long does a refund take, is it possible', { lexicon: false }).filter((t) => t.from && t.weight < 1);
    expect(added.filter((t) => ['long', 'take', 'possibl'].includes(t.from!))).toEqual([]);
    expect(added.some((t) => t.from === 'refund')).toBe(true);
  });
});

describe('headings as evidence', () => {
  test('a question’s kind meets the heading that names it', () => {
    expect(questionType('How do I start a return?')).toBe('procedure');
    expect(questionType("what's the process to send a parcel back to you?")).toBe('procedure');
    expect(questionType('what is the procedure for a refund')).toBe('procedure');
    expect(questionType('how long do refunds take')).toBe('wait');
    expect(questionType('how much is express delivery')).toBe('cost');
    expect(questionType('can I return sale items')).toBe('yesno');
    expect(headingTypes('How to start a return')).toEqual(new Set(['procedure']));
    expect(headingTypes('Resetting your password')).toEqual(new Set(['procedure']));
    expect(headingTypes('Refund timing')).toEqual(new Set(['wait']));
    expect(headingOf('Returns and refunds › Refund timing')).toBe('Refund timing');
    const q = 'how long until my refund arrives';
    expect(headingMatch(q, expandQuery(q), 'Returns › Refund timing')).toEqual({ coverage: 0.5, intent: true });
    expect(headingMatch(q, expandQuery(q), 'Shipping › International shipping')).toEqual({ coverage: 0, intent: false });
  });

  test('"how long" is a deadline to meet or a wait for something: a return window is not a refund\'s timing', () => {
    for (const q of [
      'how many days do I have to send something back?',
      'How long do I have to return it?',
      'bought boots three weeks ago, too late to send them back?',
      'how long is a gift card valid',
      'is the link still valid?',
      'do vouchers expire?',
      'how much time do I have to return sale stuff?',
    ])
      expect(questionType(q), q).toBe('deadline');
    for (const q of [
      'how long do refunds take?',
      'How long do I have to wait for my refund?',
      'when will my order arrive',
      'returned an item last week, still no refund',
      "my parcel hasn't arrived",
      'how much time does a refund take?',
    ])
      expect(questionType(q), q).toBe('wait');
    expect(headingTypes('Return window')).toEqual(new Set(['deadline']));
    expect(headingTypes('Validity')).toEqual(new Set(['deadline']));
    expect(headingTypes('Delivery times')).toEqual(new Set(['wait']));
    const q = 'how many days do I have to send it back';
    expect(headingMatch(q, expandQuery(q), 'Returns › Return window').intent).toBe(true);
    expect(headingMatch(q, expandQuery(q), 'Returns › Refund timing').intent).toBe(false);
  });

  test('"how do I …" meets a heading that names one action only where it names that action: two-factor sign-in is not deleting an account', () => {
    const on = (q: string, title: string) => headingMatch(q, expandQuery(q), title).intent;
    expect(on('how do I turn on two-factor authentication for my account?', 'Your account › Deleting your account')).toBe(false);
    expect(on('how do I unsubscribe from your newsletter emails?', 'Your account › Resetting your password')).toBe(false);
    expect(on('how do I update the card I pay with?', 'Gift cards › Checking the balance')).toBe(false);
    expect(on('how do I delete my account?', 'Your account › Deleting your account')).toBe(true);
    expect(on('how can I check my gift card balance', 'Gift cards › Checking the balance')).toBe(true);
    // A "How to …" heading is the page of steps for all it names: sending an item back is starting a return.
    expect(on('how do I send an item back', 'Returns › How to start a return')).toBe(true);
  });
});

describe('pseudo-relevance feedback', () => {
  test("terms of the top passages, weighted by their share of the score, never the query's own, at most the feedback weight", () => {
    const query = expandQuery('refund');
    const chunk = (text: string, score: number) => counted({ chunkId: text, sourceId: 's', externalId: null, title: 'Help', url: null, score, text });
    const fb = feedbackTerms(query, [chunk('refund payment payment method', 9), chunk('refund voucher', 1)]);
    expect(fb[0]).toEqual({ term: 'payment', weight: FEEDBACK.weight });
    expect(fb.some((t) => t.term === 'refund')).toBe(false);
    expect(fb.find((t) => t.term === 'voucher')!.weight).toBeLessThan(fb.find((t) => t.term === 'method')!.weight);
    expect(feedbackTerms(query, [])).toEqual([]);
  });

  test('RM3 proper: the whole query re-weighted, its own terms kept at least at their weight, the feedback mass λ of the total', () => {
    const query = expandQuery('refund', { wordnet: false, lexicon: false });
    const chunk = (text: string, score: number) => counted({ chunkId: text, sourceId: 's', externalId: null, title: 'Help', url: null, score, text });
    const fb = feedbackTerms(query, [chunk('refund payment payment method', 9), chunk('refund voucher', 1)], {
      docs: 2,
      terms: 10,
      weight: 0.5,
      model: 'rm3',
    });
    expect(fb[0]!.term).toBe('refund');
    expect(fb[0]!.weight).toBeGreaterThan(1);
    expect(fb[1]!.term).toBe('payment');
    // (1 - λ)·P(t|Q) + λ·P(t|F) scaled to the query's weight: with λ = 0.5, feedback adds as much again.
    expect(fb.reduce((s, t) => s + t.weight, 0)).toBeCloseTo(2, 3);
    // Passages weigh exp(score): the passage 8 points below contributes next to nothing.
    expect(fb.find((t) => t.term === 'voucher')!.weight).toBeLessThan(0.001);
    expect(feedbackTerms(query, [], { docs: 2, terms: 10, weight: 0.5, model: 'rm3' })).toEqual([]);
  });

  test('feedback reads scores as search gives them, to four places: the in-memory copy weighs terms exactly as SQL does', () => {
    // The same passages, scored by SQL (rounded) and by the in-memory copy (its sums in another order): once
    // these gave "password" 0.2236 and 0.2235, and the two orders of the next search parted.
    const query = expandQuery('I never got a tracking email', { wordnet: false, lexicon: false });
    const docs = (scores: number[]) =>
      ['track parcel email account link', 'reset password email account link', 'refund bank email parcel'].map((text, i) =>
        counted({ chunkId: text, sourceId: 's', externalId: null, title: 'Help', url: null, score: scores[i]!, text }),
      );
    const rm3 = { ...FEEDBACK, model: 'rm3' as const };
    expect(feedbackTerms(query, docs([7.708771820204571, 6.627453488269398, 5.823405784390157]), rm3)).toEqual(
      feedbackTerms(query, docs([7.7088, 6.6275, 5.8234]), rm3),
    );
    const ranked = (...scores: number[]) => scores.map((score, i) => ({ id: String(i), score }));
    // Equal to four places is a tie at the cut, as it is in SQL.
    expect(feedbackDocs(ranked(9, 5, 3.00001, 3.000012, 1), 3)).toHaveLength(4);
  });

  test('passages tied at the cut are all read, or none of them: which one a random chunk id puts first never matters', () => {
    const ranked = (...scores: [string, number][]) => scores.map(([id, score]) => ({ id, score }));
    const ids = (xs: { id: string }[]) => xs.map((x) => x.id).sort();
    // c and d tie at the third place: both are read, in either order.
    expect(ids(feedbackDocs(ranked(['a', 9], ['b', 5], ['c', 3], ['d', 3], ['e', 1]), 3))).toEqual(['a', 'b', 'c', 'd']);
    expect(ids(feedbackDocs(ranked(['a', 9], ['b', 5], ['d', 3], ['c', 3], ['e', 1]), 3))).toEqual(['a', 'b', 'c', 'd']);
    // A tie that runs to the end of what was ranked may go on below it: only the passages above it are read.
    expect(ids(feedbackDocs(ranked(['a', 9], ['b', 3], ['c', 3]), 2))).toEqual(['a']);
    // No tie: the first k.
    expect(ids(feedbackDocs(ranked(['a', 9], ['b', 5], ['c', 3], ['d', 2]), 3))).toEqual(['a', 'b', 'c']);
    expect(ids(feedbackDocs(ranked(['a', 9], ['b', 5]), 3))).toEqual(['a', 'b']);
  });
});
