// Fetching a page or a sitemap for ingestion, through the outbound module: public destinations only
// (checked on the address connected to, every redirect hop), bounded size and time.
import { MAX_URL_CHARS } from '@parley/protocol';
import { Parser } from 'htmlparser2';
import { OutboundError, type Outbound } from '../outbound/outbound.js';
import { MAX_ROBOTS_BYTES, parseRobots, type RobotsRules } from './robots.js';

export class CrawlError extends Error {
  /** The HTTP status, when the server answered with an error. */
  status?: number;
  /** The address could not be reached (refused, timed out, no such host): worth checking and trying again. */
  unreachable?: boolean;
}

/** The product token robots.txt groups name; sent in the User-Agent of every crawl request. */
export const CRAWLER_TOKEN = 'ParleyBot';
const USER_AGENT = `${CRAWLER_TOKEN}/1 (+knowledge ingestion)`;

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
  opts: { maxBytes?: number; cut?: boolean; sameOrigin?: boolean; anyType?: boolean; robots?: RobotsRules } = {},
): Promise<{ url: string; contentType: string; body: string; truncated?: boolean }> {
  const maxBytes = opts.maxBytes ?? MAX_BYTES;
  try {
    const robots = opts.robots;
    const limits = {
      ...LIMITS,
      maxBytes: opts.cut ? HARD_MAX_BYTES : maxBytes,
      sameOrigin: opts.sameOrigin ?? false,
      // A redirect within the site is held to robots.txt as the listed address was.
      ...(robots ? { refuseHop: (next: URL) => (robots(next.pathname + next.search) ? null : `robots.txt disallows ${next.pathname}`) } : {}),
    };
    const res = await outbound.fetcher(limits)(raw, { headers: { 'user-agent': USER_AGENT } });
    if (!res.ok) {
      await res.body?.cancel();
      throw Object.assign(new CrawlError(`the page answered ${res.status}`), { status: res.status });
    }
    // The address a page is stored under is held to the API's URL limit, however many redirects led there.
    if (res.url.length > MAX_URL_CHARS) {
      await res.body?.cancel();
      throw new CrawlError(`the page's address is longer than ${MAX_URL_CHARS} characters`);
    }
    const contentType = (res.headers.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
    if (!opts.anyType && !/^(text\/(html|plain|markdown|xml)|application\/(xhtml\+xml|xml))$/.test(contentType)) {
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
      throw Object.assign(
        new CrawlError(err.code === 'too_large' ? `the page is larger than ${mb(opts.cut ? HARD_MAX_BYTES : maxBytes)}` : err.message),
        { unreachable: err.code === 'network' || err.code === 'timeout' || err.code === 'unresolved' },
      );
    throw err;
  }
}

/** A sitemap nests three elements deep; far deeper is an attack on the parser (see MAX_HTML_DEPTH). */
const MAX_SITEMAP_DEPTH = 16;
class Enough extends Error {}

/** Skipped addresses kept to report (the rest are counted). */
const MAX_SKIPPED_KEPT = 10;
/** The sitemaps of a sitemap index read, at most (each is one more fetch before the first page). */
export const MAX_NESTED_SITEMAPS = 20;

export interface SitemapRead {
  /** A <sitemapindex>: its <loc>s name sitemaps, not pages. */
  index: boolean;
  /** Page URLs (or, in an index, sitemap URLs) of the given origin, at most {@link MAX_SITEMAP_URLS}. */
  locs: string[];
  /** <loc>s of other origins: the first few (the caller reports those of an index), and how many. */
  foreign: { kept: string[]; count: number };
  /** Same-origin addresses longer than the API's URL limit: the first few, and how many in all. */
  tooLong: { kept: string[]; count: number };
}

/** Page URLs of a sitemap, same origin only. */
export function sitemapUrls(xml: string, base: string): string[] {
  return readSitemap(xml, base).locs;
}

/** Reads one sitemap or sitemap index; only <loc>s of `base`'s origin are taken. */
export function readSitemap(xml: string, base: string): SitemapRead {
  const origin = new URL(base).origin;
  // A Set, and a stop at the cap: a list's includes() made 40,000 <loc>s quadratic.
  const out = new Set<string>();
  const tooLong = { kept: [] as string[], count: 0 };
  const foreign = { kept: [] as string[], count: 0 };
  let index: boolean | null = null;
  let depth = 0;
  let inLoc = false;
  let current = '';
  const local = (name: string) => name.slice(name.indexOf(':') + 1);
  const parser = new Parser(
    {
      onopentag: (name) => {
        if (++depth > MAX_SITEMAP_DEPTH) throw new CrawlError(`The sitemap nests elements more than ${MAX_SITEMAP_DEPTH} deep.`);
        index ??= local(name) === 'sitemapindex';
        inLoc = local(name) === 'loc';
        current = '';
      },
      ontext: (t) => {
        if (inLoc) current += t;
      },
      onclosetag: (name) => {
        depth--;
        if (local(name) !== 'loc') return;
        inLoc = false;
        try {
          const u = new URL(current.trim());
          // Another site's <loc> is left out; one whose address the API would refuse is skipped and reported.
          if (u.origin !== origin) {
            if (foreign.count++ < MAX_SKIPPED_KEPT) foreign.kept.push(u.href.slice(0, MAX_URL_CHARS));
          } else if (u.href.length > MAX_URL_CHARS) {
            if (tooLong.count++ < MAX_SKIPPED_KEPT) tooLong.kept.push(u.href);
          } else out.add(u.href);
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
  return { index: index ?? false, locs: [...out], foreign, tooLong };
}

/** A failure of the page or the network, reported where it happened, rather than a bug. */
export function fetchFailure(err: unknown): boolean {
  return err instanceof CrawlError || (err as Error).name === 'TimeoutError' || (err as Error).name === 'AbortError' || err instanceof TypeError;
}

/**
 * The robots.txt rules of `origin` for {@link CRAWLER_TOKEN}. As RFC 9309 says: an answer of 4xx (none there)
 * allows everything; one that cannot be had (5xx, the network) allows nothing, so the crawl stops with why.
 */
export async function robotsFor(origin: string, outbound: Outbound): Promise<RobotsRules> {
  try {
    const res = await fetchText(`${origin}/robots.txt`, outbound, { maxBytes: MAX_ROBOTS_BYTES, cut: true, anyType: true });
    return parseRobots(res.body, CRAWLER_TOKEN);
  } catch (err) {
    if (err instanceof CrawlError && err.status !== undefined && err.status >= 400 && err.status < 500) return () => true;
    if (!fetchFailure(err)) throw err;
    throw new CrawlError(`Could not read ${origin}/robots.txt (${(err as Error).message}); nothing is crawled while it cannot be read.`);
  }
}

export interface CrawlNote {
  url: string | null;
  message: string;
}

export interface SitemapListing {
  /** The pages to crawl, in the sitemap's order: of the submitted URL's origin, allowed by its robots.txt. */
  pages: string[];
  /** What was skipped, and why, for the job's errors. */
  notes: CrawlNote[];
  /** Why there is nothing to crawl, when there is not. */
  failure: string | null;
  /** The site's robots.txt rules, once read (its pages' redirects are held to them too). */
  robots?: RobotsRules;
}

/**
 * The pages a sitemap crawl takes. The site is the submitted URL's origin, wherever the sitemap's own
 * redirects lead; a sitemap index is read one level deep (its sitemaps on that origin only, each fetched
 * without leaving it); robots.txt is honoured. `renew` is called before each further fetch (the job's lease).
 * Throws a CrawlError when the sitemap or robots.txt cannot be read.
 */
export async function listSitemap(url: string, outbound: Outbound, renew: () => Promise<void> = async () => {}): Promise<SitemapListing> {
  const origin = new URL(url).origin;
  const notes: CrawlNote[] = [];
  const noteTooLong = ({ tooLong }: SitemapRead) => {
    for (const u of tooLong.kept) {
      notes.push({
        url: null,
        message: `A listed address of ${u.length} characters was skipped (longer than ${MAX_URL_CHARS}): ${u.slice(0, 100)}…`,
      });
    }
    if (tooLong.count > tooLong.kept.length) {
      notes.push({
        url: null,
        message: `${tooLong.count - tooLong.kept.length} more listed addresses longer than ${MAX_URL_CHARS} characters were skipped.`,
      });
    }
  };
  let map: Awaited<ReturnType<typeof fetchText>>;
  try {
    map = await fetchText(url, outbound);
  } catch (err) {
    if (!fetchFailure(err)) throw err;
    throw new CrawlError(`Could not fetch the sitemap: ${(err as Error).message}`);
  }
  const top = readSitemap(map.body, origin);
  noteTooLong(top);
  let pages = top.locs;
  if (top.index) {
    for (const u of top.foreign.kept) notes.push({ url: u, message: `A sitemap not on the sitemap's site (${origin}) was skipped.` });
    const found = new Set<string>();
    const nested = top.locs.slice(0, MAX_NESTED_SITEMAPS);
    if (top.locs.length > nested.length) {
      notes.push({ url: null, message: `The sitemap index lists ${top.locs.length} sitemaps; the first ${nested.length} are read.` });
    }
    for (const sitemap of nested) {
      if (found.size >= MAX_SITEMAP_URLS) break;
      await renew();
      try {
        const read = readSitemap((await fetchText(sitemap, outbound, { sameOrigin: true })).body, origin);
        if (read.index) {
          notes.push({ url: sitemap, message: 'This sitemap index is inside another; only one level of sitemap index is read.' });
          continue;
        }
        noteTooLong(read);
        for (const page of read.locs) if (found.size < MAX_SITEMAP_URLS) found.add(page);
      } catch (err) {
        if (!fetchFailure(err)) throw err;
        notes.push({ url: sitemap, message: `Could not fetch this sitemap: ${(err as Error).message}` });
      }
    }
    pages = [...found];
  }
  if (!pages.length) {
    const landed = new URL(map.url).origin;
    const moved = landed === origin ? '' : `; it was redirected to ${landed}, whose pages are not taken: submit the sitemap there`;
    return { pages, notes, failure: `The sitemap lists no page of its own site (${origin})${moved}.` };
  }
  await renew();
  const allowed = await robotsFor(origin, outbound);
  const disallowed = pages.filter((p) => {
    const u = new URL(p);
    return !allowed(u.pathname + u.search);
  });
  if (disallowed.length) {
    const n = disallowed.length;
    const named = disallowed.slice(0, 3).join(', ') + (n > 3 ? ', …' : '');
    notes.push({
      url: null,
      message: `${origin}/robots.txt disallows ${n} listed page${n === 1 ? '' : 's'} to ${CRAWLER_TOKEN}; ${n === 1 ? 'it is' : 'they are'} not crawled: ${named}`,
    });
    const skip = new Set(disallowed);
    pages = pages.filter((p) => !skip.has(p));
    if (!pages.length) return { pages, notes, failure: `${origin}/robots.txt disallows every page the sitemap lists.`, robots: allowed };
  }
  return { pages, notes, failure: null, robots: allowed };
}
