// One live inbox for the signed-in console, whatever view is open: a handoff arriving while the agent
// reads the knowledge page still beeps, notifies and counts in the tab title.
import type { AdminMe } from '@parley/protocol';
import { createContext, type ComponentChildren } from 'preact';
import { useContext, useEffect, useMemo, useReducer } from 'preact/hooks';
import type { Api } from '../api.js';
import { alertAgent, titleFor, unlockAudio } from './alerts.js';
import { InboxLive, type EventSourceFactory } from './live.js';

interface LiveValue {
  live: InboxLive;
  /** Opens a conversation in the inbox (from a notification or elsewhere). */
  open: (conversationId: string) => void;
  /** The conversation asked for, taken once by the inbox view. */
  takeRequest: () => string | null;
}

const LiveContext = createContext<LiveValue | null>(null);

/** The live inbox, re-rendering the caller on every change; null when this session has no inbox. */
export function useLive(): LiveValue | null {
  const value = useContext(LiveContext);
  const [, bump] = useReducer((n: number) => n + 1, 0);
  useEffect(() => value?.live.subscribe(() => bump(undefined)), [value]);
  return value;
}

export function LiveInbox({
  api,
  me,
  label,
  openStream,
  children,
}: {
  api: Api;
  me: AdminMe | null;
  label: string;
  openStream?: EventSourceFactory;
  children: ComponentChildren;
}) {
  // The stream and lists show message text (conversations:read); presence belongs to the inbox (handoffs:read).
  const enabled = !!me?.capabilities.includes('handoffs:read') && me.capabilities.includes('conversations:read');
  const member = me?.member ?? null;
  const meId = member?.id ?? null;
  const value = useMemo<LiveValue | null>(() => {
    if (!enabled) return null;
    let request: string | null = null;
    const open = (id: string) => {
      request = id;
      if (location.hash !== '#inbox') location.hash = '#inbox';
      live.changed();
    };
    const live = new InboxLive({
      api,
      me: member ? { id: member.id, displayName: member.displayName } : null,
      ...(openStream ? { openStream } : {}),
      onAttention: (a) => alertAgent(a, open),
    });
    return {
      live,
      open,
      takeRequest: () => {
        const r = request;
        request = null;
        return r;
      },
    };
  }, [api, enabled, meId]);
  useEffect(() => {
    if (!value) return;
    value.live.start();
    // Browsers let a page make sound only after a gesture: the first click or key press prepares it.
    const unlock = () => unlockAudio();
    addEventListener('pointerdown', unlock, { once: true });
    addEventListener('keydown', unlock, { once: true });
    // Back to this tab: what arrived in the open conversation meanwhile is now seen.
    const seen = () => document.visibilityState === 'visible' && value.live.focus(value.live.focused);
    document.addEventListener('visibilitychange', seen);
    return () => {
      value.live.stop();
      removeEventListener('pointerdown', unlock);
      removeEventListener('keydown', unlock);
      document.removeEventListener('visibilitychange', seen);
    };
  }, [value]);
  const [, bump] = useReducer((n: number) => n + 1, 0);
  useEffect(() => value?.live.subscribe(() => bump(undefined)), [value]);
  const unread = value?.live.unread.size ?? 0;
  useEffect(() => {
    document.title = titleFor(label, unread);
  }, [label, unread]);
  // Signed out: the page's own title again, with no count.
  useEffect(() => () => void (document.title = 'Parley console'), []);
  return <LiveContext.Provider value={value}>{children}</LiveContext.Provider>;
}
