// Accessibility checks run in Chromium, for the rules axe reports most (axe-core itself is MPL-2.0, outside
// the licences this project takes, so these are our own, on the same WCAG 2 formulas). Open shadow roots are
// walked everywhere: the widget lives in one.
//   Names (from Chromium's own accessibility tree): button-name, link-name, image-alt, label, accessible-name;
//   and label for a field whose only name is its placeholder.
//   Contrast over computed styles, any computed colour form: color-contrast (4.5:1, 3:1 for large text),
//   link-in-text-block (a link in running text told apart by more than colour).
//   Structure: duplicate-id (per tree: a shadow root is its own id scope), aria-valid-attr-value (id
//   references resolve), landmark-no-duplicate-banner/contentinfo, landmark-unique, nested-interactive,
//   aria-allowed-role and listitem, label-content-name-mismatch, scrollable-region-focusable, aria-hidden-focus.
//   The whole document's (only when the audit owns it): html-has-lang, document-title, landmark-one-main,
//   reflow (the page never scrolls sideways).
import type { Page } from 'playwright-core';

export interface Violation {
  rule: string;
  /** What it is about: tag, id, classes and the start of its text. */
  target: string;
  detail: string;
}

export interface AuditOptions {
  /** Audit only this element and what it holds, shadow root included (e.g. a widget on a host page we
   * did not write). The document-wide rules are then skipped; landmarks are still counted across the
   * whole page, as assistive technology meets them, and reported when one of them is in scope. */
  within?: string;
}

/** Roles whose accessible name may not be empty, and the axe rule that asks for it. */
const NAMED_ROLES: Record<string, string> = {
  button: 'button-name',
  link: 'link-name',
  img: 'image-alt',
  image: 'image-alt',
  textbox: 'label',
  searchbox: 'label',
  combobox: 'label',
  listbox: 'label',
  checkbox: 'label',
  radio: 'label',
  switch: 'label',
  slider: 'label',
  spinbutton: 'label',
};
const ALSO_NAMED = new Set(['menuitem', 'tab', 'progressbar', 'meter', 'dialog', 'alertdialog', 'treeitem', 'option']);

interface AXNode {
  ignored: boolean;
  role?: { value: string };
  name?: { value: string };
  backendDOMNodeId?: number;
}

/** Every violation on the page as it is now; [] is a pass. */
export async function audit(page: Page, options: AuditOptions = {}): Promise<Violation[]> {
  const within = options.within ?? null;
  const out: Violation[] = [];
  const cdp = await page.context().newCDPSession(page);
  try {
    const { nodes } = (await cdp.send('Accessibility.getFullAXTree')) as { nodes: AXNode[] };
    for (const n of nodes) {
      const role = n.role?.value ?? '';
      if (n.ignored || !(role in NAMED_ROLES || ALSO_NAMED.has(role)) || (n.name?.value ?? '').trim() || n.backendDOMNodeId === undefined) continue;
      const { object } = (await cdp.send('DOM.resolveNode', { backendNodeId: n.backendDOMNodeId })) as { object: { objectId: string } };
      const { result } = (await cdp.send('Runtime.callFunctionOn', {
        objectId: object.objectId,
        arguments: [{ value: within }],
        functionDeclaration: `function (within) {
          const scope = within && document.querySelector(within);
          if (within) {
            let e = this;
            while (e && e !== scope) e = e.parentNode || e.host;
            if (!e) return null;
          }
          return (${describe.toString()})(this);
        }`,
        returnByValue: true,
      })) as { result: { value: string | null } };
      if (result.value !== null)
        out.push({ rule: NAMED_ROLES[role] ?? 'accessible-name', target: result.value, detail: `a ${role} without an accessible name` });
    }
  } finally {
    await cdp.detach();
  }
  // One describe() for both halves; passed as source, since a page's CSP may forbid eval in it.
  const checks = (await page.evaluate(`(${inPage.toString()})(${JSON.stringify(within)}, ${describe.toString()})`)) as Violation[];
  for (const v of checks) if (!out.some((o) => o.rule === v.rule && o.target === v.target)) out.push(v);
  return out;
}

/** How a finding names its element (runs in the page: no closures). */
function describe(el: Element): string {
  const id = el.id ? `#${el.id}` : '';
  const classes = el.classList?.length ? `.${[...el.classList].join('.')}` : '';
  const text = (el.textContent ?? '').trim().replace(/\s+/g, ' ').slice(0, 40);
  return `${el.nodeName.toLowerCase()}${id}${classes}${text ? ` "${text}"` : ''}`;
}

/** The checks that read the DOM and computed styles (runs in the page). */
function inPage(within: string | null, describe: (el: Element) => string): Violation[] {
  const out: Violation[] = [];

  // Every element, light DOM and open shadow roots, in tree order.
  const all: Element[] = [];
  const walk = (root: Document | ShadowRoot | Element) => {
    for (const el of root.querySelectorAll('*')) {
      all.push(el);
      if (el.shadowRoot) walk(el.shadowRoot);
    }
  };
  walk(document);
  /** The parent, stepping out of a shadow root to its host. */
  const parentOf = (el: Element): Element | null => el.parentElement ?? (el.parentNode as ShadowRoot | null)?.host ?? null;
  const ancestor = (el: Element, selector: string): Element | null => {
    for (let e: Element | null = el; e; e = parentOf(e)) if (e.matches(selector)) return e;
    return null;
  };
  const scope = within ? document.querySelector(within) : document.documentElement;
  if (!scope) return [{ rule: 'audit', target: within!, detail: 'nothing matches the scope' }];
  const inScope = (el: Element) => {
    for (let e: Element | null = el; e; e = parentOf(e)) if (e === scope) return true;
    return false;
  };
  const mine = all.filter(inScope);
  /** Every element under el, through open shadow roots. */
  const holds = (el: Element, selector: string): boolean =>
    !!el.querySelector(selector) ||
    [el, ...el.querySelectorAll('*')].some((e) => e.shadowRoot && [...e.shadowRoot.children].some((c) => c.matches(selector) || holds(c, selector)));
  const visible = (el: Element): boolean => {
    const r = el.getBoundingClientRect();
    if (r.width < 2 || r.height < 2) return false;
    for (let e: Element | null = el; e; e = parentOf(e)) {
      const s = getComputedStyle(e);
      if (s.display === 'none' || s.visibility === 'hidden' || s.opacity === '0') return false;
      if (s.clipPath === 'inset(50%)' || (s.clip && s.clip !== 'auto' && s.position === 'absolute')) return false;
    }
    return true;
  };

  // The document's own, only when the audit owns the document.
  if (!within) {
    if (!document.documentElement.lang) out.push({ rule: 'html-has-lang', target: 'html', detail: 'no lang attribute' });
    if (!document.title.trim()) out.push({ rule: 'document-title', target: 'title', detail: 'empty title' });
    const mains = all.filter((e) => e.matches('main, [role="main"]') && visible(e));
    if (mains.length !== 1) out.push({ rule: 'landmark-one-main', target: 'main', detail: `${mains.length} main landmarks` });
    // Reflow (WCAG 1.4.10): the page never scrolls sideways; a wide table scrolls in a region of its own.
    // Named: the outermost elements that reach past the viewport's edge.
    const width = document.documentElement.clientWidth;
    if (document.documentElement.scrollWidth > width + 1) {
      const past = (el: Element) => el.getBoundingClientRect().right > width + 1 || el.getBoundingClientRect().left < -1;
      const causes = all.filter((el) => ancestor(el, 'body') && el !== document.body && past(el) && !past(parentOf(el)!));
      out.push({
        rule: 'reflow',
        target: causes.slice(0, 3).map(describe).join(', ') || 'html',
        detail: `the page is ${document.documentElement.scrollWidth} px wide in a ${width} px viewport: it scrolls sideways`,
      });
    }
  }

  // Ids: unique within their tree, and every reference resolves within its tree.
  const trees = new Map<Node, Map<string, number>>();
  for (const el of mine) {
    if (!el.id) continue;
    const root = el.getRootNode();
    const ids = trees.get(root) ?? trees.set(root, new Map()).get(root)!;
    ids.set(el.id, (ids.get(el.id) ?? 0) + 1);
  }
  for (const ids of trees.values())
    for (const [id, n] of ids) if (n > 1) out.push({ rule: 'duplicate-id', target: `#${id}`, detail: `${n} elements share this id` });
  const byId = (el: Element, id: string) => (el.getRootNode() as Document | ShadowRoot).getElementById(id);
  for (const el of mine) {
    for (const attr of ['aria-labelledby', 'aria-describedby', 'aria-controls', 'aria-owns', 'aria-activedescendant', 'for', 'list']) {
      if (attr === 'list' && el.tagName !== 'INPUT') continue;
      for (const id of (el.getAttribute(attr) ?? '').split(/\s+/).filter(Boolean))
        if (!byId(el, id)) out.push({ rule: 'aria-valid-attr-value', target: describe(el), detail: `${attr} names #${id}, which does not exist` });
    }
  }

  // Landmarks, counted across the whole page (a header or footer inside sectioning content is none),
  // reported when one of them is in scope.
  const sectioning =
    'article, aside, main, nav, section, [role="article"], [role="complementary"], [role="main"], [role="navigation"], [role="region"]';
  const top = (el: Element) => !(parentOf(el) && ancestor(parentOf(el)!, sectioning));
  for (const [rule, tag, role] of [
    ['landmark-no-duplicate-banner', 'HEADER', 'banner'],
    ['landmark-no-duplicate-contentinfo', 'FOOTER', 'contentinfo'],
  ] as const) {
    const marks = all.filter(
      (el) => visible(el) && (el.getAttribute('role') === role || (el.tagName === tag && !el.hasAttribute('role') && top(el))),
    );
    if (marks.length > 1 && marks.some(inScope))
      out.push({ rule, target: marks.map(describe).join(' | '), detail: `${marks.length} ${role} landmarks` });
  }
  const named = new Map<string, Element[]>();
  for (const el of all) {
    if (
      !el.matches(
        'nav, [role="navigation"], aside, [role="complementary"], section[aria-label], section[aria-labelledby], [role="region"], form[aria-label], [role="search"]',
      ) ||
      !visible(el)
    )
      continue;
    const label =
      el.getAttribute('aria-label') ??
      (el.getAttribute('aria-labelledby') ?? '')
        .split(/\s+/)
        .map((id) => byId(el, id)?.textContent?.trim() ?? '')
        .join(' ');
    const key = `${el.getAttribute('role') ?? el.tagName.toLowerCase()}|${label.trim()}`;
    named.set(key, [...(named.get(key) ?? []), el]);
  }
  for (const [key, els] of named)
    if (els.length > 1 && els.some(inScope))
      out.push({ rule: 'landmark-unique', target: key, detail: `${els.length} landmarks with the same role and name` });

  const interactive = 'a[href], button, input:not([type="hidden"]), select, textarea';
  const focusable =
    'a[href], button:not(:disabled), input:not(:disabled):not([type="hidden"]), select:not(:disabled), textarea:not(:disabled), summary, [tabindex]:not([tabindex="-1"])';
  const LIST_ROLES = ['list', 'directory', 'group', 'listbox', 'menu', 'menubar', 'none', 'presentation', 'radiogroup', 'tablist', 'toolbar', 'tree'];
  const words = (t: string) =>
    t
      .toLowerCase()
      .replace(/[^\p{L}\p{N}]+/gu, ' ')
      .trim();
  for (const el of mine) {
    // Interactive content inside interactive content.
    if (el.matches(interactive) && parentOf(el) && ancestor(parentOf(el)!, 'a[href], button'))
      out.push({ rule: 'nested-interactive', target: describe(el), detail: 'a control inside a control' });
    // Lists: a list keeps a list role (or one of the few others allowed), and a list item sits in a list.
    if (el.matches('ol[role], ul[role]') && !LIST_ROLES.includes(el.getAttribute('role')!))
      out.push({
        rule: 'aria-allowed-role',
        target: describe(el),
        detail: `role ${el.getAttribute('role')} is not allowed on <${el.tagName.toLowerCase()}>`,
      });
    if (el.matches('li:not([role])')) {
      const p = el.parentElement;
      if (!p || !/^(OL|UL|MENU)$/.test(p.tagName) || (p.getAttribute('role') ?? 'list') !== 'list')
        out.push({ rule: 'listitem', target: describe(el), detail: 'a list item outside a list' });
    }
    // A field needs a label of its own: a placeholder vanishes once something is typed.
    if (
      el.matches('textarea, select, input:not([type="hidden"]):not([type="submit"]):not([type="button"]):not([type="reset"]):not([type="image"])') &&
      visible(el)
    ) {
      const labelled =
        el.getAttribute('aria-label')?.trim() ||
        el.getAttribute('aria-labelledby') ||
        el.getAttribute('title')?.trim() ||
        ancestor(el, 'label') ||
        (el.id && (el.getRootNode() as Document | ShadowRoot).querySelector(`label[for="${CSS.escape(el.id)}"]`));
      if (!labelled) out.push({ rule: 'label', target: describe(el), detail: 'a form field without a label' });
    }
    // A control's visible words are part of its accessible name (speech users say what they see).
    if (el.matches('button[aria-label], a[href][aria-label], [role="button"][aria-label], [role="link"][aria-label]') && visible(el)) {
      const seen = words((el as HTMLElement).innerText ?? '');
      if (seen && !words(el.getAttribute('aria-label')!).includes(seen))
        out.push({
          rule: 'label-content-name-mismatch',
          target: describe(el),
          detail: `the name "${el.getAttribute('aria-label')}" does not contain the visible "${(el as HTMLElement).innerText.trim()}"`,
        });
    }
    // A scrollable region must be reachable by keyboard (focusable itself or holding something focusable).
    if (el.tagName !== 'TEXTAREA' && ancestor(el, 'body')) {
      const s = getComputedStyle(el);
      const scrollsX = /auto|scroll/.test(s.overflowX) && el.scrollWidth > el.clientWidth + 1;
      const scrollsY = /auto|scroll/.test(s.overflowY) && el.scrollHeight > el.clientHeight + 1;
      if ((scrollsX || scrollsY) && visible(el) && !el.matches(focusable) && !holds(el, focusable))
        out.push({ rule: 'scrollable-region-focusable', target: describe(el), detail: 'scrolls, but nothing in it takes focus' });
    }
    // Nothing focusable under aria-hidden.
    if (el.getAttribute('aria-hidden') === 'true' && (el.matches(focusable) || holds(el, focusable)))
      out.push({ rule: 'aria-hidden-focus', target: describe(el), detail: 'focusable content under aria-hidden' });
  }

  // Contrast (WCAG 2 AA): 4.5:1, or 3:1 for large text (24 px, or 18.66 px bold). Disabled controls are exempt.
  type RGBA = [number, number, number, number];
  // Computed colours come as rgb()/rgba(), color(srgb …) for color-mix() in sRGB, or in other spaces
  // (oklab(), lab(), color(display-p3 …)) that a canvas converts to sRGB for us.
  const ink = document.createElement('canvas').getContext('2d', { willReadFrequently: true })!;
  const parsed = new Map<string, RGBA | null>();
  const parse = (c: string): RGBA | null => {
    if (parsed.has(c)) return parsed.get(c)!;
    const num = '([-\\d.e]+%?)';
    const alpha = (a: string | undefined) => (a === undefined ? 1 : a.endsWith('%') ? parseFloat(a) / 100 : Number(a));
    let out: RGBA | null = null;
    let m = new RegExp(`^rgba?\\(${num},?\\s*${num},?\\s*${num}(?:\\s*[,/]\\s*${num})?\\)$`).exec(c);
    if (m) out = [Number(m[1]), Number(m[2]), Number(m[3]), alpha(m[4])];
    else if ((m = new RegExp(`^color\\(srgb ${num} ${num} ${num}(?: / ${num})?\\)$`).exec(c)))
      out = [Number(m[1]) * 255, Number(m[2]) * 255, Number(m[3]) * 255, alpha(m[4])];
    else {
      ink.clearRect(0, 0, 1, 1);
      ink.fillStyle = '#010203';
      ink.fillStyle = c;
      if (ink.fillStyle !== '#010203' || c.replace(/\s/g, '') === '#010203') {
        ink.fillRect(0, 0, 1, 1);
        const [r, g, b, a] = ink.getImageData(0, 0, 1, 1).data;
        out = [r!, g!, b!, a! / 255];
      }
    }
    parsed.set(c, out);
    return out;
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
  const ratio = (x: RGBA, y: RGBA) => {
    const [a, b] = [lum(x), lum(y)];
    return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
  };
  const root = getComputedStyle(document.documentElement);
  const canvas: RGBA = (() => {
    const c = parse(root.backgroundColor);
    if (c && c[3] > 0) return c;
    return matchMedia('(prefers-color-scheme: dark)').matches && root.colorScheme.includes('dark') ? [18, 18, 18, 1] : [255, 255, 255, 1];
  })();
  /** The background behind el, its own and its ancestors' colours composited, or null when an image or gradient decides it. */
  const background = (el: Element): RGBA | null => {
    const layers: RGBA[] = [];
    for (let e: Element | null = el; e; e = parentOf(e)) {
      const s = getComputedStyle(e);
      if (s.backgroundImage !== 'none') return null;
      const c = parse(s.backgroundColor);
      if (c && c[3] > 0) {
        layers.push(c);
        if (c[3] >= 1) break;
      }
    }
    return layers.reduceRight<RGBA>((below, layer) => over(layer, below), canvas);
  };
  /** The text colour as drawn: its alpha and every ancestor's opacity applied over the background. */
  const foreground = (el: Element, bg: RGBA): RGBA | null => {
    const c = parse(getComputedStyle(el).color);
    if (!c) return null;
    let opacity = c[3];
    for (let e: Element | null = el; e; e = parentOf(e)) opacity *= Number(getComputedStyle(e).opacity);
    return over([c[0], c[1], c[2], opacity], bg);
  };
  const rgb = (c: RGBA) => `rgb(${c.slice(0, 3).map(Math.round).join(', ')})`;
  for (const el of mine) {
    if (!ancestor(el, 'body') || el.matches('script, style, option, template')) continue;
    const ownText = [...el.childNodes].some((n) => n.nodeType === Node.TEXT_NODE && n.textContent!.trim());
    if (ownText && visible(el) && !ancestor(el, '[disabled], [aria-disabled="true"]')) {
      const s = getComputedStyle(el);
      const bg = background(el);
      const fg = bg && foreground(el, bg);
      if (bg && fg) {
        const size = parseFloat(s.fontSize);
        const need = size >= 24 || (size >= 18.66 && Number(s.fontWeight) >= 700) ? 3 : 4.5;
        const r = ratio(fg, bg);
        if (r < need)
          out.push({ rule: 'color-contrast', target: describe(el), detail: `${r.toFixed(2)}:1 (needs ${need}:1), ${s.color} on ${rgb(bg)}` });
      }
    }
    // A link inside running text is told apart by more than colour: an underline, weight, or 3:1 against the text.
    if (el.matches('a[href]') && visible(el)) {
      const parent = parentOf(el)!;
      const inText = [...parent.childNodes].some((n) => n.nodeType === Node.TEXT_NODE && n.textContent!.trim());
      const s = getComputedStyle(el);
      if (inText && !s.textDecorationLine.includes('underline') && s.fontWeight === getComputedStyle(parent).fontWeight) {
        const bg = background(el) ?? canvas;
        const [a, b] = [foreground(el, bg), foreground(parent, bg)];
        const r = a && b ? ratio(a, b) : 1;
        if (r < 3)
          out.push({ rule: 'link-in-text-block', target: describe(el), detail: `${r.toFixed(2)}:1 against the text around it, and no underline` });
      }
    }
  }
  return out;
}
