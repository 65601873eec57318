// The agent workspace: conversations by view (waiting, mine, unassigned, all open, resolved) with live
// counts, search, and the open conversation beside the list. Rows, counts and the transcript follow the
// live inbox stream; nothing needs a reload.
import type { AdminMe, CannedReply, InboxListResponse } from '@parley/protocol';
import { useEffect, useRef, useState } from 'preact/hooks';
import type { Api } from '../api.js';
import { ProblemView, useAction, useLoad } from '../components.js';
import { askNotifications, notificationPermission, setSoundOn, soundOn, unlockAudio, type Permission } from '../inbox/alerts.js';
import { useLive } from '../inbox/context.js';
import { reasonText, visitorName, waited } from '../inbox/format.js';
import { RedactedText } from '../inbox/redacted.js';
import type { Counts, InboxRow, InboxViewName } from '../inbox/types.js';
import { ConversationPane } from './conversation.js';

export { RedactedText } from '../inbox/redacted.js';

const TABS: { id: InboxViewName; label: string }[] = [
  { id: 'waiting', label: 'Waiting' },
  { id: 'mine', label: 'Mine' },
  { id: 'unassigned', label: 'Unassigned' },
  { id: 'open', label: 'All open' },
  { id: 'resolved', label: 'Resolved' },
];

/** Whether a row belongs in a view, so a live snapshot can join, stay in or leave the list on screen. */
export function inView(view: InboxViewName, row: InboxRow, meId: string | null): boolean {
  const open = row.status !== 'resolved';
  switch (view) {
    case 'waiting':
      // The visitor waits for a person: nothing from an agent since their last message.
      return open && row.waitingSince !== null;
    case 'mine':
      return open && !!meId && row.assignee?.id === meId;
    case 'unassigned':
      return open && !row.assignee;
    case 'open':
      return open;
    case 'resolved':
      return !open;
  }
}

const at = (iso: string | null | undefined) => (iso ? Date.parse(iso) : 0);
/** Waiting: who has waited longest first; every other view: latest activity first. */
const order = (view: InboxViewName) => (a: InboxRow, b: InboxRow) =>
  view === 'waiting' ? at(a.waitingSince) - at(b.waitingSince) : at(b.lastMessage?.at ?? b.waitingSince) - at(a.lastMessage?.at ?? a.waitingSince);

/** Re-renders every `ms`, for relative times such as "waiting 4 min". */
function useNow(ms: number): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), ms);
    return () => clearInterval(t);
  }, [ms]);
  return now;
}

/**
 * The inbox. Who replies and who takes a handoff is the signed-in person, from the session: the server
 * records their member id; nothing typed here names them.
 */
export function InboxView({ api, me }: { api: Api; me?: AdminMe | null }) {
  const ctx = useLive();
  const live = ctx?.live ?? null;
  const meId = me?.member?.id ?? null;
  const [view, setView] = useState<InboxViewName>('waiting');
  const [typed, setTyped] = useState('');
  const [query, setQuery] = useState('');
  const [openId, setOpenId] = useState<string | null>(null);
  const [resync, setResync] = useState(0);
  const now = useNow(30_000);
  const path = `/inbox?view=${view}${query ? `&q=${encodeURIComponent(query)}` : ''}`;
  const page = async (cursor?: string) => {
    const r = await api<InboxListResponse>('GET', cursor ? `${path}&cursor=${encodeURIComponent(cursor)}` : path);
    for (const row of r.rows) live?.upsert(row);
    return r;
  };
  // The first page, then more pages on request; every page's rows stay in order of arrival.
  const list = useLoad(async () => {
    const { rows, counts, nextCursor } = await page();
    return { rows: new Map(rows.map((x) => [x.conversationId, x])), counts, next: nextCursor };
  }, [api, view, query, resync]);
  const [more, setMore] = useState<{ rows: Map<string, InboxRow>; next: string | null } | null>(null);
  useEffect(() => setMore(null), [list.data]);
  const next = more ? more.next : (list.data?.next ?? null);
  const loading = useAction();
  const showMore = () =>
    void loading.run(async () => {
      const r = await page(next!);
      setMore({ rows: new Map([...(more?.rows ?? []), ...r.rows.map((x): [string, InboxRow] => [x.conversationId, x])]), next: r.nextCursor });
    });
  const canned = useLoad(async () => (await api<{ cannedReplies: CannedReply[] }>('GET', '/canned-replies')).cannedReplies, [api]);

  // Each time the stream (re)opens, the list is read again: nothing that changed before it was live is missed.
  useEffect(() => {
    if (!live) return;
    let state = live.state;
    return live.subscribe(() => {
      if (state !== 'live' && live.state === 'live') setResync((n) => n + 1);
      state = live.state;
    });
  }, [live]);
  // A notification clicked elsewhere opens its conversation here.
  useEffect(() => {
    const asked = ctx?.takeRequest();
    if (asked) setOpenId(asked);
  });

  // The rows on screen: what the server listed for this view, each replaced by its latest live snapshot,
  // plus conversations that entered the view since (when no search narrows it); rows that left go.
  const rows = ((): InboxRow[] => {
    if (!list.data) return [];
    const byId = new Map<string, InboxRow>();
    for (const listed of [...list.data.rows.values(), ...(more?.rows.values() ?? [])]) {
      const id = listed.conversationId;
      const row = live?.rows.get(id) ?? listed;
      if (inView(view, row, meId)) byId.set(id, row);
    }
    if (live && !query)
      for (const row of live.rows.values()) if (!byId.has(row.conversationId) && inView(view, row, meId)) byId.set(row.conversationId, row);
    return [...byId.values()].sort(order(view));
  })();
  // Counts come with each list, then live from the stream.
  const counts: Counts | null = live?.counts ?? list.data?.counts ?? null;
  const team = live ? [...live.presence.values()].sort((a, b) => a.displayName.localeCompare(b.displayName)) : [];
  const openRow = openId ? (live?.rows.get(openId) ?? list.data?.rows.get(openId) ?? more?.rows.get(openId) ?? null) : null;

  const onSearch = (e: Event) => {
    e.preventDefault();
    setQuery(typed.trim());
  };

  return (
    <div class="inbox">
      {/* Above both columns: in the list's column alone, the five views wrapped onto three rows at 1,280 px. */}
      <Tabs view={view} counts={counts} onChange={setView} />
      <section aria-labelledby="queue-title" class="queue">
        <h2 id="queue-title" class="sr-only">
          Conversations
        </h2>
        <form role="search" class="row search" onSubmit={onSearch}>
          <label for="inbox-search" class="sr-only">
            Search conversations
          </label>
          <input
            id="inbox-search"
            dir="auto"
            type="search"
            placeholder="Visitor, user id or words"
            value={typed}
            onInput={(e) => setTyped(e.currentTarget.value)}
          />
          <button type="submit" class="secondary">
            Search
          </button>
          {query ? (
            <button
              type="button"
              class="secondary"
              onClick={() => {
                setTyped('');
                setQuery('');
              }}
            >
              Clear
            </button>
          ) : null}
        </form>
        <LiveStatus />
        <ProblemView problem={list.problem} />
        <div id="inbox-panel" role="tabpanel" aria-labelledby={`tab-${view}`}>
          {list.data && !rows.length ? <p class="muted">{query ? `Nothing matches “${query}”.` : EMPTY[view]}</p> : null}
          <ul class="list conversations">
            {rows.map((row) => (
              <li key={row.conversationId}>
                <RowButton
                  row={row}
                  now={now}
                  meId={meId}
                  current={openId === row.conversationId}
                  unread={!!live?.unread.has(row.conversationId)}
                  onOpen={() => setOpenId(row.conversationId)}
                />
              </li>
            ))}
          </ul>
          {next ? (
            <button type="button" class="secondary" aria-disabled={loading.busy} onClick={showMore}>
              Show more
            </button>
          ) : null}
          <ProblemView problem={loading.problem} />
        </div>
      </section>
      {openRow ? (
        <ConversationPane
          api={api}
          me={me ?? null}
          row={openRow}
          live={live}
          team={team}
          canned={canned.data ?? []}
          key={openRow.conversationId}
          onClose={() => {
            const closed = openRow.conversationId;
            setOpenId(null);
            // Back to the conversation's row in the list (or, gone from this view, to the view's tab), not the page.
            setTimeout(() =>
              (document.querySelector<HTMLElement>(`.queue [data-conversation="${closed}"]`) ?? document.getElementById(`tab-${view}`))?.focus(),
            );
          }}
        />
      ) : (
        <p class="muted pane-empty">Choose a conversation to read it.</p>
      )}
    </div>
  );
}

const EMPTY: Record<InboxViewName, string> = {
  waiting: 'No conversation is waiting for a person.',
  mine: 'No open conversation is assigned to you.',
  unassigned: 'Every open conversation has someone on it.',
  open: 'No open conversation.',
  resolved: 'No resolved conversation yet.',
};

/** The views as tabs with their counts; arrow keys move between them (the ARIA tabs pattern). */
function Tabs({ view, counts, onChange }: { view: InboxViewName; counts: Counts | null; onChange: (v: InboxViewName) => void }) {
  const refs = useRef<(HTMLButtonElement | null)[]>([]);
  const onKey = (e: KeyboardEvent, i: number) => {
    const rtl = getComputedStyle(e.currentTarget as Element).direction === 'rtl';
    const step = { ArrowRight: rtl ? -1 : 1, ArrowLeft: rtl ? 1 : -1, Home: -i, End: TABS.length - 1 - i }[e.key];
    if (step === undefined) return;
    e.preventDefault();
    const next = (i + step + TABS.length) % TABS.length;
    onChange(TABS[next]!.id);
    refs.current[next]?.focus();
  };
  return (
    <div role="tablist" aria-label="Inbox views" class="tabs">
      {TABS.map((t, i) => {
        const n = counts && t.id !== 'resolved' ? counts[t.id] : undefined;
        return (
          <button
            type="button"
            role="tab"
            id={`tab-${t.id}`}
            key={t.id}
            ref={(el) => {
              refs.current[i] = el;
            }}
            aria-selected={view === t.id}
            aria-controls="inbox-panel"
            tabIndex={view === t.id ? 0 : -1}
            onClick={() => onChange(t.id)}
            onKeyDown={(e) => onKey(e, i)}
          >
            {t.label}
            {n !== undefined ? (
              <span class="count">
                <span class="sr-only">, </span>
                {n}
              </span>
            ) : null}
          </button>
        );
      })}
    </div>
  );
}

function RowButton({
  row,
  now,
  meId,
  current,
  unread,
  onOpen,
}: {
  row: InboxRow;
  now: number;
  meId: string | null;
  current: boolean;
  unread: boolean;
  onOpen: () => void;
}) {
  const resolved = row.status === 'resolved';
  return (
    <button
      type="button"
      class={`conversation-row${unread ? ' unread' : ''}`}
      data-conversation={row.conversationId}
      aria-current={current ? 'true' : undefined}
      onClick={onOpen}
    >
      <span class="line">
        <strong class="visitor" dir="auto">
          {visitorName(row.visitor)}
        </strong>
        {row.visitor.verified ? <span class="badge ok-badge">verified</span> : null}
        {unread ? <span class="badge new">new</span> : null}
        <span class="waited muted" dir="auto">
          {resolved ? '' : waited(row.waitingSince, now)}
        </span>
      </span>
      {row.lastMessage ? (
        <>
          {/* Who wrote it, for screen readers, outside the message: inside, its Latin letters would set an
              Arabic or Hebrew message's direction to left-to-right. */}
          <span class="sr-only">
            {row.lastMessage.role === 'visitor' ? 'Visitor: ' : row.lastMessage.role === 'agent' ? 'Agent: ' : 'Assistant: '}
          </span>
          <span class="last" dir="auto">
            <RedactedText text={row.lastMessage.text} />
          </span>
        </>
      ) : null}
      <span class="meta muted" dir="auto">
        {reasonText(row.reason)} ·{' '}
        {row.assignee ? (row.assignee.id === meId ? 'You' : row.assignee.displayName) : resolved ? 'Resolved' : 'Unassigned'}
        {row.contactLeft ? ' · left an email' : ''}
      </span>
    </button>
  );
}

/** Whether the inbox is live, and the agent's alert settings: sound on/off and browser notifications. */
function LiveStatus() {
  const ctx = useLive();
  const [sound, setSound] = useState(soundOn);
  const [permission, setPermission] = useState<Permission>(notificationPermission);
  if (!ctx) return null;
  const state = ctx.live.state;
  return (
    <div class="row live-status">
      <span class={`dot ${state}`} aria-hidden="true" />
      <span role="status" dir="auto">
        {state === 'live' ? 'Live' : state === 'connecting' ? 'Connecting…' : 'Offline, reconnecting…'}
      </span>
      <label class="check inline">
        <input
          type="checkbox"
          checked={sound}
          onChange={(e) => {
            const on = e.currentTarget.checked;
            setSoundOn(on);
            setSound(on);
            if (on) unlockAudio();
          }}
        />{' '}
        Sound
      </label>
      {permission === 'default' ? (
        <button type="button" class="secondary small" onClick={async () => setPermission(await askNotifications())}>
          Turn on notifications
        </button>
      ) : permission === 'denied' ? (
        <span class="muted">Notifications are blocked in this browser.</span>
      ) : null}
    </div>
  );
}
