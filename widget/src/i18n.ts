// Interface strings. English, French, German and Arabic (right to left).
const en = {
  title: 'Support',
  placeholder: 'Type your message…',
  send: 'Send',
  close: 'Close chat',
  human: 'Talk to a person',
  typing: 'The assistant is typing…',
  offline: "You're offline. We'll try again when you're back.",
  error: 'Something went wrong.',
  retry: 'Retry',
  handoff: 'A member of our team will reply here.',
  sources: 'Sources',
  verified: 'Signed in',
  you: 'You',
  assistant: 'Assistant',
  agent: 'Support team',
  launcher: 'Chat with us',
  signIn: 'Please sign in to chat with us.',
  agentTyping: '{name} is typing…',
  away: "We're away right now.",
  back: "We'll reply from {when}.",
  emailAsk: "Leave your email and we'll reply there.",
  email: 'Email',
  emailSent: "Thanks! We'll reply to {email}.",
  resolved: 'This conversation has been resolved.',
  rate: 'How did we do?',
  stars: '{n} out of 5',
  comment: 'Anything to add? (optional)',
  rated: 'Thank you for your feedback!',
};
export type Strings = typeof en;

const fr: Strings = {
  title: 'Assistance',
  placeholder: 'Écrivez votre message…',
  send: 'Envoyer',
  close: 'Fermer la discussion',
  human: 'Parler à une personne',
  typing: "L'assistant écrit…",
  offline: 'Vous êtes hors ligne. Nous réessaierons dès votre retour.',
  error: 'Une erreur est survenue.',
  retry: 'Réessayer',
  handoff: "Un membre de notre équipe vous répondra ici.",
  sources: 'Sources',
  verified: 'Connecté',
  you: 'Vous',
  assistant: 'Assistant',
  agent: 'Équipe support',
  launcher: 'Discutons',
  signIn: 'Connectez-vous pour discuter avec nous.',
  agentTyping: '{name} écrit…',
  away: 'Nous sommes absents pour le moment.',
  back: 'Nous vous répondrons à partir de {when}.',
  emailAsk: 'Laissez votre e-mail, nous vous répondrons par ce biais.',
  email: 'E-mail',
  emailSent: 'Merci ! Nous répondrons à {email}.',
  resolved: 'Cette conversation a été résolue.',
  rate: 'Comment était notre aide ?',
  stars: '{n} sur 5',
  comment: 'Un commentaire ? (facultatif)',
  rated: 'Merci pour votre avis !',
};
const de: Strings = {
  title: 'Support',
  placeholder: 'Nachricht eingeben…',
  send: 'Senden',
  close: 'Chat schließen',
  human: 'Mit einer Person sprechen',
  typing: 'Der Assistent schreibt…',
  offline: 'Sie sind offline. Wir versuchen es erneut, sobald Sie wieder online sind.',
  error: 'Etwas ist schiefgelaufen.',
  retry: 'Erneut versuchen',
  handoff: 'Ein Mitglied unseres Teams antwortet Ihnen hier.',
  sources: 'Quellen',
  verified: 'Angemeldet',
  you: 'Sie',
  assistant: 'Assistent',
  agent: 'Support-Team',
  launcher: 'Chat starten',
  signIn: 'Bitte melden Sie sich an, um mit uns zu chatten.',
  agentTyping: '{name} schreibt…',
  away: 'Wir sind gerade nicht erreichbar.',
  back: 'Wir antworten ab {when}.',
  emailAsk: 'Hinterlassen Sie Ihre E-Mail-Adresse, wir antworten dorthin.',
  email: 'E-Mail',
  emailSent: 'Danke! Wir antworten an {email}.',
  resolved: 'Dieses Gespräch wurde abgeschlossen.',
  rate: 'Wie war unsere Hilfe?',
  stars: '{n} von 5',
  comment: 'Möchten Sie etwas ergänzen? (optional)',
  rated: 'Vielen Dank für Ihr Feedback!',
};
const ar: Strings = {
  title: 'الدعم',
  placeholder: 'اكتب رسالتك…',
  send: 'إرسال',
  close: 'إغلاق المحادثة',
  human: 'التحدث إلى شخص',
  typing: 'المساعد يكتب…',
  offline: 'أنت غير متصل. سنحاول مجددًا عند عودتك.',
  error: 'حدث خطأ ما.',
  retry: 'إعادة المحاولة',
  handoff: 'سيرد عليك أحد أعضاء فريقنا هنا.',
  sources: 'المصادر',
  verified: 'تم تسجيل الدخول',
  you: 'أنت',
  assistant: 'المساعد',
  agent: 'فريق الدعم',
  launcher: 'تحدث معنا',
  signIn: 'يرجى تسجيل الدخول للدردشة معنا.',
  agentTyping: '{name} يكتب…',
  away: 'نحن غير متاحين الآن.',
  back: 'سنرد عليك اعتبارًا من {when}.',
  emailAsk: 'اترك بريدك الإلكتروني وسنرد عليك هناك.',
  email: 'البريد الإلكتروني',
  emailSent: 'شكرًا! سنرد على {email}.',
  resolved: 'تم حل هذه المحادثة.',
  rate: 'كيف كانت خدمتنا؟',
  stars: '{n} من 5',
  comment: 'هل تريد إضافة شيء؟ (اختياري)',
  rated: 'شكرًا لملاحظاتك!',
};

/** A string with its `{name}` slots filled. */
export const fill = (s: string, values: Record<string, string | number>): string => s.replace(/\{(\w+)\}/g, (m, k: string) => String(values[k] ?? m));

const TABLE: Record<string, Strings> = { en, fr, de, ar };
const RTL = new Set(['ar', 'he', 'fa', 'ur']);

/**
 * Picks the strings for a locale option ('auto' follows the browser), falling back to English. `tag` is
 * the whole tag that matched (en-GB, fr-CA), so dates read the way the visitor's region writes them.
 */
export function strings(locale: string | undefined, browser: readonly string[] = typeof navigator === 'undefined' ? [] : navigator.languages ?? [navigator.language]): { lang: string; tag: string; dir: 'ltr' | 'rtl'; t: Strings } {
  const wanted = locale && locale !== 'auto' ? [locale] : browser;
  for (const l of wanted) {
    const lang = l.toLowerCase().split('-')[0]!;
    if (TABLE[lang]) return { lang, tag: l, dir: RTL.has(lang) ? 'rtl' : 'ltr', t: TABLE[lang] };
  }
  return { lang: 'en', tag: 'en', dir: 'ltr', t: en };
}
