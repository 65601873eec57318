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
  const pos = d.position === 'bottom-left' ? 'bottom-left' : d.position === 'bottom-right' ? 'bottom-right' : undefined;
  const theme = d.theme === 'light' || d.theme === 'dark' || d.theme === 'auto' ? d.theme : undefined;
  const z = Number(d.zIndex);
  return {
    key: d.key ?? '',
    api: d.api ?? new URL(script.src, location.href).origin,
    ...(pos ? { position: pos } : {}),
    ...(d.accent && /^#[0-9a-f]{6}$/i.test(d.accent) ? { accent: d.accent } : {}),
    ...(d.text ? { text: d.text.slice(0, 60) } : {}),
    ...(d.locale ? { locale: d.locale } : {}),
    ...(theme ? { theme } : {}),
    ...(Number.isInteger(z) ? { zIndex: z } : {}),
    ...(d.open === 'true' ? { open: true } : {}),
    // Browsers hide the nonce attribute from the DOM; the property keeps it. data-nonce is for pages
    // that inject the tag from script and cannot set the property.
    ...(script.nonce || d.nonce ? { nonce: script.nonce || d.nonce } : {}),
  };
}

/**
 * Styles a shadow root without inline style attributes: a constructed stylesheet (which style-src does
 * not govern) where supported, else a `<style>` carrying the page's nonce. Returns a setter for updates.
 */
export function addStyles(root: ShadowRoot, css: string, nonce?: string): (css: string) => void {
  if ('adoptedStyleSheets' in root && typeof CSSStyleSheet === 'function' && 'replaceSync' in CSSStyleSheet.prototype) {
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
