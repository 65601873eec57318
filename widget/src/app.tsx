// The chat panel: streamed answers, citations, a person always one click away, live agent messages
// (with the agent's name, typing both ways, a rating once resolved, an email outside business hours),
// actions the visitor confirms and their outcome, offline and error states with retry, keyboard and
// screen-reader friendly. The rating, the away card and the actions are parts loaded when first needed.
import {
  newClientMessageId,
  type ActionOffer,
  type Citation,
  type Message,
  type OutsideHours,
  type ParleyClient,
  type WidgetProposal,
  type WidgetSettings,
} from '@parley/browser';
import { MAX_MESSAGE_CHARS } from '@parley/protocol/constants';
import { useEffect, useRef, useState } from 'preact/hooks';
import './bidi.js';
import { fill, fillNodes, type CoreStrings, type Strings } from './i18n.js';
import { usePart } from './lazy.js';
import { link, Markdown, safeHref } from './markdown.js';
import { stage } from './stage.js';
import { typingSender, type TypingSender } from './typing.js';

export interface Controller {
  open: boolean;
  setOpen(open: boolean): void;
  emit(event: string, data?: unknown): void;
  /** How many messages came while the panel was closed (0 once it opens): the launcher says so. */
  unread(n: number): void;
  /** Bumped when the visitor's identity changes: a different identity means a new conversation. */
  identity: number;
  verified: boolean;
  settings: WidgetSettings | null;
}

type Status = { kind: 'ok' } | { kind: 'offline'; retry?: () => void } | { kind: 'error'; retry: () => void } | { kind: 'signin' };

const offline = () => typeof navigator !== 'undefined' && navigator.onLine === false;
const problemType = (err: unknown) => (err as { type?: string } | null)?.type ?? '';

// An agent's "typing" that never gets its "stopped" (a closed console tab) fades after this long.
const TYPING_MS = 6000;

export function App({
  client,
  t,
  lang,
  tag,
  dir,
  ctl,
}: {
  client: ParleyClient;
  t: CoreStrings;
  /** The language of `t` (i18n.ts `strings`); `tag` is the whole locale it matched. */
  lang: string;
  tag: string;
  dir: 'ltr' | 'rtl';
  ctl: Controller;
}) {
  const [messages, setMessages] = useState<Message[]>([]);
  // The visitor's message until the server has it (or while it waits for the connection), shown at once.
  const [pending, setPending] = useState<Message | null>(null);
  // null: not answering; '': waiting for the first token; text: the answer so far.
  const [draft, setDraft] = useState<string | null>(null);
  // A person is involved (asked for, or working the conversation).
  const [handoff, setHandoff] = useState(false);
  // An agent has replied since the handoff: "a member of our team will reply" has done its job.
  const [answered, setAnswered] = useState(false);
  // Handed off outside business hours: when the team is back.
  const [away, setAway] = useState<{ nextOpenAt?: string | null | undefined; left: boolean } | null>(null);
  // The agent typing now ('' when the event carries no name), or null.
  const [typing, setTyping] = useState<string | null>(null);
  const typingTimer = useRef<ReturnType<typeof setTimeout>>();
  // Resolved by the agent: the notice (with the rating when offered) sits after the message the feed
  // carried last before it (null: at the end), in place when a reload replays the feed.
  const [resolved, setResolved] = useState<{ id: string; csat: boolean; after: string | null } | null>(null);
  // The action offered with an answer (after that message), and the proposals, each where it was made.
  const [offer, setOffer] = useState<{ after: string; offer: ActionOffer } | null>(null);
  const [proposals, setProposals] = useState<WidgetProposal[]>([]);
  const [status, setStatus] = useState<Status>({ kind: offline() ? 'offline' : 'ok' });
  const statusNow = useRef(status);
  statusNow.current = status;
  const [text, setText] = useState('');
  const [conversationId, setConversationId] = useState<string | null>(client.stored?.conversationId ?? null);
  const [loaded, setLoaded] = useState(false);
  // The parts, from the first time the conversation has their kind of card.
  const A = usePart('actions', !!offer || proposals.length > 0);
  const R = usePart('rating', !!resolved);
  const W = usePart('away', !!away);
  // A part's strings: the language's table has them; English comes with the part.
  const tp = { ...A?.en, ...R?.en, ...W?.en, ...t } as Strings;
  const input = useRef<HTMLTextAreaElement>(null);
  const panel = useRef<HTMLDivElement>(null);
  const log = useRef<HTMLDivElement>(null);

  // Messages arrive on two paths (the answer stream and the live feed): keep each once.
  const add = (m: Message) => setMessages((list) => (list.some((x) => x.id === m.id) ? list : [...list, m]));
  // A proposal's statuses arrive on the stream and in the answer to confirming, in either order.
  const track = (p: WidgetProposal) =>
    setProposals((list) => {
      const old = list.find((x) => x.id === p.id);
      return !old ? [...list, p] : stage(p) < stage(old) ? list : list.map((x) => (x === old ? p : x));
    });

  const agentTyping = (name: string | null) => {
    clearTimeout(typingTimer.current);
    setTyping(name);
    if (name !== null) typingTimer.current = setTimeout(() => setTyping(null), TYPING_MS);
  };
  const handedOff = (h: OutsideHours) => {
    setHandoff(true);
    setAnswered(false);
    setResolved(null);
    setAway(h.outsideHours ? { nextOpenAt: h.nextOpenAt, left: !!h.contactLeft } : null);
  };

  // The visitor's typing reaches the agent only while a person is involved.
  const typingTo = useRef<string | null>(null);
  typingTo.current = handoff ? conversationId : null;
  const typer = useRef<TypingSender>();
  typer.current ??= typingSender((active) => {
    const id = typingTo.current;
    if (id) client.sendTyping(id, active).catch(() => {});
  });

  const fail = (retry: () => void) => (err: unknown) => {
    setDraft(null);
    if (problemType(err).endsWith('/identity-required')) setStatus({ kind: 'signin' });
    else setStatus(offline() || (err as { status?: number })?.status === 0 ? { kind: 'offline', retry } : { kind: 'error', retry });
    ctl.emit('error', err);
  };

  // The stored conversation, once the panel is open and the settings are known.
  useEffect(() => {
    if (!ctl.open || !ctl.settings || loaded) return;
    const load = () => {
      setStatus({ kind: 'ok' });
      const id = client.stored?.conversationId;
      if (!id) return setLoaded(true);
      client
        .getConversation(id)
        .then((c) => {
          setMessages(c.messages);
          setHandoff(c.conversation.status === 'handoff');
          setAnswered(c.messages.some((m) => m.role === 'agent'));
          setConversationId(id);
          setLoaded(true);
        })
        .catch((err: unknown) => {
          // Gone, or bound to another identity: start afresh.
          if ((err as { status?: number })?.status === 404) {
            client.remember({ conversationId: undefined });
            setConversationId(null);
            setLoaded(true);
          } else fail(load)(err);
        });
    };
    load();
  }, [ctl.open, ctl.settings]);

  // A new identity starts a new conversation.
  useEffect(() => {
    if (!ctl.identity) return;
    setMessages([]);
    setHandoff(false);
    setAway(null);
    setResolved(null);
    setOffer(null);
    setProposals([]);
    agentTyping(null);
    setConversationId(null);
    setPending(null);
  }, [ctl.identity]);

  // Live events: agent and system messages, handoff status, the agent typing, resolved and reopened.
  // A new stream replays the conversation's events from the start, so this state rebuilds on reload.
  // The client reconnects by itself.
  useEffect(() => {
    if (!conversationId || !loaded) return;
    const ac = new AbortController();
    (async () => {
      let last: string | null = null;
      for await (const e of client.events(conversationId, { signal: ac.signal })) {
        if (e.event === 'message') {
          last = e.data.message.id;
          add(e.data.message);
          // This tab's own, stored: no longer shown as on its way.
          setPending((p) => (p?.id === e.data.clientMessageId ? null : p));
          if (e.data.message.role === 'agent') {
            setAnswered(true);
            agentTyping(null);
            ctl.emit('message', e.data.message);
          }
        } else if (e.event === 'handoff') handedOff(e.data);
        else if (e.event === 'status') setHandoff(e.data.handoff.status !== 'resolved');
        else if (e.event === 'assigned') setHandoff(true);
        // The visitor's own typing comes back on this stream too: only the agent's shows.
        else if (e.event === 'typing') e.data.role === 'agent' && agentTyping(e.data.active ? (e.data.name ?? '') : null);
        else if (e.event === 'resolved') {
          setHandoff(false);
          setAway(null);
          agentTyping(null);
          setResolved({ id: e.data.handoff.id, csat: e.data.csat, after: last });
        } else if (e.event === 'reopened') {
          setResolved(null);
          setHandoff(true);
        } else if (e.event === 'action') track(e.data.proposal);
      }
    })().catch(() => {});
    return () => ac.abort();
  }, [conversationId, loaded]);

  // A closed panel is not typing.
  useEffect(() => {
    if (!ctl.open) typer.current!.stop();
  }, [ctl.open]);

  // Focus moves into the dialog on open (the launcher gets it back on close, see widget.tsx).
  useEffect(() => {
    if (ctl.open) input.current?.focus();
  }, [ctl.open]);

  // The latest in view: as it comes, and as the panel opens (on what came while it was closed).
  useEffect(() => {
    log.current?.lastElementChild?.scrollIntoView?.({ block: 'end' });
  }, [ctl.open, messages, pending, draft, typing, resolved, handoff, offer, proposals, A, R, W]);

  // What came while the panel was closed: the messages after the last one seen open (all, when that one
  // went with a new identity), but the visitor's own (typed in another tab).
  const seen = useRef<Message>();
  if (ctl.open) seen.current = messages[messages.length - 1];
  const unread = messages.slice(messages.indexOf(seen.current!) + 1).filter((m) => m.role !== 'visitor').length;
  useEffect(() => ctl.unread(unread), [unread]);

  useEffect(() => {
    // Back online: whatever failed is tried again (each retry clears the status itself).
    const on = () => {
      const s = statusNow.current;
      if (s.kind === 'offline') s.retry ? s.retry() : setStatus({ kind: 'ok' });
    };
    const off = () => setStatus((s) => (s.kind === 'offline' ? s : { kind: 'offline' }));
    addEventListener('online', on);
    addEventListener('offline', off);
    return () => {
      removeEventListener('online', on);
      removeEventListener('offline', off);
    };
  }, []);

  async function ensureConversation(): Promise<string> {
    if (conversationId) return conversationId;
    const c = await client.createConversation();
    setConversationId(c.id);
    setLoaded(true);
    return c.id;
  }

  // The same client message id on a retry: the server stores the message once.
  // `pick`: a "Did you mean" offer the visitor clicked; the answer is its passage.
  async function send(body: string, clientMessageId: string, pick?: Citation) {
    setStatus({ kind: 'ok' });
    setDraft('');
    setPending({ id: clientMessageId, role: 'visitor', text: body, citations: [], createdAt: '' });
    try {
      const id = await ensureConversation();
      let acc = '';
      for await (const e of pick ? client.pick(id, pick, clientMessageId) : client.sendMessage(id, body, clientMessageId)) {
        if (e.event === 'message') {
          add(e.data.message);
          setPending(null);
        } else if (e.event === 'delta') setDraft((acc += e.data.text));
        else if (e.event === 'done') {
          setDraft(null);
          const m = e.data.message;
          add(m);
          setOffer(m.offer ? { after: m.id, offer: m.offer } : null);
          ctl.emit('message', m);
        } else if (e.event === 'handoff') handedOff(e.data);
        else throw e.data;
      }
      setDraft(null);
      setPending(null);
    } catch (err) {
      fail(() => void send(body, clientMessageId, pick))(err);
    }
  }

  const submit = (e: Event) => {
    e.preventDefault();
    // From the element: a fast Enter may come before the last keystroke's state has rendered.
    const body = (input.current?.value ?? text).trim();
    if (!body || draft !== null) return;
    // A message not sent yet goes first: this is a retry, and the new text waits in the box.
    if (pending) return void send(pending.text, pending.id);
    setText('');
    typer.current!.stop();
    void send(body, newClientMessageId());
  };

  const human = async () => {
    try {
      setStatus({ kind: 'ok' });
      const id = await ensureConversation();
      handedOff(await client.requestHandoff(id));
    } catch (err) {
      fail(() => void human())(err);
    }
  };

  // Tab stays inside the dialog; Escape closes it.
  const onKey = (e: KeyboardEvent) => {
    if (e.key === 'Escape') {
      e.stopPropagation();
      return ctl.setOpen(false);
    }
    if (e.key !== 'Tab' || !panel.current) return;
    const focusable = [...panel.current.querySelectorAll<HTMLElement>('button,textarea,input,a[href]')].filter((el) => !el.hasAttribute('disabled'));
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
  const bubble = (m: Message) =>
    m.role === 'system' ? (
      <div key={m.id} class="note" dir="auto">
        {m.text}
      </div>
    ) : (
      <div key={m.id} class={`m ${m.role}`}>
        {m.role === 'agent' && m.author ? (
          <span class="who">
            <span class="av" aria-hidden="true">
              {m.author.initial}
            </span>
            {m.author.name}
          </span>
        ) : (
          <span class="who">{who(m.role)}</span>
        )}
        {/* A handoff notice and a "Did you mean" offer (every citation suggested) are said in the visitor's
            language. In English, a notice is as stored (its reason's own words): what the agent reads is what the
            visitor saw. */}
        <Markdown
          text={m.notice && lang !== 'en' ? t.notice : m.citations.length && m.citations.every((c) => c.suggested) ? t.suggest : m.text}
          citations={m.citations}
        />
        {m.citations.length > 0 && (
          <ol class="src" aria-label={t.sources}>
            {m.citations.map((c, i) => {
              const href = c.url ? safeHref(c.url) : null;
              // The number the answer's [n] marker points at, and the title in its own direction.
              const title = <bdi>{c.title}</bdi>;
              return (
                <li key={c.chunkId}>
                  <span class="n">[{i + 1}]</span>{' '}
                  {c.suggested ? (
                    <button type="button" onClick={() => void send(c.title, newClientMessageId(), c)}>
                      {title}
                    </button>
                  ) : href ? (
                    link(href, title)
                  ) : (
                    title
                  )}
                </li>
              );
            })}
          </ol>
        )}
        {m === pending && status.kind !== 'ok' && <span class="who">{t.unsent}</span>}
      </div>
    );
  // A sent form gives way to its thank-you: focus goes back to the composer rather than to nowhere.
  const refocus = () => void input.current?.focus();
  const confirm = (o: ActionOffer) => async (args: Record<string, unknown>) => {
    try {
      setStatus({ kind: 'ok' });
      track(await client.propose(conversationId!, { actionId: o.actionId, arguments: args }));
      setOffer(null);
      refocus();
    } catch (err) {
      fail(() => void confirm(o)(args))(err);
      throw err;
    }
  };
  const dismiss = () => {
    setOffer(null);
    refocus();
  };
  // A 409: this resolution was rated already (its notice replayed after a reload), so it counts as given.
  const rate = (score: number, comment?: string) =>
    client
      .rate(conversationId!, score, comment)
      .catch((err: unknown) => {
        if ((err as { status?: number })?.status !== 409) throw err;
      })
      .then(refocus);
  const leave = (email: string) => client.leaveContact(conversationId!, email).then(refocus);
  // Each message, then what came after it: the offer made with it, proposals made before the next
  // message, the resolved notice. Proposals from before the first message lead.
  const at = (m?: Message) => m?.createdAt ?? '~';
  const since = (from: string, to: string) =>
    A ? proposals.filter((p) => p.createdAt >= from && p.createdAt < to).map((p) => <A.Proposal key={p.id} p={p} t={tp} />) : [];
  const rows: unknown[] = [
    since('', at(messages[0])),
    ...messages.map((m, i) => [
      bubble(m),
      A && offer?.after === m.id && <A.Offer key={`o${m.id}`} offer={offer.offer} t={tp} confirm={confirm(offer.offer)} dismiss={dismiss} />,
      since(m.createdAt, at(messages[i + 1])),
    ]),
  ];
  if (resolved && R)
    rows.splice(
      (messages.findIndex((m) => m.id === resolved.after) + 1 || rows.length - 1) + 1,
      0,
      <R.Rating key={resolved.id} t={tp} rate={resolved.csat ? rate : null} />,
    );
  const items = rows.flat(2);
  const name = ctl.settings?.tenantName;
  // Where the site requires sign-in, an anonymous visitor is told before typing anything the server would refuse.
  const locked = ctl.settings?.identityMode === 'required' && !ctl.verified;
  const bar = locked ? ({ kind: 'signin' } as const) : status;
  return (
    <div class="p" role="dialog" aria-modal="true" aria-labelledby="parley-title" dir={dir} ref={panel} onKeyDown={onKey}>
      {/* Not a <header>: inside the page it would be a second banner landmark. */}
      <div class="hd">
        {/* The badge under the title, so the title keeps the width of the header's buttons' side. */}
        <div class="ttl">
          <h2 id="parley-title">
            {name && (
              <>
                <bdi>{name}</bdi> ·{' '}
              </>
            )}
            {t.title}
          </h2>
          {ctl.verified && <span class="v">{t.verified}</span>}
        </div>
        <button type="button" onClick={human} disabled={handoff || locked}>
          {t.human}
        </button>
        <button type="button" onClick={() => ctl.setOpen(false)} aria-label={t.close}>
          ×
        </button>
      </div>
      {bar.kind !== 'ok' && (
        <div class="bar" role={bar.kind === 'error' ? 'alert' : 'status'}>
          {bar.kind === 'offline' ? t.offline : bar.kind === 'signin' ? t.signIn : t.error}
          {(bar.kind === 'error' || (bar.kind === 'offline' && bar.retry)) && (
            <button type="button" onClick={bar.retry}>
              {t.retry}
            </button>
          )}
        </div>
      )}
      {/* Focusable, so a keyboard can scroll it when nothing in it takes focus. */}
      <div class="log" role="log" aria-live="polite" aria-relevant="additions" tabIndex={0} ref={log}>
        {!ctl.settings ? (
          <div class="note dots" aria-hidden="true" />
        ) : ctl.settings.greeting ? (
          <div class="m assistant" dir="auto">
            {ctl.settings.greeting}
          </div>
        ) : (
          <div class="m assistant">{fillNodes(t.greeting, { name: <bdi>{ctl.settings.tenantName}</bdi> })}</div>
        )}
        {items}
        {pending && bubble(pending)}
        {/* The answer in progress is hidden from screen readers: the finished one is announced once. */}
        {draft !== null &&
          (draft ? (
            <div class="m assistant" aria-hidden="true">
              <Markdown text={draft} />
            </div>
          ) : (
            <div class="note dots" role="status">
              {t.typing}
            </div>
          ))}
        {handoff &&
          !answered &&
          (away
            ? W && <W.Away t={tp} tag={tag} nextOpenAt={away.nextOpenAt} left={away.left} leave={leave} />
            : // Right under the assistant's notice, the note would say it twice.
              !messages[messages.length - 1]?.notice && <div class="note">{t.handoff}</div>)}
        {typing !== null && (
          <div class="note" role="status">
            {fillNodes(t.agentTyping, { name: <bdi>{typing || t.agent}</bdi> })}
          </div>
        )}
      </div>
      {/* The box takes no more (a longer paste is cut): say so. */}
      {text.length >= MAX_MESSAGE_CHARS && (
        <div class="bar" role="status">
          {fill(t.limit, { n: MAX_MESSAGE_CHARS })}
        </div>
      )}
      <form onSubmit={submit}>
        <textarea
          ref={input}
          // What is typed takes its own direction (Arabic in an English page, Latin in an Arabic one); empty,
          // the box keeps the panel's, where its placeholder belongs (auto would make an empty box left to right).
          dir={text ? 'auto' : undefined}
          rows={2}
          disabled={locked}
          value={text}
          aria-label={t.placeholder}
          placeholder={t.placeholder}
          maxLength={MAX_MESSAGE_CHARS}
          onInput={(e) => {
            setText((e.target as HTMLTextAreaElement).value);
            if (typingTo.current) typer.current!.input();
          }}
          onBlur={() => typer.current!.stop()}
          onKeyDown={(e) => {
            if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) submit(e);
          }}
        />
        <button type="submit" disabled={locked || draft !== null || !text.trim()}>
          {t.send}
        </button>
      </form>
    </div>
  );
}
