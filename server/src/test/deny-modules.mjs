// `node --import` this file to make loading any package named in PARLEY_TEST_DENY_MODULES (comma-separated;
// a package's subpaths too) fail: proves a process never loads them.
import { register } from 'node:module';

register(
  `data:text/javascript,${encodeURIComponent(`
const denied = (process.env.PARLEY_TEST_DENY_MODULES ?? '').split(',').filter(Boolean);
export async function resolve(specifier, context, next) {
  if (denied.some((d) => specifier === d || specifier.startsWith(d + '/'))) throw new Error('a denied module was loaded: ' + specifier);
  return next(specifier, context);
}`)}`,
);
