// Handoffs waiting for a person, their redacted transcripts, live replies and break-glass reveal.
import type { AdminMe } from '@parley/protocol';
import type { ComponentChildren } from 'preact';
import { useMemo, useState } from 'preact/hooks';
import type { Api } from '../api.js';
import { ProblemView, useAction, useLoad, When } from '../components.js';

interface Handoff {
  id: string;
  conversationId: string;
  status: 'pending' | 'assigned' | 'resolved';
  reason: string;
  assignedTo: string | null;
  /** The assignee when it is a member of the tenant (assignedTo is then their id). */
  assignee?: { id: string; displayName: string } | null;
  visitorVerified: boolean;
  /** The visitor's pseudonymous reference: tells visitors apart, lets nobody act as one. */
  visitorRef: string;
  createdAt: string;
}
interface Message {
  id: string;
  role: string;
  text: string;
  redactions: { class: string; action: string }[];
  author: string | null;
  createdAt: string;
}
interface Transcript {
  conversation: { id: string; status: string; verified: boolean; visitorRef: string; identitySubject: string | null };
  messages: Message[];
}

const TOKEN = /\[[A-Z_]+_\d+\]/g;

/** Message text with redaction tokens such as [EMAIL_1] marked, each a button to reveal it. */
export function RedactedText({ text, onToken }: { text: string; onToken?: (token: string) => void }) {
  const out: ComponentChildren[] = [];
  let at = 0;
  for (const m of text.matchAll(TOKEN)) {
    if (m.index > at) out.push(text.slice(at, m.index));
    out.push(
      onToken ? (
        <button type="button" class="token" key={m.index} onClick={() => onToken(m[0])} aria-label={`Redacted ${m[0]}: reveal`}>
          {m[0]}
        </button>
      ) : (
        <span class="token" key={m.index}>
          {m[0]}
        </span>
      ),
    );
    at = m.index + m[0].length;
  }
  if (at < text.length) out.push(text.slice(at));
  return <>{out}</>;
}

function Reveal({ api, conversationId, token, onClose }: { api: Api; conversationId: string; token: string; onClose: () => void }) {
  const [reason, setReason] = useState('');
  const [value, setValue] = useState<string | null>(null);
  const { problem, busy, run } = useAction();
  const submit = (e: Event) => {
    e.preventDefault();
    void run(async () => {
      const out = await api<{ value: string }>('POST', `/conversations/${conversationId}/reveal`, { token, reason });
      setValue(out.value);
    });
  };
  return (
    <section class="card" aria-labelledby="reveal-title">
      <h3 id="reveal-title">Reveal {token}</h3>
      {value === null ? (
        <form onSubmit={submit}>
          <label for="reveal-reason">Why do you need the original value? (recorded in the audit log)</label>
          <textarea id="reveal-reason" required minLength={10} maxLength={500} value={reason} onInput={(e) => setReason(e.currentTarget.value)} />
          <div class="row">
            <button type="submit" disabled={busy || reason.trim().length < 10}>
              Reveal
            </button>
            <button type="button" class="secondary" onClick={onClose}>
              Cancel
            </button>
          </div>
        </form>
      ) : (
        <div>
          <p>
            <code class="revealed">{value}</code>
          </p>
          <button type="button" class="secondary" onClick={onClose}>
            Hide
          </button>
        </div>
      )}
      <ProblemView problem={problem} />
    </section>
  );
}

function TranscriptView({ api, handoff, me, names, onChanged }: { api: Api; handoff: Handoff; me: AdminMe['member']; names: Map<string, string>; onChanged: () => void }) {
  const t = useLoad(() => api<Transcript>('GET', `/conversations/${handoff.conversationId}`), [handoff.conversationId]);
  const [text, setText] = useState('');
  const [token, setToken] = useState<string | null>(null);
  const action = useAction();
  const reply = (e: Event) => {
    e.preventDefault();
    void action.run(async () => {
      // The author is the signed-in person: the server takes it from the session.
      await api('POST', `/conversations/${handoff.conversationId}/messages`, { text });
      setText('');
      t.reload();
    });
  };
  const update = (status: 'assigned' | 'resolved') =>
    void action.run(async () => {
      // No assignee: the server assigns it to the signed-in person.
      await api('PATCH', `/handoffs/${handoff.id}`, { status });
      onChanged();
    });
  return (
    <section aria-labelledby="transcript-title" class="transcript">
      <h2 id="transcript-title">Conversation {handoff.conversationId.slice(0, 8)}</h2>
      <p class="muted">
        {handoff.reason} · {handoff.visitorVerified ? `verified visitor ${t.data?.conversation.identitySubject ?? ''}` : `anonymous visitor ${handoff.visitorRef}`} · {handoff.status}
        {handoff.assignedTo ? ` to ${assigneeName(handoff, me, names)}` : ''}
      </p>
      <ProblemView problem={t.problem} />
      <ol class="messages">
        {t.data?.messages.map((m) => (
          <li key={m.id} class={`msg ${m.role}`}>
            <span class="who">
              {m.role === 'agent' ? `Agent ${authorName(m.author, me, names)}` : m.role === 'visitor' ? 'Visitor' : m.role === 'assistant' ? 'Assistant' : m.role} · <When iso={m.createdAt} />
            </span>
            <p dir="auto">
              <RedactedText text={m.text} onToken={setToken} />
            </p>
            {m.redactions.length ? <span class="muted">Redacted: {m.redactions.map((r) => `${r.class} (${r.action})`).join(', ')}</span> : null}
          </li>
        ))}
      </ol>
      {token ? <Reveal api={api} conversationId={handoff.conversationId} token={token} onClose={() => setToken(null)} key={token} /> : null}
      <form onSubmit={reply} class="card">
        <label for="reply-text">Reply</label>
        <textarea id="reply-text" required maxLength={4000} value={text} onInput={(e) => setText(e.currentTarget.value)} aria-describedby="reply-as" />
        <p id="reply-as" class="muted">
          You reply as {me?.displayName ?? 'an agent'}.
        </p>
        <div class="row">
          <button type="submit" disabled={action.busy || !text.trim()}>
            Send reply
          </button>
          {handoff.status === 'pending' ? (
            <button type="button" class="secondary" disabled={action.busy || !me} onClick={() => update('assigned')}>
              Assign to me
            </button>
          ) : null}
          <button type="button" class="secondary" disabled={action.busy} onClick={() => update('resolved')}>
            Resolve
          </button>
        </div>
      </form>
      <ProblemView problem={action.problem} />
    </section>
  );
}

/** Who wrote an agent message: "you", a teammate by name, or the label an integration's key gave. */
export function authorName(author: string | null, me: AdminMe['member'] | null, names: Map<string, string>): string {
  if (!author) return '';
  if (author === me?.id) return `${me.displayName} (you)`;
  return names.get(author) ?? author;
}
const assigneeName = (h: Handoff, me: AdminMe['member'] | null, names: Map<string, string>): string =>
  h.assignedTo === me?.id && me ? 'you' : (h.assignee?.displayName ?? authorName(h.assignedTo, me, names));

/**
 * The inbox. Who replies and who takes a handoff is the signed-in person, from the session: the server
 * records their member id; nothing typed here names them.
 */
export function InboxView({ api, me }: { api: Api; me?: AdminMe | null }) {
  const list = useLoad(async () => {
    const [pending, assigned] = await Promise.all(
      (['pending', 'assigned'] as const).map((s) => api<{ handoffs: Handoff[] }>('GET', `/handoffs?status=${s}`)),
    );
    return [...pending!.handoffs, ...assigned!.handoffs];
  });
  const [open, setOpen] = useState<Handoff | null>(null);
  // Replies and assignments name people by member id; the team list turns ids into names.
  const team = useLoad(
    async () => (me?.capabilities.includes('members:read') ? (await api<{ members: { id: string; displayName: string }[] }>('GET', '/members')).members : []),
    [api, me],
  );
  const names = useMemo(() => new Map((team.data ?? []).map((m) => [m.id, m.displayName])), [team.data]);
  return (
    <div class="inbox">
      <section aria-labelledby="queue-title">
        <div class="row">
          <h2 id="queue-title">Waiting and assigned</h2>
          <button type="button" class="secondary" onClick={list.reload}>
            Refresh
          </button>
        </div>
        <ProblemView problem={list.problem} />
        {list.data && !list.data.length ? <p class="muted">No conversation is waiting for a person.</p> : null}
        <ul class="list">
          {list.data?.map((h) => (
            <li key={h.id}>
              <button type="button" class="link" aria-pressed={open?.id === h.id} onClick={() => setOpen(h)}>
                <span class={`badge ${h.status}`}>{h.status}</span> {h.reason}
                <span class="muted"> · <When iso={h.createdAt} /></span>
              </button>
            </li>
          ))}
        </ul>
      </section>
      {open ? (
        <TranscriptView
          api={api}
          handoff={open}
          me={me?.member ?? null}
          names={names}
          key={open.id}
          onChanged={() => {
            setOpen(null);
            list.reload();
          }}
        />
      ) : null}
    </div>
  );
}
