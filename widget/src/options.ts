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
    ...(script.nonce ? { nonce: script.nonce } : {}),
  };
}
