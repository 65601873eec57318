// Answers a visitor from the tenant's own knowledge, or hands the conversation to a person: when the
// visitor asks for one, when the topic is one the tenant marked sensitive, or when confidence is below
// the tenant's threshold. Every answer is audited with hashes of what was asked and answered.
import { createHash } from 'node:crypto';
import type { AuditLog } from '../audit/log.js';
import type { Db } from '../db/index.js';
import type { Tx } from '../db/types.js';
import type { Answer, AnswerInput, Answerer } from '../conversations/turn.js';
import { contentWords, extractiveAnswer, type Passage } from './extractive.js';

export interface RetrievedChunk {
  chunkId: string;
  sourceId: string;
  externalId: string | null;
  title: string;
  url: string | null;
  score: number;
  text: string;
}

export type Retrieve = (tx: Tx, query: string, limit: number) => Promise<RetrievedChunk[]>;

export interface HandoffSettings {
  /** Below this confidence the assistant does not guess (0..1). */
  threshold: number;
  /** Words or phrases that always go to a person (billing disputes, legal, medical…). */
  sensitiveTopics: string[];
}

export const DEFAULT_HANDOFF: HandoffSettings = { threshold: 0.45, sensitiveTopics: [] };

const ASKS_FOR_PERSON =
  /\b(talk|speak|chat)\s+(to|with)\s+(a\s+|an\s+|some\s*one|somebody|your\s+)?(human|person|agent|representative|operator|support|staff|someone|somebody|real)\b|\b(human|live)\s+(agent|support|person)\b|\bagent,?\s+please\b/i;

const sha256 = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex');

export const MESSAGES = {
  handoff: "I've asked a member of our team to take over. They'll reply here as soon as they can.",
  unsure: "I'm not confident I can answer that correctly from our documentation, so I've asked a member of our team to follow up here.",
  sensitive: "That's something a member of our team should handle personally. I've passed your conversation to them, and they'll reply here.",
};

async function handoffSettings(tx: Tx): Promise<HandoffSettings> {
  const { rows } = await tx.query<{ settings: { handoff?: Partial<HandoffSettings> } }>('SELECT settings FROM tenants');
  const h = rows[0]?.settings.handoff ?? {};
  return {
    threshold: typeof h.threshold === 'number' ? h.threshold : DEFAULT_HANDOFF.threshold,
    sensitiveTopics: Array.isArray(h.sensitiveTopics) ? h.sensitiveTopics.filter((t) => typeof t === 'string') : [],
  };
}

function mentionsTopic(question: string, topics: string[]): string | null {
  const words = new Set(contentWords(question));
  const lower = question.toLowerCase();
  for (const t of topics) {
    const tw = contentWords(t);
    if (tw.length && (tw.every((w) => words.has(w)) || lower.includes(t.toLowerCase()))) return t;
  }
  return null;
}

/** Streams text in small word groups, as a model would. */
function streamText(text: string, onDelta: (t: string) => void): void {
  const parts = text.match(/\S+\s*/g) ?? [];
  for (let i = 0; i < parts.length; i += 4) onDelta(parts.slice(i, i + 4).join(''));
}

export class KnowledgeAnswerer implements Answerer {
  constructor(private readonly deps: { db: Db; audit: AuditLog; retrieve: Retrieve; topK?: number }) {}

  async answer(input: AnswerInput, onDelta: (text: string) => void): Promise<Answer> {
    const started = performance.now();
    const { db, audit, retrieve } = this.deps;
    const { settings, passages } = await db.withTenant(input.tenantId, { requestId: input.requestId }, async (tx) => ({
      settings: await handoffSettings(tx),
      passages: ASKS_FOR_PERSON.test(input.question) ? [] : await retrieve(tx, input.question, this.deps.topK ?? 5),
    }));

    let answer: Answer;
    const topic = mentionsTopic(input.question, settings.sensitiveTopics);
    if (ASKS_FOR_PERSON.test(input.question)) {
      answer = { text: MESSAGES.handoff, citations: [], confidence: 1, handoff: { reason: 'visitor_request' } };
    } else if (topic) {
      answer = { text: MESSAGES.sensitive, citations: [], confidence: 1, handoff: { reason: 'sensitive_topic', detail: { topic } } };
    } else {
      const ps: Passage[] = passages.map((p) => ({ chunkId: p.chunkId, title: p.title, url: p.url, text: p.text, score: p.score }));
      const ex = extractiveAnswer(input.question, ps);
      // Retrieval strength saturates: a strong BM25 match is ~10+, a weak one ~1.
      const strength = ps[0] ? ps[0].score / (ps[0].score + 4) : 0;
      const confidence = ex.text ? Number((0.6 * ex.coverage + 0.4 * strength).toFixed(3)) : 0;
      answer =
        confidence >= settings.threshold
          ? {
              text: ex.text,
              citations: ex.cited.map((i) => ({ title: ps[i]!.title, url: ps[i]!.url, chunkId: ps[i]!.chunkId })),
              confidence,
            }
          : { text: MESSAGES.unsure, citations: [], confidence, handoff: { reason: 'low_confidence', detail: { threshold: settings.threshold } } };
    }
    streamText(answer.text, onDelta);

    await db.withTenant(input.tenantId, { requestId: input.requestId }, (tx) =>
      audit.append(tx, {
        tenantId: input.tenantId,
        requestId: input.requestId,
        actor: { type: 'system', id: 'assistant' },
        action: 'ai.answer',
        target: { type: 'conversation', id: input.conversation.id },
        metadata: {
          provider: 'builtin',
          model: 'extractive-v1',
          inputTokens: 0,
          outputTokens: 0,
          latencyMs: Math.round(performance.now() - started),
          confidence: answer.confidence,
          handoff: answer.handoff?.reason ?? null,
          passages: passages.length,
          requestSha256: sha256(JSON.stringify({ question: input.question, context: passages.map((p) => p.chunkId) })),
          responseSha256: sha256(answer.text),
        },
      }),
    );
    return answer;
  }
}
