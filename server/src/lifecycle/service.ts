// Data-subject requests: export everything stored about one person (personal values put back, for them),
// or erase it. The subject's id is personal data and the audit log must never hold any (it is never edited
// to erase, so nothing personal may enter it): an export is audited with the reason it was asked for (any
// personal value in it taken out by the audit log, as every reason is), the conversations it opened by id,
// and counts; an erasure with counts (and its reason, when given).
import type { DataSubject, DataSubjectErasure, DataSubjectExport, DataSubjectExportRequest, DataSubjectRequest } from '@parley/protocol';
import type { ConversationRedactor } from '../ai/pii/redactor.js';
import type { AuditLog } from '../audit/log.js';
import type { Keyring } from '../crypto/keyring.js';
import type { Tx } from '../db/types.js';
import { contactContext } from '../handoff/service.js';
import type { RequestCtx } from '../http/context.js';
import { conversationContent, eraseSubject, sealedProfile, subjectConversations, visitorRecords } from './store.js';

export interface SubjectDeps {
  audit: AuditLog;
  keyring: Keyring;
  redactor: Pick<ConversationRedactor, 'restoreForVisitor'>;
}
type Ctx = RequestCtx & { tenantId: string };

const iso = (d: Date) => d.toISOString();
const byConversation = <T extends { conversation_id: string }>(rows: T[], id: string) => rows.filter((r) => r.conversation_id === id);

/** The visitor references a subject's data lives under. */
const refsOf = (s: DataSubject, conversations: { visitor_id: string }[]) =>
  s.type === 'visitor' ? [s.id] : [...new Set(conversations.map((c) => c.visitor_id))];

/** How many conversation ids an export's audit entry names (the count is always whole). */
export const AUDITED_CONVERSATION_IDS = 100;

export async function exportSubject(tx: Tx, deps: SubjectDeps, ctx: Ctx, request: DataSubjectExportRequest): Promise<DataSubjectExport> {
  const s: DataSubject = { type: request.type, id: request.id };
  const conversations = await subjectConversations(tx, s);
  const content = await conversationContent(
    tx,
    conversations.map((c) => c.id),
  );
  const out: DataSubjectExport['conversations'] = [];
  for (const c of conversations) {
    const messages = [];
    for (const m of byConversation(content.messages, c.id))
      messages.push({ seq: m.seq, role: m.role, text: await deps.redactor.restoreForVisitor(tx, c, m.text), createdAt: iso(m.created_at) });
    out.push({
      id: c.id,
      visitorRef: c.visitor_id,
      userId: c.identity_subject,
      channel: c.channel,
      origin: c.origin,
      status: c.status,
      createdAt: iso(c.created_at),
      updatedAt: iso(c.updated_at),
      contactEmail: c.contact_email_sealed ? await deps.keyring.openString(tx, ctx.tenantId, c.contact_email_sealed, contactContext(c.id)) : null,
      messages,
      handoffs: byConversation(content.handoffs, c.id).map((h) => ({
        status: h.status,
        reason: h.reason,
        createdAt: iso(h.created_at),
        resolvedAt: h.resolved_at ? iso(h.resolved_at) : null,
      })),
      ratings: byConversation(content.ratings, c.id).map((r) => ({ score: r.score, comment: r.comment, createdAt: iso(r.created_at) })),
      actions: byConversation(content.actions, c.id).map((p) => ({
        action: p.action,
        arguments: p.arguments,
        reason: p.reason,
        status: p.status,
        createdAt: iso(p.created_at),
        result: p.result_summary,
        error: p.error,
      })),
    });
  }
  const sealed = s.type === 'user' ? await sealedProfile(tx, s.id) : null;
  const profile = sealed
    ? (JSON.parse(await deps.keyring.openString(tx, ctx.tenantId, sealed, `visitor-profile/${s.id}`)) as Record<string, unknown>)
    : null;
  const visitors = (await visitorRecords(tx, refsOf(s, conversations))).map((v) => ({
    ref: v.id,
    createdAt: iso(v.created_at),
    lastSeenAt: iso(v.last_seen_at),
  }));
  await deps.audit.append(tx, {
    tenantId: ctx.tenantId,
    requestId: ctx.requestId,
    actor: ctx.actor,
    action: 'privacy.export',
    target: { type: 'data_subject', id: null },
    reason: request.reason ?? null,
    metadata: {
      subjectType: s.type,
      // Which data went out, by Parley's own ids (as other entries name a conversation), never the subject's:
      // while the conversations exist they lead to the person; erased, to nothing.
      conversationIds: out.slice(0, AUDITED_CONVERSATION_IDS).map((c) => c.id),
      conversations: out.length,
      messages: content.messages.length,
      actions: content.actions.length,
      visitors: visitors.length,
      profile: profile !== null,
    },
  });
  return { subject: s, exportedAt: new Date().toISOString(), profile, visitors, conversations: out };
}

export async function eraseDataSubject(tx: Tx, deps: Pick<SubjectDeps, 'audit'>, ctx: Ctx, request: DataSubjectRequest): Promise<DataSubjectErasure> {
  const s: DataSubject = { type: request.type, id: request.id };
  const conversations = await subjectConversations(tx, s);
  const deleted = await eraseSubject(
    tx,
    s,
    conversations.map((c) => c.id),
    refsOf(s, conversations),
  );
  await deps.audit.append(tx, {
    tenantId: ctx.tenantId,
    requestId: ctx.requestId,
    actor: ctx.actor,
    action: 'privacy.erase',
    target: { type: 'data_subject', id: null },
    reason: request.reason ?? null,
    metadata: { subjectType: s.type, deleted },
  });
  return { deleted };
}
