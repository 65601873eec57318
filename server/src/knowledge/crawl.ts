// Fetching a page or a sitemap for ingestion, through the outbound module: public destinations only
// (checked on the address connected to, every redirect hop), bounded size and time.
import { Parser } from 'htmlparser2';
import { OutboundError, type Outbound } from '../outbound/outbound.js';

export class CrawlError extends Error {}

const MAX_BYTES = 2 * 1024 * 1024;
export const MAX_SITEMAP_URLS = 200;
const LIMITS = { maxBytes: MAX_BYTES, maxRedirects: 5, timeoutMs: 10_000, redirect: 'follow' } as const;

export async function fetchText(raw: string, outbound: Outbound): Promise<{ url: string; contentType: string; body: string }> {
  try {
    const res = await outbound.fetcher(LIMITS)(raw, { headers: { 'user-agent': 'ParleyBot/1 (+knowledge ingestion)' } });
    if (!res.ok) {
      await res.body?.cancel();
      throw new CrawlError(`the page answered ${res.status}`);
    }
    const contentType = (res.headers.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
    if (!/^(text\/(html|plain|markdown|xml)|application\/(xhtml\+xml|xml))$/.test(contentType)) {
      await res.body?.cancel();
      throw new CrawlError(`unsupported content type ${contentType || 'none'}`);
    }
    return { url: res.url, contentType, body: await res.text() };
  } catch (err) {
    if (err instanceof OutboundError) throw new CrawlError(err.code === 'too_large' ? 'the page is larger than 2 MB' : err.message);
    throw err;
  }
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
