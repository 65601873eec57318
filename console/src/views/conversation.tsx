// One conversation, worked by an agent: the live transcript (redacted, tokens revealable), replies and
// internal notes, canned replies, typing both ways, who has it (take, assign, reassign, give back), the
// visitor's verified profile and any email they left, resolve and reopen.
import type { AdminMe, VisitorProfileResponse } from '@parley/protocol';
import { isMemberId, MAX_MESSAGE_CHARS, renderCannedReply } from '@parley/protocol/constants';
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { ApiError, type Api } from '../api.js';
import { focusLost, ProblemView, useAction, useLoad, When } from '../components.js';
import { reasonText, visitorName, waited } from '../inbox/format.js';
import type { ConversationEvent, InboxLive } from '../inbox/live.js';
import { RedactedText, Reveal, RevealForm } from '../inbox/redacted.js';
import type { CannedReply, InboxRow, PaneMessage, Presence } from '../inbox/types.js';

interface Transcript {
  conversation: { id: string; status: string; verified: boolean; visitorRef: string; identitySubject: string | null; contactLeft?: boolean };
  messages: PaneMessage[];
}

type Me = AdminMe['member'];

/**
 * Who wrote an agent message or note: "you", a teammate by name, or the label an integration's key gave,
 * marked as a key's: a label may read like a teammate's name, and a note signed "Demo Owner" by a key
 * must not pass for the owner's.
 */
export function authorName(m: Pick<PaneMessage, 'author' | 'authorName'>, me: Me | null, names: Map<string, string>): string {
  const a = m.author;
  if (!a) return m.authorName ?? '';
  const id = typeof a === 'object' ? a.id : a;
  if (id && id === me?.id) return `${me.displayName} (you)`;
  const name = typeof a === 'object' ? a.name : (m.authorName ?? names.get(a) ?? a);
  return id && !isMemberId(id) ? `${name} (API key)` : name;
}

const TYPING_EVERY_MS = 3_000;
const TYPING_IDLE_MS = 5_000;

/** Tells the visitor the agent is typing: at most every few seconds while keys are pressed, and once when they stop. */
function useTypingSignal(api: Api, conversationId: string) {
  const last = useRef(0);
  const idle = useRef<ReturnType<typeof setTimeout> | null>(null);
  const send = (active: boolean) => void api('POST', `/conversations/${conversationId}/typing`, { active }).catch(() => undefined);
  const stop = () => {
    if (idle.current) clearTimeout(idle.current);
    idle.current = null;
    if (last.current) send(false);
    last.current = 0;
  };
  useEffect(() => stop, [conversationId]);
  return {
    typed() {
      const now = Date.now();
      if (now - last.current > TYPING_EVERY_MS) {
        last.current = now;
        send(true);
      }
      if (idle.current) clearTimeout(idle.current);
      idle.current = setTimeout(stop, TYPING_IDLE_MS);
    },
    /** After sending: typing has stopped. */
    sent: stop,
  };
}

export function ConversationPane({
  api,
  me,
  row,
  live,
  team,
  canned,
  onClose,
}: {
  api: Api;
  me: AdminMe | null;
  row: InboxRow;
  live: InboxLive | null;
  /** Who can work the inbox, with their live presence. */
  team: Presence[];
  canned: CannedReply[];
  onClose: () => void;
}) {
  const id = row.conversationId;
  const member = me?.member ?? null;
  const t = useLoad(() => api<Transcript>('GET', `/conversations/${id}`), [id]);
  // The verified profile and any email left: a sensitive read (audited), made only when there is one.
  const wantsProfile = row.visitor.verified || row.contactLeft;
  const visitor = useLoad(
    async () => (wantsProfile ? api<VisitorProfileResponse>('GET', `/conversations/${id}/visitor`) : null),
    [id, wantsProfile, row.contactLeft],
  );
  const [messages, setMessages] = useState<PaneMessage[]>([]);
  const [mode, setMode] = useState<'reply' | 'note'>('reply');
  const [text, setText] = useState('');
  const [token, setToken] = useState<string | null>(null);
  const [assignTo, setAssignTo] = useState('');
  const [status, setStatus] = useState('');
  const action = useAction();
  const typing = useTypingSignal(api, id);
  const log = useRef<HTMLDivElement>(null);
  const textarea = useRef<HTMLTextAreaElement>(null);
  const heading = useRef<HTMLHeadingElement>(null);
  // Opening a conversation moves focus to it: keyboard and screen-reader users land there, and on a
  // narrow screen, where it sits below the list, it scrolls into view.
  useEffect(() => heading.current?.focus(), [id]);
  const names = useMemo(() => new Map(team.map((m) => [m.memberId, m.displayName])), [team]);
  const canWrite = !!me?.capabilities.includes('conversations:write');
  const canAssign = !!me?.capabilities.includes('handoffs:write');
  // Revealing a redacted value is break-glass (pii:reveal): without it tokens are shown, not offered.
  const canReveal = !!me?.capabilities.includes('pii:reveal');

  // The transcript as loaded, then every live message or note of this conversation, each once.
  useEffect(() => {
    if (!t.data) return;
    const loaded = t.data.messages;
    for (const m of loaded) live?.knowMessage(m.id);
    // Messages streamed in while the transcript loaded stay, after it.
    setMessages((ms) => [...loaded, ...ms.filter((m) => !loaded.some((x) => x.id === m.id))]);
  }, [t.data]);
  useEffect(() => {
    live?.focus(id);
    const off = live?.watch(id, (e: ConversationEvent) => {
      if (e.type === 'message' || e.type === 'note') setMessages((ms) => (ms.some((m) => m.id === e.message.id) ? ms : [...ms, e.message]));
    });
    return () => {
      off?.();
      if (live?.focused === id) live.focus(null);
    };
  }, [live, id]);
  useEffect(() => {
    const el = log.current;
    if (el) el.scrollTop = el.scrollHeight;
  }, [messages.length]);

  const add = (m: PaneMessage | undefined) => {
    if (!m?.id) return;
    live?.knowMessage(m.id);
    setMessages((ms) => (ms.some((x) => x.id === m.id) ? ms : [...ms, m]));
  };
  const send = (e: Event) => {
    e.preventDefault();
    void action.run(
      async () => {
        const path = mode === 'note' ? `/conversations/${id}/notes` : `/conversations/${id}/messages`;
        // The author is the signed-in person: the server takes it from the session.
        const out = await api<{ message?: PaneMessage }>('POST', path, { text });
        typing.sent();
        add(out?.message);
        setText('');
        setStatus(mode === 'note' ? 'Note added.' : 'Reply sent.');
      },
      { focus: () => textarea.current },
    );
  };
  // Take and Resolve land the focus in one place, whenever the stream's update of the row comes (before their
  // answer, after it, or not at all): Take on the reply box, Resolve on the conversation's heading (the status
  // line says what was done). Had the focus moved on meanwhile, out of the row of buttons, it stays where it went.
  const assignRow = useRef<HTMLDivElement>(null);
  const landing = useRef<(() => HTMLElement | null | undefined) | null>(null);
  const land = () => {
    const to = landing.current?.();
    landing.current = null;
    const at = document.activeElement;
    if (to && (focusLost() || (at && assignRow.current?.contains(at)))) to.focus();
  };
  const handoff = (body: { status: 'pending' | 'assigned' | 'resolved'; assignedTo?: string }, done: string) =>
    void action.run(async () => {
      if (body.status === 'resolved') landing.current = () => heading.current;
      try {
        await api('PATCH', `/handoffs/${row.handoffId}`, body);
        setStatus(done);
        land();
      } finally {
        landing.current = null;
      }
    });
  // Taking names whom it is taken from (nobody, or the holder shown): a teammate who took it first is
  // not silently taken over, and the refusal says who has it.
  const holderName = (holder: string) =>
    holder === member?.id ? 'You' : (names.get(holder) ?? (isMemberId(holder) ? 'A teammate' : `${holder} (API key)`));
  const take = () =>
    void action.run(async () => {
      landing.current = () => textarea.current ?? heading.current;
      try {
        await api('PATCH', `/handoffs/${row.handoffId}`, { status: 'assigned', expectedAssignee: row.assignee?.id ?? null });
        setStatus('You took this conversation.');
        land();
      } catch (err) {
        if (!(err instanceof ApiError) || err.problem.status !== 409 || err.problem.assignedTo === undefined) throw err;
        const holder = err.problem.assignedTo;
        throw new ApiError({
          ...err.problem,
          detail: holder
            ? `${holderName(holder)} has taken this conversation in the meantime. Take it over if you need to.`
            : 'This conversation went back to the queue in the meantime. Take it again if you still want it.',
        });
      } finally {
        landing.current = null;
      }
    });
  const reopen = () =>
    void action.run(async () => {
      await api('POST', `/handoffs/${row.handoffId}/reopen`, {});
      setStatus('Reopened.');
    });
  // Withheld profile fields, revealed with a reason (audited) until hidden again.
  const [revealing, setRevealing] = useState(false);
  const [revealed, setRevealed] = useState<VisitorProfileResponse | null>(null);
  useEffect(() => {
    setRevealing(false);
    setRevealed(null);
  }, [id]);
  const profile = (revealed ?? visitor.data)?.visitor ?? null;
  const contact = visitor.data?.contact ?? null;
  // A canned reply goes in with its variables filled, for the agent to read and edit before sending;
  // typed after `/` it replaces the shortcut.
  const insertCanned = (c: CannedReply, replacing = false) => {
    const filled = renderCannedReply(c.body, { visitorName: profile?.name ?? row.visitor.name ?? null, agentName: member?.displayName ?? null });
    setText((cur) => (replacing || !cur.trim() ? filled : `${cur.replace(/\s+$/, '')} ${filled}`));
    textarea.current?.focus();
  };
  const slash = /^\/([a-z0-9_-]*)$/.exec(text);
  const suggestions =
    slash && mode === 'reply'
      ? canned.filter((c) => c.shortcut?.startsWith(slash[1]!) || c.title.toLowerCase().startsWith(slash[1]!)).slice(0, 6)
      : [];
  const visitorTyping = live?.typingIn(id);
  // The indicator clears itself when no new "typing" comes in time.
  const [, expire] = useState(0);
  useEffect(() => {
    if (!visitorTyping) return;
    const timer = setTimeout(() => expire((n) => n + 1), Math.max(0, visitorTyping.until - Date.now()) + 50);
    return () => clearTimeout(timer);
  }, [visitorTyping?.until]);
  const mine = !!member && row.assignee?.id === member.id;
  const resolved = row.status === 'resolved';
  // Take, Resolve, Unassign and Reopen each give way to another button once the row changes (as the
  // stream tells it, before or after the request's answer). Had the focus been on one, it goes on: where a
  // Take or Resolve under way lands it, else to the reply box once the conversation is yours, else to the
  // row's first usable button (Reopen once resolved), never the page.
  const inAssignRow = useRef(false);
  useEffect(() => {
    if (!inAssignRow.current || !focusLost()) return;
    inAssignRow.current = false;
    const next =
      landing.current?.() ??
      (mine && !resolved ? textarea.current : null) ??
      assignRow.current?.querySelector<HTMLElement>('button:not(:disabled)') ??
      heading.current;
    next?.focus();
  }, [row.status, row.assignee?.id]);
  const who = visitorName(row.visitor);

  return (
    <section aria-labelledby="transcript-title" class="transcript">
      <div class="pane-head">
        <h2 id="transcript-title" dir="auto" tabIndex={-1} ref={heading}>
          {who}
        </h2>
        <button type="button" class="secondary small" onClick={onClose}>
          Close
        </button>
      </div>
      <p class="muted">
        <span class={`badge ${row.status}`}>{row.status}</span> {reasonText(row.reason)}
        {row.assignee ? ` · assigned to ${row.assignee.id === member?.id ? 'you' : row.assignee.displayName}` : ' · unassigned'}
        {row.waitingSince && !resolved ? ` · waiting ${waited(row.waitingSince, Date.now())}` : ''}
      </p>

      {canAssign ? (
        <div
          class="row assign"
          ref={assignRow}
          onFocusIn={() => {
            inAssignRow.current = true;
          }}
          onFocusOut={(e) => {
            // Focus moved elsewhere; a button removed under it leaves no next element.
            if (e.relatedTarget) inAssignRow.current = false;
          }}
        >
          {!mine && !resolved && member ? (
            // No assignee named: the server assigns it to the signed-in person, if it is still held by whom the row shows.
            <button type="button" aria-disabled={action.busy} onClick={take}>
              {row.assignee ? 'Take over' : 'Take'}
            </button>
          ) : null}
          {!resolved ? (
            <>
              <label class="inline" for="assign-to">
                {row.assignee ? 'Reassign to' : 'Assign to'}
              </label>
              <select id="assign-to" value={assignTo} onChange={(e) => setAssignTo(e.currentTarget.value)}>
                <option value="">Choose a teammate</option>
                {team.map((m) => (
                  <option key={m.memberId} value={m.memberId} disabled={m.memberId === row.assignee?.id}>
                    {presenceLabel(m, member?.id)}
                  </option>
                ))}
              </select>
              <button
                type="button"
                class="secondary"
                disabled={!assignTo}
                aria-disabled={action.busy}
                onClick={() => handoff({ status: 'assigned', assignedTo: assignTo }, `Assigned to ${names.get(assignTo) ?? 'a teammate'}.`)}
              >
                Assign
              </button>
              {row.assignee ? (
                <button
                  type="button"
                  class="secondary"
                  aria-disabled={action.busy}
                  onClick={() => handoff({ status: 'pending' }, 'Given back to the queue.')}
                >
                  Unassign
                </button>
              ) : null}
              <button
                type="button"
                class="secondary"
                aria-disabled={action.busy}
                onClick={() => handoff({ status: 'resolved' }, 'Resolved. The visitor is asked to rate the conversation.')}
              >
                Resolve
              </button>
            </>
          ) : (
            <button type="button" class="secondary" aria-disabled={action.busy} onClick={reopen}>
              Reopen
            </button>
          )}
        </div>
      ) : null}

      <div class="pane-body">
        <div class="pane-main">
          <ProblemView problem={t.problem} />
          <div class="messages" role="log" aria-live="polite" aria-relevant="additions" aria-label={`Messages with ${who}`} ref={log} tabIndex={0}>
            <ol class="message-list">
              {messages.map((m) => (
                <li key={m.id} class={`msg ${m.role}`}>
                  {m.role === 'note' ? <strong class="note-label">Internal note — not sent to the visitor</strong> : null}
                  <span class="who">
                    {m.role === 'agent'
                      ? `Agent ${authorName(m, member, names)}`
                      : m.role === 'note'
                        ? authorName(m, member, names)
                        : m.role === 'visitor'
                          ? 'Visitor'
                          : m.role === 'assistant'
                            ? 'Assistant'
                            : m.role}{' '}
                    · <When iso={m.createdAt} />
                  </span>
                  <p dir="auto">
                    <RedactedText text={m.text} onToken={canReveal ? setToken : undefined} />
                  </p>
                  {m.redactions?.length ? (
                    <span class="muted">Redacted: {m.redactions.map((r) => `${r.class} (${r.action})`).join(', ')}</span>
                  ) : null}
                </li>
              ))}
            </ol>
          </div>
          <p class="typing" aria-live="polite" dir="auto">
            {visitorTyping ? (visitorTyping.role === 'visitor' ? 'Visitor is typing…' : `${visitorTyping.name ?? 'A teammate'} is typing…`) : ''}
          </p>
          {token ? <Reveal api={api} conversationId={id} token={token} onClose={() => setToken(null)} key={token} /> : null}

          {canWrite ? (
            <form onSubmit={send} class={`card composer ${mode}`}>
              <fieldset class="mode">
                <legend class="sr-only">Write</legend>
                <label class="check">
                  <input type="radio" name="compose-mode" checked={mode === 'reply'} onChange={() => setMode('reply')} /> Reply to the visitor
                </label>
                <label class="check">
                  <input type="radio" name="compose-mode" checked={mode === 'note'} onChange={() => setMode('note')} /> Internal note
                </label>
              </fieldset>
              {canned.length && mode === 'reply' ? (
                <div class="row">
                  <label class="inline" for="canned-pick">
                    Canned reply
                  </label>
                  <select
                    id="canned-pick"
                    value=""
                    onChange={(e) => {
                      const c = canned.find((x) => x.id === e.currentTarget.value);
                      if (c) insertCanned(c);
                      e.currentTarget.value = '';
                    }}
                  >
                    <option value="">Choose one to insert</option>
                    {canned.map((c) => (
                      <option key={c.id} value={c.id}>
                        {c.title}
                        {c.shortcut ? ` (/${c.shortcut})` : ''}
                      </option>
                    ))}
                  </select>
                </div>
              ) : null}
              <label for="reply-text">{mode === 'note' ? 'Internal note — not sent to the visitor' : 'Reply'}</label>
              <textarea
                ref={textarea}
                dir="auto"
                id="reply-text"
                required
                maxLength={MAX_MESSAGE_CHARS}
                value={text}
                onInput={(e) => {
                  setText(e.currentTarget.value);
                  if (mode === 'reply') typing.typed();
                }}
                onKeyDown={(e) => {
                  // Ctrl/⌘+Enter sends, as in most chat tools; Enter alone makes a new line.
                  if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
                    e.preventDefault();
                    e.currentTarget.form?.requestSubmit();
                  }
                }}
                aria-describedby="reply-as"
              />
              {suggestions.length ? (
                <ul class="suggestions" aria-label="Canned replies matching the shortcut">
                  {suggestions.map((c) => (
                    <li key={c.id}>
                      <button type="button" class="secondary small" onClick={() => insertCanned(c, true)}>
                        {c.shortcut ? <code>/{c.shortcut}</code> : null} {c.title}
                      </button>
                    </li>
                  ))}
                </ul>
              ) : null}
              <p id="reply-as" class="muted" dir="auto">
                {mode === 'note' ? 'Only your team sees notes.' : `You reply as ${member?.displayName ?? 'an agent'}; type / for a canned reply.`}{' '}
                Ctrl+Enter sends.
              </p>
              <button type="submit" disabled={!text.trim()} aria-disabled={action.busy}>
                {mode === 'note' ? 'Add note' : 'Send reply'}
              </button>
            </form>
          ) : null}
          <p class="muted" role="status">
            {status}
          </p>
          <ProblemView problem={action.problem} />
        </div>

        <aside class="profile card" aria-labelledby="profile-title">
          <h3 id="profile-title">Visitor</h3>
          <ProblemView problem={visitor.problem} />
          <dl>
            {profile?.name ? (
              <div>
                <dt>Name</dt>
                <dd dir="auto">{profile.name}</dd>
              </div>
            ) : null}
            {profile?.email ? (
              <div>
                <dt>Email</dt>
                <dd dir="auto">{profile.email}</dd>
              </div>
            ) : null}
            {profile?.plan ? (
              <div>
                <dt>Plan</dt>
                <dd dir="auto">{profile.plan}</dd>
              </div>
            ) : null}
            {profile?.redacted.length ? (
              <div>
                <dt>Withheld (PII policy)</dt>
                <dd>
                  {profile.redacted.join(', ')}{' '}
                  {canReveal && profile.revealable.length && !revealing ? (
                    <button type="button" class="secondary small" onClick={() => setRevealing(true)}>
                      Reveal {profile.revealable.join(', ')}
                    </button>
                  ) : null}
                </dd>
              </div>
            ) : null}
            <div>
              <dt>{row.visitor.verified ? 'Verified user id' : 'Anonymous visitor'}</dt>
              <dd class="mono">
                {row.visitor.verified ? (profile?.id ?? t.data?.conversation.identitySubject ?? row.visitor.ref) : row.visitor.ref}
              </dd>
            </div>
            {contact ? (
              <div class="contact">
                <dt>Left an email to be answered</dt>
                <dd>
                  <span dir="ltr">{contact.email}</span>
                  <span class="muted at">
                    <When iso={contact.at} />
                  </span>
                </dd>
              </div>
            ) : null}
          </dl>
          {revealing ? (
            <RevealForm
              title="Reveal the visitor's profile"
              onClose={() => {
                setRevealing(false);
                setRevealed(null);
              }}
              onReveal={async (reason) => {
                setRevealed(await api<VisitorProfileResponse>('POST', `/conversations/${id}/visitor/reveal`, { reason }));
                return (
                  <p class="muted" dir="auto">
                    Shown above until you hide it.
                  </p>
                );
              }}
            />
          ) : null}
        </aside>
      </div>
    </section>
  );
}

/** A teammate in the assign menu: presence first, so who is there shows at a glance. */
export function presenceLabel(p: Presence, meId: string | undefined): string {
  const state = p.availability === 'available' ? (p.online ? 'available' : 'available, offline') : 'away';
  return `${p.availability === 'available' && p.online ? '●' : '○'} ${p.displayName}${p.memberId === meId ? ' (you)' : ''} — ${state}`;
}
