// Accessibility checks run in Chromium, for the rules axe reports most (axe-core itself is MPL-2.0, outside
// the licences this project takes): every control and image has an accessible name (from Chromium's own
// accessibility tree), text contrast meets WCAG AA, ids are unique and every id reference resolves, the
// page has one main landmark and no duplicate banner or contentinfo, landmarks of one kind are told apart
// by name, lists are lists, a control's visible words are in its name, a scrollable region can be reached
// by keyboard, and the document has a language and a title.
import type { Page } from 'playwright-core';

export interface Violation {
  rule: string;
  target: string;
  detail: string;
}

/** Roles whose accessible name may not be empty. */
const NAMED_ROLES = new Set(['button', 'link', 'textbox', 'searchbox', 'combobox', 'listbox', 'checkbox', 'radio', 'switch', 'slider', 'spinbutton', 'menuitem', 'tab', 'img', 'image', 'progressbar', 'meter', 'dialog', 'alertdialog', 'treeitem', 'option']);

interface AXNode {
  ignored: boolean;
  role?: { value: string };
  name?: { value: string };
  backendDOMNodeId?: number;
}

/** Every violation on the page as it is now. */
export async function audit(page: Page): Promise<Violation[]> {
  const out: Violation[] = [];
  const cdp = await page.context().newCDPSession(page);
  try {
    const { nodes } = (await cdp.send('Accessibility.getFullAXTree')) as { nodes: AXNode[] };
    for (const n of nodes) {
      const role = n.role?.value ?? '';
      if (n.ignored || !NAMED_ROLES.has(role) || (n.name?.value ?? '').trim() || n.backendDOMNodeId === undefined) continue;
      const { object } = (await cdp.send('DOM.resolveNode', { backendNodeId: n.backendDOMNodeId })) as { object: { objectId: string } };
      const { result } = (await cdp.send('Runtime.callFunctionOn', {
        objectId: object.objectId,
        functionDeclaration: 'function () { return this.outerHTML ? this.outerHTML.slice(0, 160) : String(this.nodeName); }',
        returnByValue: true,
      })) as { result: { value: string } };
      out.push({ rule: 'accessible-name', target: result.value, detail: `a ${role} without an accessible name` });
    }
  } finally {
    await cdp.detach();
  }
  out.push(...(await page.evaluate(inPage)));
  return out;
}

/** The checks that read the DOM and computed styles (runs in the page). */
function inPage(): Violation[] {
  const out: Violation[] = [];
  const describe = (el: Element) => el.outerHTML.slice(0, 160);
  const visible = (el: Element): boolean => {
    const r = el.getBoundingClientRect();
    if (r.width < 2 || r.height < 2) return false;
    for (let e: Element | null = el; e; e = e.parentElement) {
      const s = getComputedStyle(e);
      if (s.display === 'none' || s.visibility === 'hidden' || s.opacity === '0') return false;
      if (s.clipPath === 'inset(50%)' || (s.clip && s.clip !== 'auto' && s.position === 'absolute')) return false;
    }
    return true;
  };

  // Document
  if (!document.documentElement.lang) out.push({ rule: 'html-has-lang', target: 'html', detail: 'no lang attribute' });
  if (!document.title.trim()) out.push({ rule: 'document-title', target: 'title', detail: 'empty title' });

  // Ids: unique, and every reference resolves.
  const seen = new Map<string, number>();
  for (const el of document.querySelectorAll('[id]')) seen.set(el.id, (seen.get(el.id) ?? 0) + 1);
  for (const [id, n] of seen) if (n > 1) out.push({ rule: 'duplicate-id', target: `#${id}`, detail: `${n} elements share this id` });
  for (const attr of ['aria-labelledby', 'aria-describedby', 'aria-controls', 'aria-owns', 'aria-activedescendant', 'for', 'list']) {
    for (const el of document.querySelectorAll(`[${attr}]`)) {
      for (const id of (el.getAttribute(attr) ?? '').split(/\s+/).filter(Boolean)) {
        if (!document.getElementById(id)) out.push({ rule: 'aria-valid-attr-value', target: describe(el), detail: `${attr} names #${id}, which does not exist` });
      }
    }
  }

  // Landmarks
  const landmarks = (selector: string) => [...document.querySelectorAll(selector)].filter(visible);
  const mains = landmarks('main, [role="main"]');
  if (mains.length !== 1) out.push({ rule: 'landmark-one-main', target: 'main', detail: `${mains.length} main landmarks` });
  // A header or footer is a banner / contentinfo only outside article, aside, main, nav and section.
  const top = (el: Element) => !el.parentElement?.closest('article, aside, main, nav, section, [role="main"], [role="region"], [role="complementary"], [role="navigation"]');
  const banners = landmarks('header, [role="banner"]').filter((e) => e.getAttribute('role') === 'banner' || top(e));
  if (banners.length > 1) out.push({ rule: 'landmark-no-duplicate-banner', target: 'header', detail: `${banners.length} banner landmarks` });
  const footers = landmarks('footer, [role="contentinfo"]').filter((e) => e.getAttribute('role') === 'contentinfo' || top(e));
  if (footers.length > 1) out.push({ rule: 'landmark-no-duplicate-contentinfo', target: 'footer', detail: `${footers.length} contentinfo landmarks` });
  const names = new Map<string, number>();
  for (const el of landmarks('nav, [role="navigation"], aside, [role="complementary"], section[aria-label], section[aria-labelledby], [role="region"], form[aria-label], [role="search"]')) {
    const label = el.getAttribute('aria-label') ?? (el.getAttribute('aria-labelledby') ?? '').split(/\s+/).map((id) => document.getElementById(id)?.textContent?.trim() ?? '').join(' ');
    const kind = el.getAttribute('role') ?? el.tagName.toLowerCase();
    const key = `${kind}|${label.trim()}`;
    names.set(key, (names.get(key) ?? 0) + 1);
  }
  for (const [key, n] of names) if (n > 1) out.push({ rule: 'landmark-unique', target: key, detail: `${n} landmarks with the same role and name` });

  // Interactive content inside interactive content.
  for (const el of document.querySelectorAll('button a[href], button button, button input, button select, button textarea, a[href] button, a[href] a[href]'))
    out.push({ rule: 'nested-interactive', target: describe(el), detail: 'a control inside a control' });

  // Lists: a list keeps a list role (or one of the few others allowed), and a list item sits in a list.
  const LIST_ROLES = ['list', 'directory', 'group', 'listbox', 'menu', 'menubar', 'none', 'presentation', 'radiogroup', 'tablist', 'toolbar', 'tree'];
  for (const el of document.querySelectorAll('ol[role], ul[role]'))
    if (!LIST_ROLES.includes(el.getAttribute('role')!)) out.push({ rule: 'aria-allowed-role', target: describe(el), detail: `role ${el.getAttribute('role')} is not allowed on <${el.tagName.toLowerCase()}>` });
  for (const el of document.querySelectorAll('li:not([role])')) {
    const p = el.parentElement;
    if (!p || !/^(OL|UL|MENU)$/.test(p.tagName) || (p.getAttribute('role') ?? 'list') !== 'list') out.push({ rule: 'listitem', target: describe(el), detail: 'a list item outside a list' });
  }

  // A control's visible words are part of its accessible name (speech users say what they see).
  const words = (t: string) => t.toLowerCase().replace(/[^\p{L}\p{N}]+/gu, ' ').trim();
  for (const el of document.querySelectorAll<HTMLElement>('button[aria-label], a[href][aria-label], [role="button"][aria-label], [role="link"][aria-label]')) {
    const seen = words(el.innerText ?? '');
    if (seen && visible(el) && !words(el.getAttribute('aria-label')!).includes(seen))
      out.push({ rule: 'label-content-name-mismatch', target: describe(el), detail: `the name "${el.getAttribute('aria-label')}" does not contain the visible "${el.innerText.trim()}"` });
  }

  // A scrollable region must be reachable by keyboard (focusable itself or holding something focusable).
  const focusable = 'a[href], button, input, select, textarea, [tabindex]:not([tabindex="-1"]), summary';
  for (const el of document.querySelectorAll<HTMLElement>('body *')) {
    const s = getComputedStyle(el);
    const scrollsX = /auto|scroll/.test(s.overflowX) && el.scrollWidth > el.clientWidth + 1;
    const scrollsY = /auto|scroll/.test(s.overflowY) && el.scrollHeight > el.clientHeight + 1;
    if ((scrollsX || scrollsY) && visible(el) && !el.matches(focusable) && !el.querySelector(focusable) && el.tagName !== 'TEXTAREA')
      out.push({ rule: 'scrollable-region-focusable', target: describe(el), detail: 'scrolls, but nothing in it takes focus' });
  }

  // Contrast (WCAG 2 AA): 4.5:1, or 3:1 for large text (24 px, or 18.66 px bold). Disabled controls are exempt.
  type RGBA = [number, number, number, number];
  const parse = (c: string): RGBA | null => {
    const m = /rgba?\(([\d.]+),? ([\d.]+),? ([\d.]+)(?:,? \/? ?([\d.]+))?\)/.exec(c);
    return m ? [Number(m[1]), Number(m[2]), Number(m[3]), m[4] === undefined ? 1 : Number(m[4])] : null;
  };
  const over = (top: RGBA, below: RGBA): RGBA => {
    const a = top[3] + below[3] * (1 - top[3]);
    if (a === 0) return [0, 0, 0, 0];
    const mix = (i: number) => (top[i]! * top[3] + below[i]! * below[3] * (1 - top[3])) / a;
    return [mix(0), mix(1), mix(2), a];
  };
  const lum = ([r, g, b]: RGBA) => {
    const ch = (v: number) => ((v /= 255) <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4);
    return 0.2126 * ch(r) + 0.7152 * ch(g) + 0.0722 * ch(b);
  };
  /** The background behind `el`, or null when an image or gradient makes it unknowable. */
  const background = (el: Element): RGBA | null => {
    const layers: RGBA[] = [];
    for (let e: Element | null = el; e; e = e.parentElement) {
      const s = getComputedStyle(e);
      if (s.backgroundImage !== 'none') return null;
      const c = parse(s.backgroundColor);
      if (c && c[3] > 0) {
        layers.push(c);
        if (c[3] >= 1) break;
      }
    }
    const canvas = parse(getComputedStyle(document.documentElement).backgroundColor);
    let bg: RGBA = canvas && canvas[3] > 0 ? canvas : matchMedia('(prefers-color-scheme: dark)').matches && getComputedStyle(document.documentElement).colorScheme.includes('dark') ? [18, 18, 18, 1] : [255, 255, 255, 1];
    for (const l of layers.reverse()) bg = over(l, bg);
    return bg;
  };
  const checked = new Set<Element>();
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const el = n.parentElement;
    if (!el || checked.has(el) || !(n.textContent ?? '').trim()) continue;
    checked.add(el);
    if (!visible(el) || el.closest('[disabled], [aria-disabled="true"], option, script, style')) continue;
    const s = getComputedStyle(el);
    const bg = background(el);
    const fg = parse(s.color);
    if (!bg || !fg) continue;
    let opacity = 1;
    for (let e: Element | null = el; e; e = e.parentElement) opacity *= Number(getComputedStyle(e).opacity);
    const text = over([fg[0], fg[1], fg[2], fg[3] * opacity], bg);
    const [a, b] = [lum(text), lum(bg)];
    const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    const size = parseFloat(s.fontSize);
    const large = size >= 24 || (size >= 18.66 && Number(s.fontWeight) >= 700);
    const need = large ? 3 : 4.5;
    if (ratio < need - 0.005) out.push({ rule: 'color-contrast', target: describe(el), detail: `${ratio.toFixed(2)}:1 (needs ${need}:1), ${s.color} on rgb(${bg.slice(0, 3).map(Math.round).join(', ')})` });
  }
  return out;
}
