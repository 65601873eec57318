// An accessibility audit of a page as Chromium draws it, shadow roots included: the axe rules our UI
// has tripped on (color-contrast, landmark-no-duplicate-banner/contentinfo) and a few cheap ones
// (button-name, link-name, label, duplicate-id, aria-hidden-focus, link-in-text-block,
// scrollable-region-focusable). axe-core itself
// is MPL-2.0, outside the licences this project takes, so these are our own: the same WCAG 2 formulas
// (relative luminance, 4.5:1 for text, 3:1 for large text) over computed styles.
import type { Page } from 'playwright-core';

export interface Finding {
  rule: string;
  /** What it is about: a tag, its classes and the start of its text. */
  target: string;
  detail: string;
}

/** The findings on the page now; [] is a pass. */
export function audit(p: Page): Promise<Finding[]> {
  return p.evaluate(() => {
    const findings: { rule: string; target: string; detail: string }[] = [];
    type RGBA = [number, number, number, number];

    // Computed colours come as rgb()/rgba(), or color(srgb …) for color-mix() results.
    const parse = (c: string): RGBA | null => {
      let m = /^rgba?\(([\d.]+),\s*([\d.]+),\s*([\d.]+)(?:,\s*([\d.]+))?\)$/.exec(c);
      if (m) return [+m[1]!, +m[2]!, +m[3]!, m[4] === undefined ? 1 : +m[4]];
      m = /^color\(srgb ([\d.e-]+) ([\d.e-]+) ([\d.e-]+)(?: \/ ([\d.]+))?\)$/.exec(c);
      if (m) return [+m[1]! * 255, +m[2]! * 255, +m[3]! * 255, m[4] === undefined ? 1 : +m[4]];
      return null;
    };
    const over = (top: RGBA, under: RGBA): RGBA => {
      const a = top[3] + under[3] * (1 - top[3]);
      if (!a) return [0, 0, 0, 0];
      const mix = (i: number) => (top[i]! * top[3] + under[i]! * under[3] * (1 - top[3])) / a;
      return [mix(0), mix(1), mix(2), a];
    };
    const lum = ([r, g, b]: RGBA) => {
      const ch = (v: number) => {
        const s = v / 255;
        return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
      };
      return 0.2126 * ch(r) + 0.7152 * ch(g) + 0.0722 * ch(b);
    };
    const ratio = (a: RGBA, b: RGBA) => {
      const [x, y] = [lum(a), lum(b)].sort((m, n) => n - m);
      return (x! + 0.05) / (y! + 0.05);
    };
    const parentOf = (el: Element): Element | null => el.parentElement ?? ((el.parentNode as ShadowRoot | null)?.host ?? null);
    const describe = (el: Element) =>
      `${el.tagName.toLowerCase()}${el.classList.length ? `.${[...el.classList].join('.')}` : ''} "${(el.textContent ?? '').trim().slice(0, 40)}"`;

    // Every element, light DOM and open shadow roots.
    const all: Element[] = [];
    const walk = (root: Document | ShadowRoot) => {
      for (const el of root.querySelectorAll('*')) {
        all.push(el);
        if (el.shadowRoot) walk(el.shadowRoot);
      }
    };
    walk(document);

    const shown = (el: Element) => {
      const r = el.getBoundingClientRect();
      if (!r.width || !r.height) return false;
      for (let e: Element | null = el; e; e = parentOf(e)) {
        const s = getComputedStyle(e);
        if (s.display === 'none' || s.visibility === 'hidden' || s.opacity === '0') return false;
      }
      return true;
    };
    const disabled = (el: Element) => !!el.closest('button:disabled, input:disabled, textarea:disabled, [aria-disabled=true]');

    /** The background behind el: its own and its ancestors' colours composited, or null when an image decides it. */
    const background = (el: Element): RGBA | null => {
      const layers: RGBA[] = [];
      for (let e: Element | null = el; e; e = parentOf(e)) {
        const s = getComputedStyle(e);
        if (s.backgroundImage !== 'none') return null;
        const c = parse(s.backgroundColor);
        if (c && c[3] > 0) layers.push(c);
        if (c && c[3] >= 1) break;
      }
      return layers.reduceRight<RGBA>((under, top) => over(top, under), [255, 255, 255, 1]);
    };
    /** The text colour as drawn: its alpha and every ancestor's opacity applied over the background. */
    const foreground = (el: Element, bg: RGBA): RGBA => {
      const s = getComputedStyle(el);
      const c = parse(s.color) ?? [0, 0, 0, 1];
      let alpha = c[3];
      for (let e: Element | null = el; e; e = parentOf(e)) alpha *= Number(getComputedStyle(e).opacity);
      return over([c[0], c[1], c[2], alpha], bg);
    };
    const large = (el: Element) => {
      const s = getComputedStyle(el);
      const px = parseFloat(s.fontSize);
      return px >= 24 || (px >= 18.66 && Number(s.fontWeight) >= 700);
    };

    for (const el of all) {
      if (['SCRIPT', 'STYLE', 'TITLE', 'HEAD', 'META'].includes(el.tagName)) continue;
      // color-contrast: elements with text of their own.
      const own = [...el.childNodes].some((n) => n.nodeType === Node.TEXT_NODE && n.textContent!.trim());
      if (own && shown(el) && !disabled(el)) {
        const bg = background(el);
        if (bg) {
          const fg = foreground(el, bg);
          const need = large(el) ? 3 : 4.5;
          const r = ratio(fg, bg);
          if (r < need) findings.push({ rule: 'color-contrast', target: describe(el), detail: `${r.toFixed(2)}:1, needs ${need}:1 (${getComputedStyle(el).color} on rgb(${bg.slice(0, 3).map(Math.round).join(', ')}))` });
        }
      }
      // link-in-text-block: a link inside running text is told apart by more than colour.
      if (el.tagName === 'A' && shown(el)) {
        const parent = parentOf(el)!;
        const inText = [...parent.childNodes].some((n) => n.nodeType === Node.TEXT_NODE && n.textContent!.trim());
        const s = getComputedStyle(el);
        if (inText && !s.textDecorationLine.includes('underline') && s.fontWeight === getComputedStyle(parent).fontWeight) {
          const bg = background(el) ?? [255, 255, 255, 1];
          const r = ratio(foreground(el, bg), foreground(parent, bg));
          if (r < 3) findings.push({ rule: 'link-in-text-block', target: describe(el), detail: `${r.toFixed(2)}:1 against the text around it, no underline` });
        }
      }
    }

    // Accessible names: buttons and links by their text or aria-label; fields by a label.
    const named = (el: Element) => !!((el.textContent ?? '').trim() || el.getAttribute('aria-label')?.trim() || el.getAttribute('aria-labelledby') || el.getAttribute('title'));
    for (const el of all) {
      if (!shown(el)) continue;
      if (el.tagName === 'BUTTON' && !named(el)) findings.push({ rule: 'button-name', target: describe(el), detail: 'no accessible name' });
      if (el.tagName === 'A' && el.hasAttribute('href') && !named(el)) findings.push({ rule: 'link-name', target: describe(el), detail: 'no accessible name' });
      if ((el.tagName === 'TEXTAREA' || (el.tagName === 'INPUT' && (el as HTMLInputElement).type !== 'hidden')) && !el.getAttribute('aria-label') && !el.getAttribute('aria-labelledby')) {
        const root = el.getRootNode() as Document | ShadowRoot;
        if (!(el.id && root.querySelector(`label[for="${el.id}"]`)) && !el.closest('label')) findings.push({ rule: 'label', target: describe(el), detail: 'a form field without a label' });
      }
      // A region that scrolls is reachable by keyboard: focusable itself, or holding something focusable.
      const s = getComputedStyle(el);
      if (/(auto|scroll)/.test(s.overflowY + s.overflowX) && (el.scrollHeight > el.clientHeight || el.scrollWidth > el.clientWidth)) {
        const focusable = 'a[href], button:not(:disabled), input:not(:disabled), textarea:not(:disabled), [tabindex]:not([tabindex="-1"])';
        if (!el.matches(focusable) && !el.querySelector(focusable)) findings.push({ rule: 'scrollable-region-focusable', target: describe(el), detail: 'scrolls, but nothing in it takes focus' });
      }
      if (el.getAttribute('aria-hidden') === 'true' && el.querySelector('a[href], button:not(:disabled), input, textarea, [tabindex]:not([tabindex="-1"])'))
        findings.push({ rule: 'aria-hidden-focus', target: describe(el), detail: 'focusable content under aria-hidden' });
    }

    // duplicate-id, per tree (a shadow root is its own id scope).
    const trees = new Map<Node, Map<string, number>>();
    for (const el of all) {
      if (!el.id) continue;
      const ids = trees.get(el.getRootNode()) ?? trees.set(el.getRootNode(), new Map()).get(el.getRootNode())!;
      ids.set(el.id, (ids.get(el.id) ?? 0) + 1);
    }
    for (const ids of trees.values()) for (const [id, n] of ids) if (n > 1) findings.push({ rule: 'duplicate-id', target: `#${id}`, detail: `${n} elements` });

    // Landmarks: one banner and one contentinfo at most, counted across shadow roots as assistive
    // technology meets them (a header or footer inside sectioning content is no landmark).
    const sectioning = 'article, aside, main, nav, section, [role=article], [role=complementary], [role=main], [role=navigation], [role=region]';
    const inSection = (el: Element) => {
      for (let e = parentOf(el); e; e = parentOf(e)) if (e.matches(sectioning)) return true;
      return false;
    };
    for (const [rule, tag, role] of [
      ['landmark-no-duplicate-banner', 'HEADER', 'banner'],
      ['landmark-no-duplicate-contentinfo', 'FOOTER', 'contentinfo'],
    ] as const) {
      const marks = all.filter((el) => el.getAttribute('role') === role || (el.tagName === tag && !el.hasAttribute('role') && !inSection(el)));
      if (marks.length > 1) findings.push({ rule, target: marks.map(describe).join(' | '), detail: `${marks.length} ${role} landmarks` });
    }
    return findings;
  });
}
