// Licence check: every third-party package the lockfile installs (on any platform, dev or not) must carry a
// licence from ALLOWED, or be an EXCEPTION listed by name with its reason: dev-only, or shipped when its
// package.json names no licence but its LICENSE file grants an allowed one. Run: npm run licences.
import { existsSync, readFileSync } from 'node:fs';

// Permissive licences. Beyond MIT, Apache-2.0, BSD and ISC: 0BSD and MIT-0 are those licences minus the
// attribution condition, and BlueOak-1.0.0 is a permissive licence with an explicit patent grant.
const ALLOWED = new Set(['MIT', 'Apache-2.0', 'BSD-2-Clause', 'BSD-3-Clause', 'ISC', '0BSD', 'MIT-0', 'BlueOak-1.0.0']);

// Packages outside ALLOWED that are only ever installed for development (never in what Parley ships), and
// shipped ones (`grants`) whose installed LICENSE file must open with the line named.
const EXCEPTIONS = {
  // PDFKit's PNG decoder (evidence packs' report.pdf: pdfkit → png-js). Its package.json names no licence; its
  // LICENSE file is the MIT licence.
  'png-js': { licence: undefined, grants: 'MIT License' },
  // Vite's CSS transformer (vitest → vite), and its per-platform binaries lightningcss-<platform>. MPL-2.0 is
  // file-level copyleft: using it unmodified as a build tool puts no condition on our code.
  lightningcss: { licence: 'MPL-2.0', platforms: true },
  // SHA-256 for standardwebhooks, which tests and benchmarks use to check our signatures; public-domain dedication.
  'fast-sha256': { licence: 'Unlicense' },
  // koa's property picker (test OpenID Provider: oidc-provider → koa). Its package.json names no licence; its
  // Readme grants the MIT licence.
  only: { licence: undefined },
  // Browser-support data that Next.js's build reads (examples/nextjs-app only). CC-BY-4.0 asks for attribution of
  // the data; no code of it reaches what Parley ships.
  'caniuse-lite': { licence: 'CC-BY-4.0', onlyVia: ['next'] },
  // The command-line parser of js-yaml (API Documenter, which generates the SDK reference for the docs build).
  // The PSF licence is permissive (OSI-approved), just not on our short list.
  argparse: { licence: 'Python-2.0' },
};

/** True when an SPDX expression is satisfied by ALLOWED: any side of an OR, every side of an AND. */
function allowed(expr) {
  const e = expr.trim().replace(/^\((.*)\)$/, '$1');
  if (/ OR /i.test(e)) return e.split(/ OR /i).some(allowed);
  if (/ AND /i.test(e)) return e.split(/ AND /i).every(allowed);
  return ALLOWED.has(e);
}

function exceptionFor(name, entry) {
  if (Object.hasOwn(EXCEPTIONS, name)) return EXCEPTIONS[name];
  const base = Object.keys(EXCEPTIONS).find((n) => EXCEPTIONS[n].platforms && name.startsWith(`${n}-`));
  return base && entry.os ? EXCEPTIONS[base] : undefined;
}

const lock = JSON.parse(readFileSync(new URL('../package-lock.json', import.meta.url), 'utf8'));

/**
 * For an exception installed by an example app (`onlyVia`): every package that depends on it is one of those
 * named, and each of them is depended on only by the examples' private workspaces (never published).
 */
function exampleOnly(name, exception) {
  if (!exception.onlyVia) return false;
  const dependents = (dep) =>
    Object.entries(lock.packages)
      .filter(([, e]) => ({ ...e.dependencies, ...e.optionalDependencies, ...e.peerDependencies })[dep])
      .map(([p]) => p);
  return dependents(name).every((p) => {
    const via = p.slice(p.lastIndexOf('node_modules/') + 'node_modules/'.length);
    return exception.onlyVia.includes(via) && dependents(via).every((w) => w.startsWith('examples/'));
  });
}
/** For a shipped exception: its installed LICENSE file opens with the licence it is said to grant. */
function grantedByFile(path, exception) {
  const file = new URL(`../${path}/LICENSE`, import.meta.url);
  return Boolean(exception.grants) && existsSync(file) && readFileSync(file, 'utf8').split('\n')[0].trim() === exception.grants;
}
const failures = [];
const excepted = new Map();
let checked = 0;
for (const [path, entry] of Object.entries(lock.packages)) {
  // The root and the workspaces are Parley itself (Apache-2.0); links point at workspaces.
  if (!path.includes('node_modules/') || entry.link) continue;
  checked++;
  const name = path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length);
  const licence = typeof entry.license === 'string' ? entry.license : undefined;
  if (licence && allowed(licence)) continue;
  const exception = exceptionFor(name, entry);
  const id = `${name}@${entry.version} (${licence ?? 'no licence declared'})`;
  if (exception && exception.licence === licence && (entry.dev || exampleOnly(name, exception) || grantedByFile(path, exception)))
    excepted.set(exception.grants ? `${id}, LICENSE: ${exception.grants}` : id, true);
  else if (exception?.grants) failures.push(`${id}: its LICENSE file does not open with "${exception.grants}"`);
  else if (exception && !entry.dev) failures.push(`${id}: listed as a dev-only exception, but installed for production`);
  else failures.push(`${id}: not an allowed licence`);
}

console.log(`${checked} packages checked; allowed: ${[...ALLOWED].join(', ')}`);
if (excepted.size) console.log(`exceptions (${excepted.size}):\n  ${[...excepted.keys()].join('\n  ')}`);
if (failures.length) {
  console.error(`\n${failures.length} package(s) fail the licence check:\n  ${failures.join('\n  ')}`);
  process.exit(1);
}
