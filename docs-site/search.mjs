// The search index, built with the site: every page's title, headings and text go into a MiniSearch
// index serialized to search-index.json; search.js (MiniSearch's browser build and a small script, one
// file) loads it the first time someone searches. No external service is involved.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { transformSync } from 'esbuild';
import MiniSearch from 'minisearch';

const require = createRequire(import.meta.url);

/** MiniSearch options; search.js must use the same ones to load the index. */
export const SEARCH_OPTIONS = { fields: ['title', 'headings', 'text'], storeFields: ['title', 'section'], idField: 'url' };
/** How the box searches (the browser script and the tests use the same). */
export const QUERY_OPTIONS = { prefix: true, fuzzy: 0.2, boost: { title: 3, headings: 2 }, combineWith: 'AND' };
/**
 * A query's word as the box searches for it: lower case, and none of the little words every page has ("a",
 * "the", "how"), which prefix search would also match at the start of any longer word. Self-contained: its
 * source is shipped to the browser.
 */
export const queryTerm = (term) => {
  const t = term.toLowerCase();
  return /^(?:a|an|the|to|of|in|on|at|by|for|with|and|or|is|are|be|it|i|my|me|we|you|your|how|what|do|does|can)$/.test(t) ? null : t;
};
/** Guides first among near-equals: they explain; the reference pages they link to give the detail. Self-contained: its source is shipped to the browser. */
export const boostGuides = (_id, _term, stored) => (stored && stored.section === 'Guide' ? 2 : 1);

/** The text of HTML entities as the docs' pages write them. */
export const decodeEntities = (s) =>
  s
    .replace(/&#(\d+);/g, (_, n) => String.fromCharCode(Number(n)))
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&amp;/g, '&');
const plain = (html) =>
  decodeEntities(html.replace(/<[^>]+>/g, ' '))
    .replace(/\s+/g, ' ')
    .trim();

/**
 * A page as a search document: its url, title, section (Guide, API, SDK), headings and text (from `<main>`).
 * A guide's whole text, as what a reader looks for may be anywhere in it; a reference page's first 4,000
 * characters, which hold what it is about (the rest is schemas and examples).
 */
export function searchDocument(url, title, section, mainHtml) {
  const headings = [...mainHtml.matchAll(/<h[1-3][^>]*>([\s\S]*?)<\/h[1-3]>/g)].map((m) => plain(m[1])).join(' · ');
  const text = plain(mainHtml);
  return { url, title, section, headings, text: section === 'Guide' ? text : text.slice(0, 4000) };
}

/** The serialized index for documents made by searchDocument. */
export function searchIndex(documents) {
  const mini = new MiniSearch(SEARCH_OPTIONS);
  mini.addAll(documents);
  return JSON.stringify(mini);
}

/** The browser script, minified: MiniSearch's UMD build, the options, then search-client.js. */
export function searchScript() {
  const umd = readFileSync(join(dirname(require.resolve('minisearch')), '../umd/index.js'), 'utf8').replace(/\n\/\/# sourceMappingURL=.*$/m, '');
  const client = readFileSync(new URL('./search-client.js', import.meta.url), 'utf8');
  const source = `${umd}\nvar PARLEY_SEARCH_OPTIONS = ${JSON.stringify(SEARCH_OPTIONS)};\nvar PARLEY_QUERY_OPTIONS = ${JSON.stringify(QUERY_OPTIONS)};\nvar PARLEY_BOOST_DOCUMENT = ${boostGuides.toString()};\nvar PARLEY_QUERY_TERM = ${queryTerm.toString()};\n${client}`;
  const banner = '/*! MiniSearch | MIT License | Copyright 2022 Luca Ongaro | https://github.com/lucaong/minisearch */';
  return transformSync(source, { minify: true, target: 'es2020', legalComments: 'none', banner }).code;
}
