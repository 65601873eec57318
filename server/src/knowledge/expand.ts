// Query expansion without a model download: the visitor's words, their irregular base forms, the tenant's
// own synonym groups ("parcel = package = order"), the built-in support vocabulary (support-lexicon.ts) and
// WordNet synonyms of their most frequent senses, each a weighted term for BM25. The question's own words
// weigh 1; what is added weighs less, so a passage in the visitor's words still wins over one in a synonym's.
import { analyze, analyzeWords } from './analyze.js';
import { boundedMemo } from './memo.js';
import { FRAMING_WORDS } from './intent.js';
import { COST_ANSWER, COUNTRY_REGION, SUPPORT_LEXICON, SUPPORT_LEXICON_WEIGHT, THING_ITEM, WHERE_SENT_ANSWER, whereSent } from './support-lexicon.js';
import { senses } from './wordnet.js';

export interface WeightedTerm {
  term: string;
  weight: number;
  /** For an added term: the question's own term it stands in for. */
  from?: string;
}

/** Heaviest first, then by spelling: the order every list of weighted terms is kept in. */
export const byWeight = (a: WeightedTerm, b: WeightedTerm) => b.weight - a.weight || (a.term < b.term ? -1 : 1);

/** Weight of a tenant synonym: the tenant said these mean the same, in its own knowledge. */
export const TENANT_SYNONYM_WEIGHT = 0.9;
/**
 * An added term weaker than a tenant synonym, found in more than this share of a large tenant's chunks (and
 * more than `atLeast` of them), says little and costs a long postings list: BM25 skips it (SQL and memory).
 */
export const COMMON_TERM = { share: 0.1, atLeast: 50 } as const;
export const skipsCommon = (weight: number, df: number, chunks: number): boolean =>
  weight < TENANT_SYNONYM_WEIGHT && df > Math.max(chunks * COMMON_TERM.share, COMMON_TERM.atLeast);
/** WordNet synonyms by sense rank: the most frequent sense is the likeliest meaning. */
export const WORDNET_WEIGHTS = [0.5, 0.3, 0.2];

/** At most this many WordNet terms per query word: a word with many senses must not drown the query. */
const PER_WORD = 4;

// Irregular forms the Porter stemmer cannot map to their base (WordNet's exception lists are not in the package).
const IRREGULAR: Record<string, string> = Object.fromEntries(
  (
    'wore:wear worn:wear sent:send bought:buy got:get gotten:get paid:pay lost:lose made:make took:take taken:take gave:give ' +
    'given:give came:come went:go gone:go left:leave kept:keep broke:break broken:break brought:bring found:find forgot:forget ' +
    'forgotten:forget told:tell sold:sell thought:think held:hold spent:spend chose:choose chosen:choose tore:tear torn:tear ' +
    'shipped:ship stole:steal stolen:steal wrote:write written:write ran:run saw:see seen:see knew:know known:know did:do ' +
    'done:do had:have said:say met:meet fell:fall fallen:fall hid:hide hidden:hide'
  )
    .split(' ')
    .map((p) => p.split(':') as [string, string]),
);

/** Base form → its irregular forms ("pay" → "paid"): the stemmer leaves them apart, so a page's "are paid by" would not meet "pay". */
const INFLECTED = new Map<string, string[]>();
for (const [form, base] of Object.entries(IRREGULAR)) INFLECTED.set(base, [...(INFLECTED.get(base) ?? []), form]);

/** Candidate base forms of a word for a WordNet lookup (a small morphy). */
function baseForms(w: string): string[] {
  const out = new Set([w]);
  if (IRREGULAR[w]) out.add(IRREGULAR[w]);
  const rules: [RegExp, string][] = [
    [/ies$/, 'y'],
    [/ses$/, 's'],
    [/xes$/, 'x'],
    [/ches$/, 'ch'],
    [/shes$/, 'sh'],
    [/s$/, ''],
    [/ied$/, 'y'],
    [/ed$/, 'e'],
    [/ed$/, ''],
    [/ing$/, 'e'],
    [/ing$/, ''],
    [/ly$/, ''],
  ];
  for (const [re, to] of rules) if (re.test(w) && w.length > 4) out.add(w.replace(re, to));
  // A doubled final consonant: "shipped" → "ship".
  for (const b of [...out]) if (/([bdgklmnprt])\1$/.test(b)) out.add(b.slice(0, -1));
  return [...out];
}

// Expansion analyses the same vocabulary for every query (WordNet's synonyms, inflected forms, the lexicon's
// and the tenant's groups): each word or phrase's terms are kept.
const terms = boundedMemo(20_000, (phrase: string): readonly string[] => analyze(phrase));

/** Parses a tenant's synonym groups: "parcel = package = order", one group per entry. */
export function synonymGroups(entries: readonly string[]): (readonly string[])[][] {
  return entries
    .map((e) =>
      e
        .split(/\s*=\s*/)
        .map((m) => terms(m))
        .filter((t) => t.length),
    )
    .filter((g) => g.length >= 2);
}

/** Groups parsed once, with the groups each term is in (in the groups' order), for a list of entries. */
interface IndexedGroups {
  groups: (readonly string[])[][];
  byTerm: Map<string, number[]>;
}
function indexed(entries: readonly string[]): IndexedGroups {
  const groups = synonymGroups(entries);
  const byTerm = new Map<string, number[]>();
  groups.forEach((group, i) => {
    for (const member of group)
      for (const t of member) {
        const at = byTerm.get(t) ?? byTerm.set(t, []).get(t)!;
        if (at[at.length - 1] !== i) at.push(i);
      }
  });
  return { groups, byTerm };
}
// Each tenant's list, by its text: an edited list is a new key, an unchanged one is found in any array. No
// stored string holds NUL (protocol's text()), so joined by it two lists are one key only if they are equal.
const tenantGroups = boundedMemo(1_000, indexed, (entries: readonly string[]) => entries.join('\u0000'));

export interface ExpandOptions {
  /** The tenant's synonym groups, as stored in its settings. */
  synonyms?: readonly string[];
  /** WordNet synonyms (on by default). */
  wordnet?: boolean;
  /** The built-in support vocabulary (on by default). */
  lexicon?: boolean;
}

let lexiconGroups: IndexedGroups | undefined;

// A visitor's numbers tell their case ("bought three weeks ago", "2 items"), a passage's its policy ("valid for
// three years", "within 30 days"): the same number in both is mostly chance, so a number weighs less.
const NUMBER_WEIGHT = 0.3;
const NUMBER_WORDS = new Set(
  'one two three four five six seven eight nine ten eleven twelve fifteen twenty thirty forty fifty hundred thousand first second third'.split(' '),
);
const isNumber = (word: string) => /^\d/.test(word) || NUMBER_WORDS.has(word);

/** The query's terms with weights: its own at 1, expansions below. At most `max` terms, heaviest first. */
export function expandQuery(query: string, opts: ExpandOptions = {}, max = 32): WeightedTerm[] {
  const weights = new Map<string, { weight: number; from?: string }>();
  const add = (term: string, weight: number, from?: string) => {
    if ((weights.get(term)?.weight ?? 0) < weight) weights.set(term, from && from !== term ? { weight, from } : { weight });
  };
  const words = analyzeWords(query);
  for (const { word, term } of words) add(term, isNumber(word) ? NUMBER_WEIGHT : 1);
  for (const { word, term } of words) {
    // The base form of an irregular one, and the irregular forms of its base ("wore" → "wear", "worn").
    const base = IRREGULAR[word] ?? word;
    for (const form of [base, ...(INFLECTED.get(base) ?? [])]) if (form !== word) for (const t of terms(form)) add(t, 1, term);
    // An adverb's adjective, which the stemmer may leave apart: "internationally" is "internation" to it but
    // "international" is "intern"; "quickly" is "quickli", "easily" is "easili".
    if (word.length > 5 && word.endsWith('ly')) {
      const adjective = word.endsWith('ily') ? `${word.slice(0, -3)}y` : word.slice(0, -2);
      for (const t of terms(adjective)) add(t, 1, term);
    }
  }

  const own = new Set(weights.keys());
  const addGroups = ({ groups, byTerm }: IndexedGroups, weight: number) => {
    // Only groups one of the query's terms is in can have a member present, taken in the groups' order.
    const candidates = new Set<number>();
    for (const t of own) for (const i of byTerm.get(t) ?? []) candidates.add(i);
    for (const i of [...candidates].sort((a, b) => a - b)) {
      const group = groups[i]!;
      const present = group.filter((member) => member.every((t) => own.has(t)));
      if (!present.length) continue;
      const from = present[0]![present[0]!.length - 1];
      for (const member of group) for (const t of member) if (!own.has(t)) add(t, weight, from);
    }
  };
  if (opts.synonyms?.length) addGroups(tenantGroups(opts.synonyms), TENANT_SYNONYM_WEIGHT);
  if (opts.lexicon !== false) {
    addGroups((lexiconGroups ??= indexed(SUPPORT_LEXICON)), SUPPORT_LEXICON_WEIGHT);
    for (const { word, term } of words) {
      // One way only: a country reaches its region, a cost word "free", a thing a shop sells "item".
      const wider = COUNTRY_REGION.get(word) ?? COST_ANSWER.get(word) ?? THING_ITEM.get(word);
      if (wider) for (const t of terms(wider)) if (!own.has(t)) add(t, SUPPORT_LEXICON_WEIGHT, term);
    }
    const thing = whereSent(query);
    if (thing) for (const t of terms(WHERE_SENT_ANSWER)) if (!own.has(t)) add(t, SUPPORT_LEXICON_WEIGHT, terms(thing)[0]);
  }

  if (opts.wordnet !== false) {
    // Raw lower-case tokens, stop words included: collocations such as "log in" or "send back" need them.
    const tokens = query.toLowerCase().match(/[a-z]+(?:['’][a-z]+)?/g) ?? [];
    // Each lemma to look up, with the question's term it stands for.
    const lemmas = new Map<string, string>();
    for (let i = 0; i < tokens.length; i++) {
      const cur = words.find((w) => w.word === tokens[i]);
      const next = words.find((w) => w.word === tokens[i + 1]);
      if (i + 1 < tokens.length && (cur || next)) lemmas.set(`${tokens[i]}_${tokens[i + 1]}`, (cur ?? next)!.term);
      if (cur && !FRAMING_WORDS.has(cur.word)) for (const b of baseForms(tokens[i]!)) if (!lemmas.has(b)) lemmas.set(b, cur.term);
    }
    for (const [lemma, from] of lemmas) {
      let n = 0;
      const found = senses(lemma, WORDNET_WEIGHTS.length);
      // Most frequent senses first, across parts of speech.
      for (const s of [...found].sort((a, b) => a.rank - b.rank)) {
        for (const syn of s.words) {
          // Single words only: a collocation's parts ("give" of "give_back") say little alone.
          if (!/^[a-z]+$/.test(syn) || n >= PER_WORD) continue;
          const t = terms(syn);
          if (t.length !== 1 || own.has(t[0]!)) continue;
          add(t[0]!, WORDNET_WEIGHTS[s.rank]!, from);
          n++;
        }
      }
    }
  }
  return [...weights]
    .map(([term, w]) => ({ term, ...w }))
    .sort(byWeight)
    .slice(0, max);
}
