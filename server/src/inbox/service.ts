// The rules of the inbox: views and search, counts, presence and availability, canned replies.
import { randomUUID } from 'node:crypto';
import type { CannedReply, InboxCounts, InboxListQuery, InboxRow, Presence } from '@parley/protocol';
import type { AuditLog } from '../audit/log.js';
import type { Keyring } from '../crypto/keyring.js';
import type { Tx } from '../db/types.js';
import { DomainError } from '../errors.js';
import type { RequestCtx } from '../http/context.js';
import { modeFor } from '../ai/pii/index.js';
import { tenantPolicy } from '../ai/pii/redactor.js';
import type { ConversationEvent } from '../conversations/bus.js';
import * as store from './store.js';

export interface Ctx extends RequestCtx {
  tenantId: string;
}

// The stream's position: the (xid, id) of the last event delivered, as `xid-id`.
export interface Cursor {
  xid: string;
  id: number;
}
export const formatCursor = (c: Cursor) => `${c.xid}-${c.id}`;
function parseCursor(s: string | undefined): Cursor | null {
  const m = /^(\d{1,20})-(\d{1,18})$/.exec(s ?? '');
  return m ? { xid: m[1]!, id: Number(m[2]) } : null;
}
/** Orders two cursors as the feed does. */
export function compareCursors(a: Cursor, b: Cursor): number {
  const x = BigInt(a.xid) - BigInt(b.xid);
  return x !== 0n ? (x < 0n ? -1 : 1) : a.id - b.id;
}

/** Where a new stream starts: every change of an older transaction is already in what the caller read. */
async function streamStart(tx: Tx): Promise<Cursor> {
  return { xid: await store.feedHorizon(tx), id: 0 };
}

/**
 * Where a stream resumes: after `given`, a position this feed gave (an event's, or a start's), else from
 * now. Every position the feed gives is at or before its horizon, so one past it was never given: it
 * would leave the stream waiting for changes that come much later or never.
 */
export async function resumeFrom(tx: Tx, given: string | undefined): Promise<Cursor> {
  const now = await streamStart(tx);
  if (given === undefined) return now;
  const at = parseCursor(given);
  if (!at || compareCursors(at, now) > 0) throw new DomainError('invalid_input', 'Last-Event-ID (or `after`) is not a position this stream gave.');
  return at;
}

/**
 * Names of verified visitors, when the tenant's PII policy leaves names in the clear (`flag`) for the
 * widget channel; otherwise none (agents see the pseudonym).
 */
async function visitorNames(tx: Tx, keyring: Keyring, tenantId: string, rows: store.InboxDbRow[]): Promise<Map<string, string>> {
  const names = new Map<string, string>();
  const subjects = [...new Set(rows.flatMap((r) => (r.identity_subject ? [r.identity_subject] : [])))];
  if (!subjects.length || modeFor(await tenantPolicy(tx), 'person', 'widget') !== 'flag') return names;
  for (const p of await store.verifiedProfiles(tx, subjects)) {
    const name = (JSON.parse(await keyring.openString(tx, tenantId, p.profile, `visitor-profile/${p.subject}`)) as { name?: unknown }).name;
    if (typeof name === 'string' && name) names.set(p.subject, name);
  }
  return names;
}

function rowView(r: store.InboxDbRow, names: Map<string, string>): InboxRow {
  const name = r.identity_subject ? names.get(r.identity_subject) : undefined;
  return {
    conversationId: r.conversation_id,
    handoffId: r.handoff_id,
    status: r.status,
    reason: r.reason,
    visitor: { ref: r.visitor_id, verified: r.verified, ...(name ? { name } : {}) },
    lastMessage: r.last_role && r.last_at ? { role: r.last_role, text: r.last_text ?? '', at: r.last_at.toISOString() } : null,
    waitingSince: r.waiting_since?.toISOString() ?? null,
    assignee: r.assigned_to ? { id: r.assigned_to, displayName: r.assignee_name ?? r.assigned_to } : null,
    unread: r.unread,
    contactLeft: r.contact_left,
    handoffAt: r.handoff_at.toISOString(),
    resolvedAt: r.resolved_at?.toISOString() ?? null,
    updatedAt: r.updated_at.toISOString(),
  };
}

export async function list(tx: Tx, keyring: Keyring, tenantId: string, me: string | null, q: InboxListQuery) {
  const offset = q.cursor === undefined ? 0 : Number(q.cursor);
  if (!Number.isSafeInteger(offset) || offset < 0 || !/^\d+$/.test(q.cursor ?? '0')) {
    throw new DomainError('invalid_input', 'The cursor is not one this API gave.', {
      errors: [{ path: '/cursor', message: 'must be a nextCursor of a previous page', code: 'invalid' }],
    });
  }
  const streamCursor = formatCursor(await streamStart(tx));
  const rows = await store.listRows(tx, { view: q.view, me, q: q.q ?? null, offset, limit: q.limit + 1 });
  const page = rows.slice(0, q.limit);
  const names = await visitorNames(tx, keyring, tenantId, page);
  return {
    rows: page.map((r) => rowView(r, names)),
    nextCursor: rows.length > q.limit ? String(offset + q.limit) : null,
    counts: await store.counts(tx, me),
    streamCursor,
  };
}

export async function rowsOf(tx: Tx, keyring: Keyring, tenantId: string, conversationIds: string[]): Promise<Map<string, InboxRow>> {
  const rows = await store.rowsOf(tx, conversationIds);
  const names = await visitorNames(tx, keyring, tenantId, rows);
  return new Map(rows.map((r) => [r.conversation_id, rowView(r, names)]));
}

export const counts = (tx: Tx, me: string | null): Promise<InboxCounts> => store.counts(tx, me);

// Presence ---------------------------------------------------------------------------------------------

const presenceView = (p: store.PresenceRow): Presence => ({
  memberId: p.id,
  displayName: p.display_name,
  availability: p.availability,
  online: p.online,
  lastSeenAt: p.last_seen_at?.toISOString() ?? null,
});

export async function presence(tx: Tx): Promise<Presence[]> {
  return (await store.presenceList(tx)).map(presenceView);
}

/** A member sets themselves available or away; everyone's inbox hears it. Audited. */
export async function setAvailability(
  tx: Tx,
  audit: AuditLog,
  ctx: Ctx,
  memberId: string,
  availability: 'available' | 'away',
): Promise<{ presence: Presence; event: ConversationEvent }> {
  const row = await store.setAvailability(tx, memberId, availability);
  if (!row) throw new DomainError('not_found', 'No such member.');
  await audit.append(tx, { ...ctx, action: 'member.availability', target: { type: 'member', id: memberId }, metadata: { availability } });
  const view = presenceView(row);
  const { id } = await store.recordPresence(tx, ctx.tenantId, view);
  return { presence: view, event: { id, tenantId: ctx.tenantId, conversationId: null, type: 'presence', payload: view } };
}

/** The member's console is connected: seen now; coming online is told to the others. */
export async function touch(tx: Tx, tenantId: string, memberId: string): Promise<ConversationEvent | null> {
  const r = await store.touchMember(tx, memberId);
  if (!r?.cameOnline) return null;
  const view = presenceView(r.presence);
  const { id } = await store.recordPresence(tx, tenantId, view);
  return { id, tenantId, conversationId: null, type: 'presence', payload: view };
}

// Canned replies -----------------------------------------------------------------------------------------

/** A tenant keeps at most this many canned replies. */
export const MAX_CANNED_REPLIES = 500;

const cannedView = (c: store.CannedRow): CannedReply => ({
  id: c.id,
  title: c.title,
  body: c.body,
  shortcut: c.shortcut,
  createdAt: c.created_at.toISOString(),
  updatedAt: c.updated_at.toISOString(),
});

const shortcutTaken = () =>
  new DomainError('invalid_input', 'Another canned reply has this shortcut.', {
    errors: [{ path: '/shortcut', message: 'is taken by another canned reply', code: 'taken' }],
  });

export async function listCanned(tx: Tx): Promise<CannedReply[]> {
  return (await store.listCanned(tx)).map(cannedView);
}

export async function createCanned(
  tx: Tx,
  audit: AuditLog,
  ctx: Ctx,
  c: { title: string; body: string; shortcut?: string | null | undefined },
): Promise<CannedReply> {
  await store.lockCanned(tx, ctx.tenantId);
  if ((await store.countCanned(tx)) >= MAX_CANNED_REPLIES)
    throw new DomainError('conflict', `A tenant keeps at most ${MAX_CANNED_REPLIES} canned replies.`);
  const row = await store.insertCanned(tx, {
    tenantId: ctx.tenantId,
    id: randomUUID(),
    title: c.title,
    body: c.body,
    shortcut: c.shortcut ?? null,
    by: ctx.actor.id,
  });
  if (!row) throw shortcutTaken();
  await audit.append(tx, { ...ctx, action: 'canned_reply.create', target: { type: 'canned_reply', id: row.id } });
  return cannedView(row);
}

export async function updateCanned(
  tx: Tx,
  audit: AuditLog,
  ctx: Ctx,
  id: string,
  c: { title?: string | undefined; body?: string | undefined; shortcut?: string | null | undefined },
): Promise<CannedReply> {
  if (c.shortcut && (await store.shortcutTaken(tx, c.shortcut, id))) throw shortcutTaken();
  const row = await store.updateCanned(tx, id, {
    ...(c.title !== undefined ? { title: c.title } : {}),
    ...(c.body !== undefined ? { body: c.body } : {}),
    ...(c.shortcut !== undefined ? { shortcut: c.shortcut } : {}),
  });
  if (!row) throw new DomainError('not_found', 'No such canned reply.');
  await audit.append(tx, { ...ctx, action: 'canned_reply.update', target: { type: 'canned_reply', id }, metadata: { fields: Object.keys(c) } });
  return cannedView(row);
}

export async function deleteCanned(tx: Tx, audit: AuditLog, ctx: Ctx, id: string): Promise<void> {
  if (!(await store.deleteCanned(tx, id))) throw new DomainError('not_found', 'No such canned reply.');
  await audit.append(tx, { ...ctx, action: 'canned_reply.delete', target: { type: 'canned_reply', id } });
}
