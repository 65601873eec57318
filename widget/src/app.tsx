// The chat panel: streamed answers, citations, a person always one click away, live agent messages,
// offline and error states with retry, keyboard and screen-reader friendly.
import type { Citation, Message, WidgetSettings } from '@parley/protocol';
import type { ParleyClient } from '@parley/browser';
import { useEffect, useRef, useState } from 'preact/hooks';
import type { Strings } from './i18n.js';
import { Markdown } from './markdown.js';

export interface Controller {
  open: boolean;
  setOpen(open: boolean): void;
  emit(event: string, data?: unknown): void;
  /** Bumped when the visitor's identity changes: a different identity means a new conversation. */
  identity: number;
  verified: boolean;
}

interface Shown {
  id: string;
  role: Message['role'];
  text: string;
  citations: Citation[];
}

type Status = { kind: 'ok' } | { kind: 'offline' } | { kind: 'error'; retry: () => void };

export function App({ client, t, dir, ctl, launcher }: { client: ParleyClient; t: Strings; dir: 'ltr' | 'rtl'; ctl: Controller; launcher: HTMLButtonElement }) {
  const [settings, setSettings] = useState<WidgetSettings | null>(null);
  const [messages, setMessages] = useState<Shown[]>([]);
  const [draft, setDraft] = useState<string | null>(null);
  const [handoff, setHandoff] = useState(false);
  const [status, setStatus] = useState<Status>({ kind: typeof navigator !== 'undefined' && navigator.onLine === false ? 'offline' : 'ok' });
  const [text, setText] = useState('');
  const [conversationId, setConversationId] = useState<string | null>(client.stored?.conversationId ?? null);
  const input = useRef<HTMLTextAreaElement>(null);
  const panel = useRef<HTMLDivElement>(null);
  const log = useRef<HTMLDivElement>(null);

  const fail = (retry: () => void) => (err: unknown) => {
    setDraft(null);
    setStatus(typeof navigator !== 'undefined' && navigator.onLine === false ? { kind: 'offline' } : { kind: 'error', retry });
    ctl.emit('error', err);
  };

  // Settings and the stored conversation, on first open.
  useEffect(() => {
    if (!ctl.open || settings) return;
    const boot = () =>
      client
        .config()
        .then(async (s) => {
          setSettings(s);
          setStatus({ kind: 'ok' });
          const id = client.stored?.conversationId;
          if (!id) return;
          const c = await client.getConversation(id).catch(() => null);
          if (!c) return client.remember({ conversationId: undefined });
          setMessages(c.messages);
          setHandoff(c.conversation.status === 'handoff');
          setConversationId(id);
        })
        .catch(fail(boot));
    boot();
  }, [ctl.open]);

  // A new identity starts a new conversation.
  useEffect(() => {
    if (!ctl.identity) return;
    setMessages([]);
    setHandoff(false);
    setConversationId(null);
  }, [ctl.identity]);

  // Live events: agent and system messages, handoff status.
  useEffect(() => {
    if (!conversationId) return;
    const ac = new AbortController();
    (async () => {
      for await (const e of client.events(conversationId, { signal: ac.signal })) {
        if (e.event === 'message') {
          const m = e.data.message;
          setMessages((list) => (list.some((x) => x.id === m.id) ? list : [...list, m]));
          if (m.role === 'agent') ctl.emit('message', m);
        } else if (e.event === 'handoff') setHandoff(true);
        else if (e.event === 'status') setHandoff(e.data.handoff.status !== 'resolved');
      }
    })().catch(() => {});
    return () => ac.abort();
  }, [conversationId]);

  // Focus moves into the dialog on open and back to the launcher on close.
  useEffect(() => {
    if (ctl.open) input.current?.focus();
  }, [ctl.open, settings]);

  useEffect(() => {
    log.current?.lastElementChild?.scrollIntoView?.({ block: 'end' });
  }, [messages, draft]);

  useEffect(() => {
    const on = () => setStatus({ kind: 'ok' });
    const off = () => setStatus({ kind: 'offline' });
    addEventListener('online', on);
    addEventListener('offline', off);
    return () => {
      removeEventListener('online', on);
      removeEventListener('offline', off);
    };
  }, []);

  const close = () => {
    ctl.setOpen(false);
    launcher.focus();
  };

  async function ensureConversation(): Promise<string> {
    if (conversationId) return conversationId;
    const c = await client.createConversation();
    setConversationId(c.id);
    return c.id;
  }

  async function send(body: string) {
    setStatus({ kind: 'ok' });
    setDraft('');
    try {
      const id = await ensureConversation();
      let acc = '';
      for await (const e of client.sendMessage(id, body)) {
        if (e.event === 'message') setMessages((l) => [...l, e.data.message]);
        else if (e.event === 'delta') setDraft((acc += e.data.text));
        else if (e.event === 'done') {
          setDraft(null);
          setMessages((l) => [...l, e.data.message]);
          ctl.emit('message', e.data.message);
        } else if (e.event === 'handoff') setHandoff(true);
        else if (e.event === 'error') throw new Error(e.data.title);
      }
      setDraft(null);
    } catch (err) {
      fail(() => void send(body))(err);
    }
  }

  const submit = (e: Event) => {
    e.preventDefault();
    const body = text.trim();
    if (!body || draft !== null) return;
    setText('');
    void send(body);
  };

  const human = async () => {
    try {
      const id = await ensureConversation();
      await client.requestHandoff(id);
      setHandoff(true);
    } catch (err) {
      fail(() => void human())(err);
    }
  };

  // Tab stays inside the dialog; Escape closes it.
  const onKey = (e: KeyboardEvent) => {
    if (e.key === 'Escape') return close();
    if (e.key !== 'Tab' || !panel.current) return;
    const focusable = [...panel.current.querySelectorAll<HTMLElement>('button,textarea,a[href]')].filter((el) => !el.hasAttribute('disabled'));
    const first = focusable[0];
    const last = focusable[focusable.length - 1];
    const active = (panel.current.getRootNode() as ShadowRoot).activeElement;
    if (e.shiftKey && active === first) {
      e.preventDefault();
      last?.focus();
    } else if (!e.shiftKey && active === last) {
      e.preventDefault();
      first?.focus();
    }
  };

  if (!ctl.open) return null;
  const who = (r: Message['role']) => (r === 'visitor' ? t.you : r === 'agent' ? t.agent : t.assistant);
  return (
    <div class="p" role="dialog" aria-modal="true" aria-labelledby="parley-title" dir={dir} ref={panel} onKeyDown={onKey}>
      <header>
        <h2 id="parley-title">{settings?.tenantName ? `${settings.tenantName} · ${t.title}` : t.title}</h2>
        {ctl.verified && <span class="v">{t.verified}</span>}
        <button type="button" onClick={human} disabled={handoff}>
          {t.human}
        </button>
        <button type="button" onClick={close} aria-label={t.close}>
          ×
        </button>
      </header>
      {status.kind === 'offline' && (
        <div class="bar" role="status">
          {t.offline}
        </div>
      )}
      {status.kind === 'error' && (
        <div class="bar" role="alert">
          {t.error}
          <button type="button" onClick={status.retry}>
            {t.retry}
          </button>
        </div>
      )}
      <div class="log" role="log" aria-live="polite" aria-relevant="additions" ref={log}>
        {settings && <div class="m assistant">{settings.greeting}</div>}
        {messages.map((m) => (
          <div key={m.id} class={`m ${m.role}`}>
            <span class="who">{who(m.role)}</span>
            <Markdown text={m.text} citations={m.citations} />
            {m.citations.length > 0 && (
              <ol class="src" aria-label={t.sources}>
                {m.citations.map((c, i) => (
                  <li key={c.chunkId}>
                    [{i + 1}] <Markdown text={c.url ? `[${c.title}](${c.url})` : c.title} />
                  </li>
                ))}
              </ol>
            )}
          </div>
        ))}
        {draft !== null &&
          (draft ? (
            <div class="m assistant">
              <Markdown text={draft} />
            </div>
          ) : (
            <div class="note dots" role="status">
              {t.typing}
            </div>
          ))}
        {handoff && <div class="note">{t.handoff}</div>}
      </div>
      <form onSubmit={submit}>
        <textarea
          ref={input}
          rows={2}
          value={text}
          aria-label={t.placeholder}
          placeholder={t.placeholder}
          maxLength={4000}
          onInput={(e) => setText((e.target as HTMLTextAreaElement).value)}
          onKeyDown={(e) => {
            if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) submit(e);
          }}
        />
        <button type="submit" disabled={draft !== null || !text.trim()}>
          {t.send}
        </button>
      </form>
    </div>
  );
}
