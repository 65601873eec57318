// Every conversation, answered by the assistant or handed to a person: search by a visitor reference, an
// API userRef, a verified user id or words; filter by status and channel; read a transcript (an audited
// read). The inbox is where handed-off conversations are worked; this is where any conversation is found.
import type { AdminConversationResponse, ConversationListResponse, ConversationSummary } from '@parley/protocol';
import { useEffect, useRef, useState } from 'preact/hooks';
import type { Api } from '../api.js';
import { ProblemView, useAction, useLoad, When } from '../components.js';
import { useLive } from '../inbox/context.js';
import { authorName } from './conversation.js';
import { Reveal, RedactedText } from '../inbox/redacted.js';
import type { ViewProps } from '../app.js';

const PAGE = 50;
const NO_NAMES = new Map<string, string>();

const STATUS: Record<ConversationSummary['status'], string> = { open: 'Open', handoff: 'With a person', closed: 'Closed' };
const CHANNEL: Record<ConversationSummary['channel'], string> = { widget: 'Widget', api: 'API', email: 'Email' };
const HANDOFF: Record<NonNullable<ConversationSummary['handoffStatus']>, string> = {
  pending: 'waiting for an agent',
  assigned: 'assigned',
  resolved: 'resolved by an agent',
};
/** The handoff beside the conversation's status: an open conversation whose handoff was resolved is with the assistant again. */
const handoffNote = (status: ConversationSummary['status'], handoff: ConversationSummary['handoffStatus']) =>
  !handoff || status === 'handoff'
    ? ''
    : handoff === 'resolved' && status === 'open'
      ? ' · handoff resolved; the assistant answers again'
      : ` · ${HANDOFF[handoff]}`;

const ROLE: Record<string, string> = { visitor: 'Visitor', assistant: 'Assistant', agent: 'Agent', note: 'Internal note', system: 'System' };

/** The visitor as listed: the pseudonymous widget reference or the API userRef (a verified user id only in the transcript). */
const visitorLabel = (c: Pick<ConversationSummary, 'visitorRef'>) => c.visitorRef;

function listPath(q: { q: string; status: string; channel: string }, cursor?: string): string {
  const p = new URLSearchParams({ limit: String(PAGE) });
  if (q.q) p.set('q', q.q);
  if (q.status) p.set('status', q.status);
  if (q.channel) p.set('channel', q.channel);
  if (cursor) p.set('cursor', cursor);
  return `/conversations?${p}`;
}

export function ConversationsView({ api, me }: ViewProps) {
  const [typed, setTyped] = useState({ q: '', status: '', channel: '' });
  const [query, setQuery] = useState(typed);
  const list = useLoad(() => api<ConversationListResponse>('GET', listPath(query)), [query.q, query.status, query.channel]);
  const [more, setMore] = useState<ConversationSummary[]>([]);
  const [next, setNext] = useState<string | null>(null);
  const [openId, setOpenId] = useState<string | null>(null);
  const loading = useAction();
  useEffect(() => {
    setMore([]);
    setNext(list.data?.nextCursor ?? null);
  }, [list.data]);
  const rows = [...(list.data?.conversations ?? []), ...more];
  const filtered = !!(query.q || query.status || query.channel);

  const onSearch = (e: Event) => {
    e.preventDefault();
    setQuery({ ...typed, q: typed.q.trim() });
  };
  const showMore = () =>
    void loading.run(async () => {
      if (!next) return;
      const page = await api<ConversationListResponse>('GET', listPath(query, next));
      setMore((m) => [...m, ...page.conversations]);
      setNext(page.nextCursor);
    });

  return (
    <div class="inbox">
      <section aria-labelledby="history-title" class="queue">
        <h2 id="history-title" class="sr-only">
          All conversations
        </h2>
        <form role="search" class="search-form" onSubmit={onSearch}>
          <div class="row search">
            <label for="history-search" class="sr-only">
              Search conversations
            </label>
            <input
              id="history-search"
              dir="auto"
              type="search"
              placeholder="Visitor, user id or words"
              value={typed.q}
              onInput={(e) => setTyped({ ...typed, q: e.currentTarget.value })}
            />
            <button type="submit" class="secondary">
              Search
            </button>
          </div>
          <div class="row filters">
            <Filter id="history-status" label="Status" options={STATUS} value={typed.status} onPick={(status) => setQuery({ ...typed, status })} />
            <Filter
              id="history-channel"
              label="Channel"
              options={CHANNEL}
              value={typed.channel}
              onPick={(channel) => setQuery({ ...typed, channel })}
            />
            {filtered ? (
              <button
                type="button"
                class="secondary"
                onClick={() => {
                  const none = { q: '', status: '', channel: '' };
                  setTyped(none);
                  setQuery(none);
                }}
              >
                Clear
              </button>
            ) : null}
          </div>
        </form>
        <ProblemView problem={list.problem} />
        {list.data && !rows.length ? (
          <p class="muted" dir="auto">
            {query.q ? `Nothing matches “${query.q}”.` : filtered ? 'No conversation matches these filters.' : 'No conversation yet.'}
          </p>
        ) : null}
        <ul class="list conversations" aria-label="Conversations, most recent first">
          {rows.map((c) => (
            <li key={c.id}>
              <Row c={c} current={openId === c.id} onOpen={() => setOpenId(c.id)} />
            </li>
          ))}
        </ul>
        {next ? (
          <button type="button" class="secondary" aria-disabled={loading.busy} onClick={showMore}>
            Show more
          </button>
        ) : null}
        <ProblemView problem={loading.problem} />
      </section>
      {openId ? (
        <Transcript
          api={api}
          canReveal={me.capabilities.includes('pii:reveal')}
          id={openId}
          key={openId}
          onClose={() => {
            const closed = openId;
            setOpenId(null);
            // Back to the conversation's row in the list, not the page.
            setTimeout(() => document.querySelector<HTMLElement>(`.queue [data-conversation="${closed}"]`)?.focus());
          }}
        />
      ) : (
        <p class="muted pane-empty">Choose a conversation to read it. Opening one is recorded in the audit log.</p>
      )}
    </div>
  );
}

/** A labelled choice among `options` or Any (''); picking one lists at once. */
function Filter(p: { id: string; label: string; options: Record<string, string>; value: string; onPick: (value: string) => void }) {
  return (
    <span class="pair">
      <label class="inline" for={p.id}>
        {p.label}
      </label>
      <select id={p.id} value={p.value} onChange={(e) => p.onPick(e.currentTarget.value)}>
        <option value="">Any</option>
        {Object.entries(p.options).map(([v, label]) => (
          <option key={v} value={v}>
            {label}
          </option>
        ))}
      </select>
    </span>
  );
}

function Row({ c, current, onOpen }: { c: ConversationSummary; current: boolean; onOpen: () => void }) {
  return (
    <button type="button" class="conversation-row" data-conversation={c.id} aria-current={current ? 'true' : undefined} onClick={onOpen}>
      <span class="line">
        <strong class="visitor" dir="auto">
          {visitorLabel(c)}
        </strong>
        {c.verified ? <span class="badge ok-badge">verified</span> : null}
        <span class="waited muted">
          <When iso={c.updatedAt} short />
        </span>
      </span>
      {c.lastMessage ? (
        <>
          {/* Outside the message, so that its Latin letters do not set an Arabic or Hebrew message's direction. */}
          <span class="sr-only">{ROLE[c.lastMessage.role]}: </span>
          <span class="last" dir="auto">
            <RedactedText text={c.lastMessage.text} />
          </span>
        </>
      ) : null}
      <span class="meta muted" dir="auto">
        {CHANNEL[c.channel]} · {STATUS[c.status]}
        {handoffNote(c.status, c.handoffStatus)} · {c.messageCount} {c.messageCount === 1 ? 'message' : 'messages'}
      </span>
    </button>
  );
}

/** A transcript, read-only: redacted as stored, notes included; a token is revealed with a reason (audited). */
function Transcript({ api, id, canReveal, onClose }: { api: Api; id: string; canReveal: boolean; onClose: () => void }) {
  const t = useLoad(() => api<AdminConversationResponse>('GET', `/conversations/${id}`), [id]);
  const [token, setToken] = useState<string | null>(null);
  const inbox = useLive();
  const heading = useRef<HTMLHeadingElement>(null);
  // Opening a conversation moves focus to it (below the list on a narrow screen).
  useEffect(() => heading.current?.focus(), [id]);
  const c = t.data?.conversation;
  const handoff = c?.handoff;
  return (
    <section aria-labelledby="transcript-title" class="transcript">
      <div class="pane-head">
        <h2 id="transcript-title" dir="auto" tabIndex={-1} ref={heading}>
          {c ? (c.identitySubject ?? c.visitorRef) : 'Conversation'}
        </h2>
        <button type="button" class="secondary small" onClick={onClose}>
          Close
        </button>
      </div>
      <ProblemView problem={t.problem} />
      {c ? (
        <p class="muted" dir="auto">
          {STATUS[c.status]} · started <When iso={c.createdAt} />
          {handoffNote(c.status, handoff?.status ?? null)}
          {handoff && handoff.status !== 'resolved' && inbox ? (
            <>
              {' · '}
              <button type="button" class="link inline" onClick={() => inbox.open(id)}>
                Work it in the inbox
              </button>
            </>
          ) : null}
        </p>
      ) : null}
      {t.data ? (
        <div class="messages" role="log" aria-label="Messages" tabIndex={0}>
          {t.data.messages.length ? null : <p class="muted">No message yet.</p>}
          <ol class="message-list">
            {t.data.messages.map((m) => (
              <li key={m.id} class={`msg ${m.role}`}>
                <span class="who">
                  {m.role === 'agent' || m.role === 'note' ? `${ROLE[m.role]} ${authorName(m, null, NO_NAMES)}`.trim() : ROLE[m.role]} ·{' '}
                  <When iso={m.createdAt} />
                </span>
                <p dir="auto">
                  <RedactedText text={m.text} onToken={canReveal ? setToken : undefined} />
                </p>
                {m.citations.length ? (
                  <span class="muted" dir="auto">
                    Sources: {m.citations.map((s) => s.title).join(' · ')}
                  </span>
                ) : null}
              </li>
            ))}
          </ol>
        </div>
      ) : null}
      {token ? <Reveal api={api} conversationId={id} token={token} onClose={() => setToken(null)} key={token} /> : null}
    </section>
  );
}
