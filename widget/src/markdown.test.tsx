import { render } from 'preact';
import { describe, expect, test } from 'vitest';
import { Markdown, safeHref } from './markdown.js';

function html(text: string, citations: { title: string; url: string | null; chunkId: string }[] = []) {
  const el = document.createElement('div');
  render(<Markdown text={text} citations={citations} />, el);
  return el;
}

describe('safe Markdown', () => {
  test('raw HTML stays text', () => {
    const el = html('<img src=x onerror="alert(1)"> <script>alert(2)</script> **bold**');
    expect(el.querySelector('img,script')).toBeNull();
    expect(el.textContent).toContain('<img src=x onerror="alert(1)">');
    expect(el.querySelector('strong')?.textContent).toBe('bold');
  });

  test.each([
    'javascript:alert(1)',
    'JaVaScRiPt:alert(1)',
    'data:text/html,<script>x</script>',
    'vbscript:x',
    'file:///etc/passwd',
    '//evil.example/x',
    ' javascript:alert(1)',
  ])('a %s link is not a link', (href) => {
    const el = html(`[click](${href})`);
    expect(el.querySelector('a')).toBeNull();
    expect(el.textContent).toContain('click');
  });

  test('a refused address holding parentheses leaves its link text, not the rest of the address', () => {
    const el = html('[click](javascript:alert(3)) [data](data:text/html,<script>alert(1)</script>) end');
    expect(el.querySelector('a')).toBeNull();
    expect(el.textContent).toBe('click data end');
    // An allowed one keeps its parentheses.
    expect(html('[tent](https://en.wikipedia.org/wiki/Tent_(disambiguation)).').querySelector('a')!.getAttribute('href')).toBe(
      'https://en.wikipedia.org/wiki/Tent_(disambiguation)',
    );
  });

  test('http, https and mailto links open safely', () => {
    const el = html('[docs](https://example.com/a) and [mail](mailto:help@example.com)');
    const links = [...el.querySelectorAll('a')];
    expect(links.map((a) => a.getAttribute('href'))).toEqual(['https://example.com/a', 'mailto:help@example.com']);
    for (const a of links) {
      expect(a.getAttribute('rel')).toBe('noopener noreferrer');
      expect(a.getAttribute('target')).toBe('_blank');
    }
    expect(safeHref('https://example.com')).toBe('https://example.com/');
  });

  test('citations link to their sources; unknown or unsafe ones stay text', () => {
    const el = html('Refunds take 5 days [1]. Also [2] and [3].', [
      { title: 'Refunds', url: 'https://help.example/refunds#timing', chunkId: 'c1' },
      { title: 'Evil', url: 'javascript:alert(1)', chunkId: 'c2' },
    ]);
    const cites = [...el.querySelectorAll('a.cite')];
    expect(cites.map((a) => a.getAttribute('href'))).toEqual(['https://help.example/refunds#timing']);
    expect(el.textContent).toContain('[2]');
    expect(el.textContent).toContain('[3]');
  });

  test('lists, code and paragraphs', () => {
    const el = html('Steps:\n\n1. Sign in\n2. Open **Orders**\n\n```\n<b>not html</b>\n```\n\n- a `code` span');
    expect(el.querySelectorAll('ol li')).toHaveLength(2);
    expect(el.querySelector('pre code')?.textContent).toBe('<b>not html</b>');
    expect(el.querySelector('ul li code')?.textContent).toBe('code');
  });
  test('nested tricks stay inert', () => {
    const el = html(
      '**[x](javascript:alert(1))** [a](javascript&#58;alert(1)) [b](jav\tascript:alert(1)) `[c](https://ok.example)` [<img src=x onerror=alert(1)>](https://ok.example/y) [[1]](https://ok.example/z)',
      [{ title: 'T', url: 'https://cite.example', chunkId: 'k' }],
    );
    const hrefs = [...el.querySelectorAll('a')].map((a) => a.getAttribute('href'));
    expect(hrefs.every((h) => /^https:\/\/(ok|cite)\.example/.test(h!))).toBe(true);
    expect(el.querySelector('img,script,[onerror]')).toBeNull();
    expect(el.querySelector('code')!.textContent).toBe('[c](https://ok.example)');
    expect(el.querySelector('a a')).toBeNull();
    expect(el.querySelector('strong a')).toBeNull();
  });
});
