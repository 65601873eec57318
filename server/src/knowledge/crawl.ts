// Fetching a page or a sitemap for ingestion, through the outbound module: public destinations only
// (checked on the address connected to, every redirect hop), bounded size and time.
import { MAX_URL_CHARS } from '@parley/protocol';
import { Parser } from 'htmlparser2';
import { OutboundError, type Outbound } from '../outbound/outbound.js';

export class CrawlError extends Error {}

const MAX_BYTES = 2 * 1024 * 1024;
/** What a page may declare or send at all, even when it is cut to a smaller bound. */
const HARD_MAX_BYTES = 50 * 1024 * 1024;
export const MAX_SITEMAP_URLS = 200;
const LIMITS = { maxRedirects: 5, timeoutMs: 10_000, redirect: 'follow' } as const;
/**
 * C0 control characters other than tab and line breaks: NUL is refused by PostgreSQL text (and by the API's
 * own string checks), the others mean nothing in a page's prose. Dropped from what a page sends.
 */
const CONTROL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F]/g;
export const dropControls = (s: string) => s.replace(CONTROL, '');

const mb = (n: number) => (n % (1024 * 1024) === 0 ? `${n / (1024 * 1024)} MB` : `${n} bytes`);

/**
 * A page through the outbound module. With `maxBytes`, a longer page is refused, or with `cut` kept up to
 * that many bytes (`truncated` says so): crawls bound what one page may add.
 */
export async function fetchText(
  raw: string,
  outbound: Outbound,
  opts: { maxBytes?: number; cut?: boolean } = {},
): Promise<{ url: string; contentType: string; body: string; truncated?: boolean }> {
  const maxBytes = opts.maxBytes ?? MAX_BYTES;
  try {
    const res = await outbound.fetcher({ ...LIMITS, maxBytes: opts.cut ? HARD_MAX_BYTES : maxBytes })(raw, {
      headers: { 'user-agent': 'ParleyBot/1 (+knowledge ingestion)' },
    });
    if (!res.ok) {
      await res.body?.cancel();
      throw new CrawlError(`the page answered ${res.status}`);
    }
    // The address a page is stored under is held to the API's URL limit, however many redirects led there.
    if (res.url.length > MAX_URL_CHARS) {
      await res.body?.cancel();
      throw new CrawlError(`the page's address is longer than ${MAX_URL_CHARS} characters`);
    }
    const contentType = (res.headers.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
    if (!/^(text\/(html|plain|markdown|xml)|application\/(xhtml\+xml|xml))$/.test(contentType)) {
      await res.body?.cancel();
      throw new CrawlError(`unsupported content type ${contentType || 'none'}`);
    }
    const reader = res.body!.getReader();
    const parts: Uint8Array[] = [];
    let size = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.length;
      if (size > maxBytes) {
        await reader.cancel();
        if (!opts.cut) throw new CrawlError(`the page is larger than ${mb(maxBytes)}`);
        parts.push(value.subarray(0, value.length - (size - maxBytes)));
        // Cut on a character boundary: a partial UTF-8 sequence at the end decodes to U+FFFD.
        return {
          url: res.url,
          contentType,
          body: dropControls(
            Buffer.concat(parts)
              .toString('utf8')
              .replace(/\uFFFD$/, ''),
          ),
          truncated: true,
        };
      }
      parts.push(value);
    }
    return { url: res.url, contentType, body: dropControls(Buffer.concat(parts).toString('utf8')) };
  } catch (err) {
    if (err instanceof OutboundError)
      throw new CrawlError(err.code === 'too_large' ? `the page is larger than ${mb(opts.cut ? HARD_MAX_BYTES : maxBytes)}` : err.message);
    throw err;
  }
}

/** A sitemap nests three elements deep; far deeper is an attack on the parser (see MAX_HTML_DEPTH). */
const MAX_SITEMAP_DEPTH = 16;
class Enough extends Error {}

/** Skipped addresses kept to report (the rest are counted). */
const MAX_SKIPPED_KEPT = 10;

export interface SitemapRead {
  /** Page URLs of the sitemap's own origin, at most {@link MAX_SITEMAP_URLS}. */
  pages: string[];
  /** Same-origin addresses longer than the API's URL limit: the first few, and how many in all. */
  tooLong: { kept: string[]; count: number };
}

/** Page URLs of a sitemap, same origin only. */
export function sitemapUrls(xml: string, base: string): string[] {
  return readSitemap(xml, base).pages;
}

export function readSitemap(xml: string, base: string): SitemapRead {
  const origin = new URL(base).origin;
  // A Set, and a stop at the cap: a list's includes() made 40,000 <loc>s quadratic.
  const out = new Set<string>();
  const tooLong = { kept: [] as string[], count: 0 };
  let depth = 0;
  let inLoc = false;
  let current = '';
  const parser = new Parser(
    {
      onopentag: (name) => {
        if (++depth > MAX_SITEMAP_DEPTH) throw new CrawlError(`The sitemap nests elements more than ${MAX_SITEMAP_DEPTH} deep.`);
        inLoc = name === 'loc';
        current = '';
      },
      ontext: (t) => {
        if (inLoc) current += t;
      },
      onclosetag: (name) => {
        depth--;
        if (name !== 'loc') return;
        inLoc = false;
        try {
          const u = new URL(current.trim());
          // Another site's page is left out; one whose address the API would refuse is skipped and reported.
          if (u.origin === origin && u.href.length > MAX_URL_CHARS) {
            if (tooLong.count++ < MAX_SKIPPED_KEPT) tooLong.kept.push(u.href);
          } else if (u.origin === origin) out.add(u.href);
        } catch {
          /* not a URL */
        }
        if (out.size >= MAX_SITEMAP_URLS) throw new Enough();
      },
    },
    { xmlMode: true },
  );
  try {
    parser.write(xml);
    parser.end();
  } catch (err) {
    if (!(err instanceof Enough)) throw err;
  }
  return { pages: [...out], tooLong };
}
