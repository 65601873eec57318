// The "build" of a page without a build step: check that index.html embeds the widget the way its loader
// reads the tag (one loader.js script, async, a publishable key, only data-* options it knows, with
// values it accepts) and that page.js uses only the widget's commands and events.
import { readFileSync } from 'node:fs';

const html = readFileSync(new URL('index.html', import.meta.url), 'utf8');
const js = readFileSync(new URL('page.js', import.meta.url), 'utf8');
const problems = [];

// What the loader reads from its tag (widget/src/options.ts) and what each value must look like.
const OPTIONS = {
  'data-key': /^pk_(test|live)_\S+$/,
  'data-api': /^https?:\/\/[^/\s]+$/,
  'data-position': /^bottom-(left|right)$/,
  'data-accent': /^#[0-9a-f]{6}$/i,
  'data-text': /^.{1,60}$/,
  'data-locale': /^(auto|[a-z]{2}(-[A-Za-z]{2})?)$/,
  'data-theme': /^(light|dark|auto)$/,
  'data-z-index': /^-?\d+$/,
  'data-open': /^(true|false)$/,
  'data-nonce': /^\S+$/,
};
const COMMANDS = new Set(['open', 'close', 'toggle', 'identify', 'on', 'shutdown']);
const EVENTS = new Set(['open', 'close', 'message', 'identify', 'error']);

const scripts = [...html.matchAll(/<script\b([^>]*)>\s*<\/script>/g)].map((m, i) => ({
  i,
  attrs: Object.fromEntries([...m[1].matchAll(/([\w-]+)(?:="([^"]*)")?/g)].map((a) => [a[1], a[2] ?? ''])),
}));
if (/<script\b(?![^>]*\bsrc=)[^>]*>/.test(html))
  problems.push('an inline <script>: keep script in files so a strict script-src needs no unsafe-inline');
const loaders = scripts.filter((s) => /\/loader\.js$/.test(s.attrs.src ?? ''));
if (loaders.length !== 1) problems.push(`expected exactly one loader.js script tag, found ${loaders.length}`);
const loader = loaders[0];
if (loader) {
  if (!/^https?:\/\/[^/]+\/loader\.js$/.test(loader.attrs.src))
    problems.push(`loader.js must be loaded from the Parley origin, not ${loader.attrs.src}`);
  if (!('async' in loader.attrs)) problems.push('the loader tag must be async: it must not hold up the page');
  if (!('data-key' in loader.attrs)) problems.push('the loader tag needs data-key (the publishable key)');
  for (const [name, value] of Object.entries(loader.attrs)) {
    if (!name.startsWith('data-')) continue;
    if (!(name in OPTIONS)) problems.push(`${name} is not an option the loader reads`);
    else if (!OPTIONS[name].test(value)) problems.push(`${name}="${value}" is not a value the loader accepts`);
  }
}
const pageScript = scripts.find((s) => s.attrs.src === 'page.js');
if (!pageScript) problems.push('page.js is not loaded');

for (const m of js.matchAll(/\bParley\(\s*'([^']*)'(?:\s*,\s*'([^']*)')?/g)) {
  if (!COMMANDS.has(m[1])) problems.push(`Parley('${m[1]}') is not a widget command`);
  if (m[1] === 'on' && !EVENTS.has(m[2])) problems.push(`Parley('on', '${m[2]}') is not a widget event`);
}
if (!/window\.Parley\s*=\s*window\.Parley\s*\|\|/.test(js))
  problems.push('page.js must keep an existing window.Parley and queue commands until the widget loads');

if (problems.length) {
  for (const p of problems) console.error(`index.html: ${p}`);
  process.exit(1);
}
console.log('index.html embeds the widget as the loader expects');
