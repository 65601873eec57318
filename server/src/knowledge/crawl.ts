// Fetching a page or a sitemap for ingestion. Every hop (redirects included) is checked: http(s) only,
// no credentials, and outside development https to public addresses only, checked after DNS too.
import { lookup } from 'node:dns/promises';
import { Parser } from 'htmlparser2';
import { isInternalHost } from '../ai/providers/base-url.js';

export class CrawlError extends Error {}

const MAX_BYTES = 2 * 1024 * 1024;
const MAX_REDIRECTS = 5;
const TIMEOUT_MS = 10_000;
export const MAX_SITEMAP_URLS = 200;

async function checkUrl(raw: string, env: string): Promise<URL> {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new CrawlError('not an absolute URL');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new CrawlError('only http(s) URLs can be crawled');
  if (url.username || url.password) throw new CrawlError('URLs with credentials are refused');
  if (env !== 'development') {
    if (url.protocol !== 'https:') throw new CrawlError('only https URLs can be crawled');
    if (isInternalHost(url.hostname)) throw new CrawlError('internal hosts cannot be crawled');
    const addresses = await lookup(url.hostname, { all: true }).catch(() => []);
    if (!addresses.length || addresses.some((a) => isInternalHost(a.address))) throw new CrawlError('the host does not resolve to a public address');
  }
  return url;
}

/**
 * With `maxBytes`, a page longer than that is refused, or with `cut` kept up to that many bytes
 * (`truncated` says so): crawls bound what one page may add.
 */
export async function fetchText(
  raw: string,
  env: string,
  opts: { maxBytes?: number; cut?: boolean } = {},
): Promise<{ url: string; contentType: string; body: string; truncated?: boolean }> {
  const maxBytes = opts.maxBytes ?? MAX_BYTES;
  let url = await checkUrl(raw, env);
  for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
    const res = await fetch(url, { redirect: 'manual', signal: AbortSignal.timeout(TIMEOUT_MS), headers: { 'user-agent': 'ParleyBot/1 (+knowledge ingestion)' } });
    if (res.status >= 300 && res.status < 400 && res.headers.get('location')) {
      url = await checkUrl(new URL(res.headers.get('location')!, url).href, env);
      continue;
    }
    if (!res.ok) throw new CrawlError(`the page answered ${res.status}`);
    const contentType = (res.headers.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
    if (!/^(text\/(html|plain|markdown|xml)|application\/(xhtml\+xml|xml))$/.test(contentType)) throw new CrawlError(`unsupported content type ${contentType || 'none'}`);
    const reader = res.body!.getReader();
    const parts: Uint8Array[] = [];
    let size = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.length;
      if (size > maxBytes) {
        await reader.cancel();
        if (!opts.cut) throw new CrawlError(`the page is larger than ${maxBytes === MAX_BYTES ? '2 MB' : `${maxBytes} bytes`}`);
        parts.push(value.subarray(0, value.length - (size - maxBytes)));
        // Cut on a character boundary: a partial UTF-8 sequence at the end decodes to U+FFFD.
        return { url: url.href, contentType, body: Buffer.concat(parts).toString('utf8').replace(/\uFFFD$/, ''), truncated: true };
      }
      parts.push(value);
    }
    return { url: url.href, contentType, body: Buffer.concat(parts).toString('utf8') };
  }
  throw new CrawlError('too many redirects');
}

/** Page URLs of a sitemap, same origin only. */
export function sitemapUrls(xml: string, base: string): string[] {
  const origin = new URL(base).origin;
  const out: string[] = [];
  let inLoc = false;
  let current = '';
  const parser = new Parser(
    {
      onopentag: (name) => {
        inLoc = name === 'loc';
        current = '';
      },
      ontext: (t) => {
        if (inLoc) current += t;
      },
      onclosetag: (name) => {
        if (name === 'loc') {
          inLoc = false;
          try {
            const u = new URL(current.trim());
            if (u.origin === origin && !out.includes(u.href)) out.push(u.href);
          } catch {
            /* not a URL */
          }
        }
      },
    },
    { xmlMode: true },
  );
  parser.write(xml);
  parser.end();
  return out.slice(0, MAX_SITEMAP_URLS);
}
