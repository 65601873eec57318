// The agent side: handoffs, reading conversations, replying live, and break-glass reveal of
// reversible personal data (a capability, a reason and an audit entry every time).
import { AgentMessageRequest, HandoffListQuery, PiiScanRequest, RevealRequest, SettingsSchema, UpdateHandoffRequest } from '@parley/protocol';
import { Router } from 'express';
import type { AuditLog } from '../audit/log.js';
import type { Keyring } from '../crypto/keyring.js';
import type { Db } from '../db/index.js';
import type { Tx } from '../db/types.js';
import { adminCtx, by } from '../http/context.js';
import { problems } from '../http/problem.js';
import { route } from '../http/routes.js';
import { parse, uuidParam } from '../http/validate.js';
import { PiiPolicySchema, redact, newRedactionState } from '../ai/pii/index.js';
import { tenantPolicy, vaultContext, type ConversationRedactor } from '../ai/pii/redactor.js';
import type { ConversationBus } from '../conversations/bus.js';
import { appendMessage, conversationView, recordEvent, type ConversationRow } from '../conversations/service.js';
import { requireCapability as can } from '../tenants/auth.js';
import { handoffChanged } from '../webhooks/events.js';
import { isMember, listHandoffs } from './store.js';

export interface HandoffDeps {
  db: Db;
  audit: AuditLog;
  keyring: Keyring;
  bus: ConversationBus;
  redactor: ConversationRedactor;
}


async function conversation(tx: Tx, id: string): Promise<ConversationRow> {
  const { rows } = await tx.query<ConversationRow>('SELECT * FROM conversations WHERE id = $1 FOR UPDATE', [id]);
  if (!rows[0]) throw problems.notFound('No such conversation.');
  return rows[0];
}

export function handoffRoutes(deps: HandoffDeps): Router {
  const r = Router();

  route(r, '/handoffs', {
    get: [can('handoffs:read'), async (req, res) => {
      const q = parse(HandoffListQuery, req.query, 'query');
      const { tenantId } = adminCtx(req);
      const rows = await deps.db.withTenant(tenantId, { requestId: req.id }, (tx) => listHandoffs(tx, q.status ?? null, q.limit));
      res.json({
        handoffs: rows.map((h) => ({
          id: h.id,
          conversationId: h.conversation_id,
          status: h.status,
          reason: h.reason,
          assignedTo: h.assigned_to,
          assignee: h.assignee_name ? { id: h.assigned_to, displayName: h.assignee_name } : null,
          visitorVerified: h.verified,
          visitorRef: h.visitor_ref,
          createdAt: h.created_at.toISOString(),
          updatedAt: h.updated_at.toISOString(),
        })),
      });
    }],
  });

  route(r, '/handoffs/:id', {
    patch: [can('handoffs:write'), async (req, res) => {
      const body = parse(UpdateHandoffRequest, req.body);
      const id = uuidParam(req, 'id');
      const { tenantId, admin } = adminCtx(req);
      const event = await deps.db.withTenant(tenantId, { requestId: req.id }, async (tx) => {
        // A person takes a handoff as themselves, or hands it to a teammate: never a typed name.
        let assignedTo = body.assignedTo ?? null;
        if (body.status === 'assigned' && admin.member) {
          assignedTo ??= admin.member.id;
          if (!(await isMember(tx, assignedTo))) throw problems.validation([{ path: '/assignedTo', message: 'must be a member id of this tenant', code: 'not_member' }]);
        }
        const { rows } = await tx.query<{ conversation_id: string }>(
          `UPDATE handoffs SET status = $2, assigned_to = coalesce($3, assigned_to), updated_at = now()
            WHERE id = $1 AND status <> 'resolved' RETURNING conversation_id`,
          [id, body.status, assignedTo],
        );
        if (!rows[0]) throw problems.notFound('No such open handoff.');
        if (body.status === 'resolved') await tx.query("UPDATE conversations SET status = 'open', updated_at = now() WHERE id = $1", [rows[0].conversation_id]);
        await handoffChanged(tx, tenantId, { id, conversationId: rows[0].conversation_id, status: body.status }, assignedTo);
        await deps.audit.append(tx, { tenantId, ...by(req), action: 'handoff.update', target: { type: 'handoff', id }, metadata: { status: body.status, ...(assignedTo ? { assignedTo } : {}) } });
        return recordEvent(tx, tenantId, rows[0].conversation_id, 'status', { handoff: { id, status: body.status } });
      });
      deps.bus.publish(event);
      res.status(204).end();
    }],
  });

  route(r, '/conversations/:id', {
    get: [can('conversations:read'), async (req, res) => {
      const id = uuidParam(req, 'id');
      const { tenantId } = adminCtx(req);
      const out = await deps.db.withTenant(tenantId, { requestId: req.id }, async (tx) => {
        const c = await conversation(tx, id);
        const messages = await tx.query<{ id: string; role: string; text: string; pii: unknown[]; citations: unknown[]; confidence: number | null; author_id: string | null; created_at: Date }>(
          'SELECT id, role, text, pii, citations, confidence, author_id, created_at FROM messages WHERE conversation_id = $1 ORDER BY seq',
          [id],
        );
        // Reading a transcript is a sensitive read even in its redacted form.
        await deps.audit.append(tx, { tenantId, ...by(req), action: 'conversation.read', target: { type: 'conversation', id } });
        return {
          // The visitor's pseudonymous reference: it names the visitor, it does not let anyone become them.
          conversation: { ...conversationView(c), visitorRef: c.visitor_id, identitySubject: c.identity_subject },
          messages: messages.rows.map((m) => ({
            id: m.id,
            role: m.role,
            text: m.text,
            redactions: m.pii,
            citations: m.citations,
            confidence: m.confidence,
            author: m.author_id,
            createdAt: m.created_at.toISOString(),
          })),
        };
      });
      res.json(out);
    }],
  });

  route(r, '/conversations/:id/messages', {
    post: [can('conversations:write'), async (req, res) => {
      const body = parse(AgentMessageRequest, req.body);
      const id = uuidParam(req, 'id');
      const { tenantId, admin } = adminCtx(req);
      // A person writes as themselves; an integration's key names its author.
      const author = admin.member?.id ?? body.agent;
      if (!author) throw problems.validation([{ path: '/agent', message: 'is required when a key writes', code: 'required' }]);
      const out = await deps.db.withTenant(tenantId, { requestId: req.id }, async (tx) => {
        const c = await conversation(tx, id);
        const redacted = await deps.redactor.inbound(tx, c, body.text, 'api');
        const saved = await appendMessage(tx, { tenantId, conversationId: id, role: 'agent', text: redacted.text, pii: redacted.pii, authorId: author });
        await deps.audit.append(tx, { tenantId, ...by(req), action: 'conversation.agent_reply', target: { type: 'conversation', id }, metadata: { messageId: saved.message.id, agent: author } });
        return saved;
      });
      if (out.event) deps.bus.publish(out.event);
      res.status(201).json({ message: out.message });
    }],
  });

  route(r, '/conversations/:id/reveal', {
    post: [can('pii:reveal'), async (req, res) => {
      const body = parse(RevealRequest, req.body);
      const id = uuidParam(req, 'id');
      const { tenantId } = adminCtx(req);
      const value = await deps.db.withTenant(tenantId, { requestId: req.id }, async (tx) => {
        const { rows } = await tx.query<{ sealed: Uint8Array; class: string }>('SELECT sealed, class FROM pii_vault WHERE conversation_id = $1 AND token = $2', [id, body.token]);
        if (!rows[0]) throw problems.notFound('No reversible value with that token in this conversation.');
        await deps.audit.append(tx, {
          tenantId,
          ...by(req),
          action: 'pii.reveal',
          target: { type: 'conversation', id },
          reason: body.reason,
          metadata: { token: body.token, class: rows[0].class },
        });
        return deps.keyring.openString(tx, tenantId, rows[0].sealed, vaultContext(id, body.token));
      });
      res.setHeader('Cache-Control', 'no-store').json({ token: body.token, value });
    }],
  });

  route(r, '/pii/scan', {
    post: [can('pii:read'), async (req, res) => {
      const body = parse(PiiScanRequest, req.body);
      const { tenantId } = adminCtx(req);
      const policy = await deps.db.withTenant(tenantId, { requestId: req.id }, (tx) => tenantPolicy(tx));
      const out = redact(body.text, policy, body.channel, newRedactionState());
      res.json({
        matches: out.matches.map((m) => ({ class: m.class, start: m.start, end: m.end, score: Number(m.score.toFixed(3)), action: m.action })),
        redacted: out.redacted,
      });
    }],
  });

  route(r, '/settings', {
    get: [can('settings:read'), async (req, res) => {
      const { tenantId } = adminCtx(req);
      const { rows } = await deps.db.withTenant(tenantId, { requestId: req.id }, (tx) =>
        tx.query<{ settings: Record<string, unknown>; policy_version: number }>('SELECT settings, policy_version FROM tenants'),
      );
      res.json({ settings: rows[0]!.settings, policyVersion: rows[0]!.policy_version });
    }],
    put: [can('settings:write'), async (req, res) => {
      const body = parse(SettingsSchema, req.body);
      if (body.pii !== undefined) {
        const pii = PiiPolicySchema.safeParse(body.pii);
        if (!pii.success) throw problems.validation(pii.error.issues.map((i) => ({ path: `/pii/${i.path.join('/')}`, message: i.message, code: i.code })));
        body.pii = pii.data as unknown as Record<string, unknown>;
      }
      const { tenantId } = adminCtx(req);
      const version = await deps.db.withTenant(tenantId, { requestId: req.id }, async (tx) => {
        const { rows } = await tx.query<{ policy_version: number }>(
          'UPDATE tenants SET settings = settings || $2::jsonb, policy_version = policy_version + 1 WHERE id = $1 RETURNING policy_version',
          [tenantId, JSON.stringify(body)],
        );
        await deps.audit.append(tx, { tenantId, ...by(req), action: 'settings.update', metadata: { sections: Object.keys(body), policyVersion: rows[0]!.policy_version } });
        return rows[0]!.policy_version;
      });
      res.json({ policyVersion: version });
    }],
  });
  return r;
}
