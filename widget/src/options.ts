// The script tag's data-* options, shared by the loader and the widget.

export interface WidgetOptions {
  key: string;
  api: string;
  position?: 'bottom-right' | 'bottom-left';
  accent?: string;
  text?: string;
  locale?: string;
  theme?: 'light' | 'dark' | 'auto';
  zIndex?: number;
  open?: boolean;
  nonce?: string;
}

/** The loader hands these to the widget on window.Parley. */
export interface Boot {
  (...args: unknown[]): void;
  q?: unknown[][];
  o?: WidgetOptions;
  /** The shadow root the loader created. */
  r?: ShadowRoot;
  /** The launcher button the loader drew. */
  b?: HTMLButtonElement;
}

export function readOptions(script: HTMLScriptElement): WidgetOptions {
  const d = script.dataset;
  const { position: pos, theme } = d;
  const z = Number(d.zIndex);
  // Unset options stay undefined (never invalid values): the tenant's settings fill them in later.
  return {
    key: d.key ?? '',
    api: d.api ?? new URL(script.src, location.href).origin,
    position: pos === 'bottom-left' || pos === 'bottom-right' ? pos : undefined,
    accent: /^#[0-9a-f]{6}$/i.test(d.accent ?? '') ? d.accent : undefined,
    text: d.text?.slice(0, 60) || undefined,
    locale: d.locale || undefined,
    theme: theme === 'light' || theme === 'dark' || theme === 'auto' ? theme : undefined,
    zIndex: Number.isInteger(z) ? z : undefined,
    open: d.open === 'true' || undefined,
    // Browsers hide the nonce attribute from the DOM; the property keeps it. data-nonce is for pages
    // that inject the tag from script and cannot set the property.
    nonce: script.nonce || d.nonce || undefined,
  };
}

/**
 * Styles a shadow root without inline style attributes: a constructed stylesheet (which style-src does
 * not govern) where supported, else a `<style>` carrying the page's nonce. Returns a setter for updates.
 */
export function addStyles(root: ShadowRoot, css: string, nonce?: string): (css: string) => void {
  // Browsers shipped adoptedStyleSheets with constructable sheets (Chrome 73, Firefox 101, Safari 16.4).
  if (root.adoptedStyleSheets) {
    const sheet = new CSSStyleSheet();
    sheet.replaceSync(css);
    root.adoptedStyleSheets = [...root.adoptedStyleSheets, sheet];
    return (next) => sheet.replaceSync(next);
  }
  const el = document.createElement('style');
  if (nonce) el.nonce = nonce;
  el.textContent = css;
  root.append(el);
  return (next) => void (el.textContent = next);
}

/**
 * The text colour on the accent: near-black on a light accent (a yellow), white on a dark one, by the
 * accent's perceived brightness (YIQ), which the loader can afford where WCAG's formula would not fit.
 */
export const onAccent = (hex: string): string => {
  const n = Number.parseInt(hex.slice(1), 16);
  return (n >> 16) * 299 + ((n >> 8) & 255) * 587 + (n & 255) * 114 > 150_000 ? '#111' : '#fff';
};
