// Attack: knowledge text shaped to make a reader's work explode on the event loop, where every tenant's
// requests wait (a second review found these after the HTML depth fix): a heading line of spaces (a
// 2 KB line held the server 3 s, the work growing with the cube of its length), Markdown whose code fences
// never close (80 KB held it 1.5 s), a sitemap nested 160,000 deep (10 s) or listing 40,000 addresses
// (4 s). Each input here is large enough that the old code would run for minutes; the readers are linear.
import { describe, expect, test } from 'vitest';
import { markdownHeading } from './chunk.js';
import { CrawlError, MAX_SITEMAP_URLS, sitemapUrls } from './crawl.js';
import { stripMarkdownHtml } from './html.js';

describe('Markdown headings', () => {
  test('a heading line of 20,000 spaces reads at once', () => {
    const h = markdownHeading(`# a${' '.repeat(20_000)}b`);
    expect(h?.level).toBe(1);
    expect(h?.text.startsWith('a') && h.text.endsWith('b')).toBe(true);
    expect(markdownHeading(`# a${'#'.repeat(20_000)}b`)?.text).toHaveLength(20_002);
  });

  test('still reads headings as before: closing #s, emphasis, levels', () => {
    expect(markdownHeading('## Refund *timing* ##')).toEqual({ level: 2, text: 'Refund timing' });
    expect(markdownHeading('# C#')).toEqual({ level: 1, text: 'C#' });
    expect(markdownHeading('### Delivery   ')).toEqual({ level: 3, text: 'Delivery' });
    expect(markdownHeading('####### seven')).toBeNull();
    expect(markdownHeading('#hashtag')).toBeNull();
    expect(markdownHeading('# ')).toBeNull();
  });
});

describe('raw HTML in Markdown', () => {
  test('40,000 code fences that never close read at once, as prose', () => {
    const md = '```x\nsome words\n'.repeat(40_000);
    expect(stripMarkdownHtml(md)).toBe(md);
  });

  test('still drops active HTML outside code blocks and keeps it inside', () => {
    const md = 'Before <script>steal()</script> after\n```html\n<script>shown()</script>\n```\n<!-- hidden -->Visible';
    expect(stripMarkdownHtml(md)).toBe('Before  after\n```html\n<script>shown()</script>\n```\nVisible');
  });
});

describe('sitemaps', () => {
  const base = 'https://shop.example/sitemap.xml';
  test('one nested 160,000 deep is refused at once', () => {
    expect(() => sitemapUrls('<a>'.repeat(160_000), base)).toThrow(CrawlError);
  });

  test('one listing 40,000 addresses stops at the cap, each address once', () => {
    const locs = Array.from({ length: 40_000 }, (_, i) => `<url><loc>https://shop.example/p/${i}</loc></url>`).join('');
    const urls = sitemapUrls(`<urlset>${locs}<url><loc>https://shop.example/p/0</loc></url></urlset>`, base);
    expect(urls).toHaveLength(MAX_SITEMAP_URLS);
    expect(new Set(urls).size).toBe(MAX_SITEMAP_URLS);
    const dup = sitemapUrls('<urlset><url><loc>https://shop.example/a</loc></url><url><loc>https://shop.example/a</loc></url></urlset>', base);
    expect(dup).toEqual(['https://shop.example/a']);
  });
});
