// One conversation, worked by an agent: the live transcript (redacted, tokens revealable), replies and
// internal notes, canned replies, typing both ways, who has it (take, assign, reassign), the visitor's
// verified profile and any email they left, resolve and reopen.
import type { AdminMe } from '@parley/protocol';
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import type { Api } from '../api.js';
import { ProblemView, useAction, useLoad, When } from '../components.js';
import { fillVariables, reasonText, visitorName, waited } from '../inbox/format.js';
import type { ConversationEvent, InboxLive } from '../inbox/live.js';
import { RedactedText, Reveal } from '../inbox/redacted.js';
import type { InboxMessage, InboxRow, Presence } from '../inbox/types.js';

export interface CannedReply {
  id: string;
  title: string;
  body: string;
}
export interface TeamMember {
  id: string;
  displayName: string;
  availability?: Presence['availability'];
}
interface Transcript {
  conversation: { id: string; status: string; verified: boolean; visitorRef: string; identitySubject: string | null };
  messages: InboxMessage[];
  /** The verified visitor's profile from the signed claims, as the redaction rules let agents see it. */
  profile?: { name?: string | null; email?: string | null; plan?: string | null } | null;
  /** An email the visitor left when nobody was there to answer. */
  contact?: { email: string; at?: string } | null;
}

type Me = AdminMe['member'];

/** Who wrote an agent message or note: "you", a teammate by name, or the label an integration's key gave. */
export function authorName(author: InboxMessage['author'], me: Me | null, names: Map<string, string>): string {
  if (!author) return '';
  if (typeof author === 'object') return author.id && author.id === me?.id ? `${me.displayName} (you)` : author.name;
  if (author === me?.id) return `${me.displayName} (you)`;
  return names.get(author) ?? author;
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
    /** After sending: the message itself ends the typing on the visitor's side. */
    sent() {
      if (idle.current) clearTimeout(idle.current);
      idle.current = null;
      last.current = 0;
    },
  };
}

export function ConversationPane({
  api,
  me,
  row,
  live,
  members,
  canned,
  onClose,
}: {
  api: Api;
  me: AdminMe | null;
  row: InboxRow;
  live: InboxLive | null;
  members: TeamMember[];
  canned: CannedReply[];
  onClose: () => void;
}) {
  const id = row.conversationId;
  const member = me?.member ?? null;
  const t = useLoad(() => api<Transcript>('GET', `/conversations/${id}`), [id]);
  const [messages, setMessages] = useState<InboxMessage[]>([]);
  const [mode, setMode] = useState<'reply' | 'note'>('reply');
  const [text, setText] = useState('');
  const [token, setToken] = useState<string | null>(null);
  const [assignTo, setAssignTo] = useState('');
  const [status, setStatus] = useState('');
  const action = useAction();
  const typing = useTypingSignal(api, id);
  const log = useRef<HTMLOListElement>(null);
  const names = useMemo(() => new Map(members.map((m) => [m.id, m.displayName])), [members]);
  const canWrite = !!me?.capabilities.includes('conversations:write');
  const canAssign = !!me?.capabilities.includes('handoffs:write');

  // The transcript as loaded, then every live message or note of this conversation, each once.
  useEffect(() => {
    if (!t.data) return;
    for (const m of t.data.messages) live?.knowMessage(m.id);
    setMessages(t.data.messages);
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

  const add = (m: InboxMessage | undefined) => {
    if (!m?.id) return;
    live?.knowMessage(m.id);
    setMessages((ms) => (ms.some((x) => x.id === m.id) ? ms : [...ms, m]));
  };
  const send = (e: Event) => {
    e.preventDefault();
    void action.run(async () => {
      const path = mode === 'note' ? `/conversations/${id}/notes` : `/conversations/${id}/messages`;
      // The author is the signed-in person: the server takes it from the session.
      const out = await api<{ message?: InboxMessage; note?: InboxMessage }>('POST', path, { text });
      typing.sent();
      add(out?.message ?? out?.note);
      setText('');
      setStatus(mode === 'note' ? 'Note added.' : 'Reply sent.');
    });
  };
  const handoff = (body: { status: 'assigned' | 'resolved'; assignedTo?: string }, done: string) =>
    void action.run(async () => {
      if (!row.handoffId) throw new Error('This conversation has no handoff to change.');
      await api('PATCH', `/handoffs/${row.handoffId}`, body);
      setStatus(done);
    });
  const reopen = () =>
    void action.run(async () => {
      await api('POST', `/conversations/${id}/reopen`, {});
      setStatus('Reopened.');
    });
  const insertCanned = (cannedId: string) => {
    const c = canned.find((x) => x.id === cannedId);
    if (!c) return;
    const filled = fillVariables(c.body, { visitorName: profile?.name ?? (row.visitor.verified ? row.visitor.name : null), agentName: member?.displayName ?? null });
    setText((cur) => (cur.trim() ? `${cur.replace(/\s+$/, '')} ${filled}` : filled));
  };

  const profile = t.data?.profile ?? null;
  const contact = t.data?.contact ?? null;
  const visitorTyping = live?.typingIn(id);
  const mine = !!member && row.assignee?.id === member.id;
  const resolved = row.status === 'resolved';
  const who = visitorName(row.visitor);
  const presenceOf = (m: TeamMember) => live?.presence.get(m.id)?.availability ?? m.availability;

  return (
    <section aria-labelledby="transcript-title" class="transcript">
      <div class="pane-head">
        <h2 id="transcript-title" dir="auto">
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
        <div class="row assign">
          {!mine && !resolved && member ? (
            <button type="button" disabled={action.busy} onClick={() => handoff({ status: 'assigned', assignedTo: member.id }, 'You took this conversation.')}>
              {row.assignee ? 'Take over' : 'Take'}
            </button>
          ) : null}
          {!resolved ? (
            <>
              <label class="inline" for="assign-to">
                {row.assignee ? 'Reassign to' : 'Assign to'}
              </label>
              <select id="assign-to" value={assignTo} onChange={(e) => setAssignTo(e.currentTarget.value)}>
                <option value="">Choose a teammate…</option>
                {members.map((m) => {
                  const p = presenceOf(m);
                  return (
                    <option key={m.id} value={m.id} disabled={m.id === row.assignee?.id}>
                      {p === 'available' ? '● ' : p === 'away' ? '○ ' : ''}
                      {m.displayName}
                      {m.id === member?.id ? ' (you)' : ''}
                      {p ? ` — ${p}` : ''}
                    </option>
                  );
                })}
              </select>
              <button
                type="button"
                class="secondary"
                disabled={action.busy || !assignTo}
                onClick={() => handoff({ status: 'assigned', assignedTo: assignTo }, `Assigned to ${names.get(assignTo) ?? 'a teammate'}.`)}
              >
                Assign
              </button>
              <button type="button" class="secondary" disabled={action.busy || !row.handoffId} onClick={() => handoff({ status: 'resolved' }, 'Resolved. The visitor is asked to rate the conversation.')}>
                Resolve
              </button>
            </>
          ) : (
            <button type="button" class="secondary" disabled={action.busy} onClick={reopen}>
              Reopen
            </button>
          )}
        </div>
      ) : null}

      <div class="pane-body">
        <div class="pane-main">
          <ProblemView problem={t.problem} />
          <ol class="messages" role="log" aria-live="polite" aria-relevant="additions" aria-label={`Messages with ${who}`} ref={log} tabIndex={0}>
            {messages.map((m) => (
              <li key={m.id} class={`msg ${m.role}`}>
                {m.role === 'note' ? <strong class="note-label">Internal note — not sent to the visitor</strong> : null}
                <span class="who">
                  {m.role === 'agent'
                    ? `Agent ${authorName(m.author, member, names)}`
                    : m.role === 'note'
                      ? authorName(m.author, member, names)
                      : m.role === 'visitor'
                        ? 'Visitor'
                        : m.role === 'assistant'
                          ? 'Assistant'
                          : m.role}{' '}
                  · <When iso={m.createdAt} />
                </span>
                <p dir="auto">
                  <RedactedText text={m.text} onToken={setToken} />
                </p>
                {m.redactions?.length ? <span class="muted">Redacted: {m.redactions.map((r) => `${r.class} (${r.action})`).join(', ')}</span> : null}
              </li>
            ))}
          </ol>
          <p class="typing" aria-live="polite">
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
                      insertCanned(e.currentTarget.value);
                      e.currentTarget.value = '';
                    }}
                  >
                    <option value="">Insert…</option>
                    {canned.map((c) => (
                      <option key={c.id} value={c.id}>
                        {c.title}
                      </option>
                    ))}
                  </select>
                </div>
              ) : null}
              <label for="reply-text">{mode === 'note' ? 'Internal note — not sent to the visitor' : 'Reply'}</label>
              <textarea
                id="reply-text"
                required
                maxLength={4000}
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
              <p id="reply-as" class="muted">
                {mode === 'note' ? 'Only your team sees notes.' : `You reply as ${member?.displayName ?? 'an agent'}.`} Ctrl+Enter sends.
              </p>
              <button type="submit" disabled={action.busy || !text.trim()}>
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
                <dd dir="auto">
                  <RedactedText text={profile.email} onToken={setToken} />
                </dd>
              </div>
            ) : null}
            {profile?.plan ? (
              <div>
                <dt>Plan</dt>
                <dd dir="auto">{profile.plan}</dd>
              </div>
            ) : null}
            <div>
              <dt>{row.visitor.verified ? 'Verified user' : 'Anonymous visitor'}</dt>
              <dd class="mono">{row.visitor.verified ? (t.data?.conversation.identitySubject ?? row.visitor.ref) : row.visitor.ref}</dd>
            </div>
            {contact ? (
              <div class="contact">
                <dt>Left an email to be answered</dt>
                <dd>
                  <RedactedText text={contact.email} onToken={setToken} />
                  {contact.at ? (
                    <>
                      {' '}
                      <span class="muted">
                        (<When iso={contact.at} />)
                      </span>
                    </>
                  ) : null}
                </dd>
              </div>
            ) : null}
          </dl>
        </aside>
      </div>
    </section>
  );
}
