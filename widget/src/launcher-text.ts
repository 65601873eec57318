// The launcher's default text per language: the loader draws it before the widget (and its full
// string tables) arrive, so this small table is all the loader carries of the translations.
export const LAUNCHER: Record<string, string> = {
  en: 'Chat with us',
  fr: 'Discutons',
  de: 'Chat starten',
  es: 'Chatea con nosotros',
  it: 'Scrivici',
  nl: 'Chat met ons',
  pt: 'Fale conosco',
  ja: 'チャットで質問',
  ar: 'تحدث معنا',
};

/** The launcher text for a locale option ('auto' or none: the browser's first language that has one). */
export function launcherText(locale: string | undefined, browser: readonly string[]): string {
  for (const l of locale && locale !== 'auto' ? [locale] : browser) {
    const t = LAUNCHER[l.toLowerCase().split('-')[0]!];
    if (t) return t;
  }
  return LAUNCHER.en!;
}
