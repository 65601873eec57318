// How the inbox gets an agent's attention: a browser notification (only once the agent granted it, asked
// from a button, never on load), a short beep made with WebAudio (no audio file; the agent can turn it
// off, remembered in this browser), and the unread count in the tab title.
import type { Attention } from './live.js';
import { reasonText, visitorName } from './format.js';

const SOUND_KEY = 'parley.inbox.sound';

/** Whether the beep is on (it is unless the agent turned it off in this browser). */
export function soundOn(storage: Storage = localStorage): boolean {
  try {
    return storage.getItem(SOUND_KEY) !== 'off';
  } catch {
    return true;
  }
}

export function setSoundOn(on: boolean, storage: Storage = localStorage): void {
  try {
    if (on) storage.removeItem(SOUND_KEY);
    else storage.setItem(SOUND_KEY, 'off');
  } catch {
    // Storage refused (private mode): the choice lasts for this page only.
  }
}

let audio: AudioContext | null = null;

/**
 * Prepares the audio context during a user action: browsers start one suspended without a gesture, and a
 * beep played from an event stream later would then be silent.
 */
export function unlockAudio(): void {
  const Ctx = typeof window !== 'undefined' ? window.AudioContext : undefined;
  if (!Ctx) return;
  audio ??= new Ctx();
  if (audio.state === 'suspended') void audio.resume().catch(() => undefined);
}

/** Two short tones, quiet, about a quarter of a second. */
export function beep(): void {
  if (!audio || audio.state !== 'running') return;
  const t = audio.currentTime;
  for (const [freq, at] of [
    [880, 0],
    [1320, 0.12],
  ] as const) {
    const osc = audio.createOscillator();
    const gain = audio.createGain();
    osc.type = 'sine';
    osc.frequency.value = freq;
    gain.gain.setValueAtTime(0.0001, t + at);
    gain.gain.exponentialRampToValueAtTime(0.15, t + at + 0.01);
    gain.gain.exponentialRampToValueAtTime(0.0001, t + at + 0.1);
    osc.connect(gain).connect(audio.destination);
    osc.start(t + at);
    osc.stop(t + at + 0.11);
  }
}

export type Permission = NotificationPermission | 'unsupported';

export const notificationPermission = (): Permission => (typeof Notification === 'undefined' ? 'unsupported' : Notification.permission);

/** Asks to show notifications; call it from a click. */
export async function askNotifications(): Promise<Permission> {
  if (typeof Notification === 'undefined') return 'unsupported';
  unlockAudio();
  return Notification.requestPermission();
}

/** What a notification says: who, and why or what (redacted text as stored, shortened). */
export function describe(a: Attention): { title: string; body: string; tag: string } {
  if (a.kind === 'handoff') {
    return {
      title: `New handoff: ${visitorName(a.row.visitor)}`,
      body: `${reasonText(a.row.reason)}${a.row.lastMessage ? ` — ${short(a.row.lastMessage.text)}` : ''}`,
      tag: `handoff:${a.row.conversationId}`,
    };
  }
  return { title: `${visitorName(a.row.visitor)} wrote`, body: short(a.message.text), tag: `message:${a.conversationId}` };
}

const short = (s: string) => (s.length > 120 ? `${s.slice(0, 119)}…` : s);

/** Notifies (when granted) and beeps (when on); a click on the notification opens that conversation. */
export function alertAgent(a: Attention, open: (conversationId: string) => void): void {
  if (soundOn()) beep();
  if (notificationPermission() !== 'granted') return;
  const { title, body, tag } = describe(a);
  try {
    const n = new Notification(title, { body, tag });
    n.onclick = () => {
      window.focus();
      open(a.row.conversationId);
      n.close();
    };
  } catch {
    // Some browsers only allow notifications from a service worker: the title and the beep remain.
  }
}

/** The tab title: the unread count first, so it shows in a narrow tab, e.g. "(3) Inbox — Parley". */
export const titleFor = (label: string, unread: number): string => `${unread > 0 ? `(${unread}) ` : ''}${label} — Parley`;
