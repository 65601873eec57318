// Answers a visitor from the tenant's own knowledge, or hands the conversation to a person: when the
// visitor asks for one, when the topic is one the tenant marked sensitive, or when confidence is below
// the tenant's threshold. Every answer is audited with hashes of what was asked and answered.
import { createHash } from 'node:crypto';
import type { AuditLog } from '../audit/log.js';
import type { Db } from '../db/index.js';
import type { Tx } from '../db/types.js';
import { NOTICES } from '../conversations/notices.js';
import type { Answer, AnswerInput, Answerer } from '../conversations/turn.js';
import type { Keyring } from '../crypto/keyring.js';
import type { Retrieve } from '../knowledge/retrieve.js';
import { admit, budgetFor, recordUsage } from './budget.js';
import { decide } from './decide.js';
import { offeredPassage } from './offers.js';
import { verifiedSubject } from '../approvals/service.js';
import { turnActions, WAITING } from './actions.js';
import { actionOffer, offerText } from './action-offers.js';
import type { ApprovalDeps } from '../approvals/service.js';
import type { Passage } from './extractive.js';
import { askedPart, contentWords } from '../knowledge/intent.js';
import { queryTerms } from '../knowledge/lexical.js';
import { generateAnswer, ProviderCallError, type ProviderCall } from './generative.js';
import type { ModelFor } from './models.js';
import type { PiiPolicy } from './pii/index.js';
import { guardedModels, type ProviderLanguageModel } from './pii/outbound.js';
import { tenantPolicy } from './pii/redactor.js';
import { resolveProviderCredentials, type ProviderCredentials } from './providers/service.js';
import { DEFAULT_SETTINGS } from '@parley/protocol';
import { tenantSettings } from '../tenants/settings.js';
import { inSpan } from '../telemetry/spans.js';
import type { Span } from '@opentelemetry/api';

export interface HandoffSettings {
  /** Below this confidence the assistant does not guess (0..1). */
  threshold: number;
  /** Between this and `threshold` the built-in answerer offers "Did you mean: <heading>?" instead of handing off. */
  suggestThreshold: number;
  /** Words or phrases that always go to a person (billing disputes, legal, medical…). */
  sensitiveTopics: string[];
}

export const DEFAULT_HANDOFF: HandoffSettings = DEFAULT_SETTINGS.handoff;

// Asking for a person: a verb of reaching someone, then (within a few words) someone to reach; the visitor
// needing or wanting one ("I need a person", not "I need support with my order"); or a bare "agent please".
// Anything the pattern misses still has the answer decision and its handoff behind it.
const PEOPLE = '(human|person|people|agent|representative|rep|operator|manager|supervisor|support|staff|someone|somebody|team|advisor|adviser)';
const A_PERSON = '(a\\s+|an\\s+|the\\s+|your\\s+|real\\s+|live\\s+|actual\\s+)*';
export const ASKS_FOR_PERSON = new RegExp(
  `\\b(talk|speak|chat|connect|transfer|put|get|reach|contact)\\b(\\s+\\S+){0,5}?\\s+${A_PERSON}${PEOPLE}\\b|\\b(i|we)\\s+(need|want)\\s+${A_PERSON}(human|person|agent|representative|operator|someone|somebody)\\b|\\b(human|live|real)\\s+(agent|support|person|being)\\b|\\b(is there|are there)\\s+(a\\s+|any\\s+)?(human|person|people|agent)\\b|\\bagent,?\\s+please\\b`,
  'i',
);

const sha256 = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex');

function mentionsTopic(question: string, topics: string[]): string | null {
  const words = new Set(contentWords(question));
  const lower = question.toLowerCase();
  for (const t of topics) {
    const tw = contentWords(t);
    if (tw.length && (tw.every((w) => words.has(w)) || lower.includes(t.toLowerCase()))) return t;
  }
  return null;
}

/** The text of a "Did you mean" offer: the headings, as the tenant wrote them. */
export const suggestText = (headings: readonly string[]) =>
  `Did you mean: ${headings.length > 1 ? `${headings.slice(0, -1).join(', ')} or ${headings.at(-1)}` : headings[0]}?`;

/** Streams text in small word groups, as a model would. */
function streamText(text: string, onDelta: (t: string) => void): void {
  const parts = text.match(/\S+\s*/g) ?? [];
  for (let i = 0; i < parts.length; i += 4) onDelta(parts.slice(i, i + 4).join(''));
}

export interface AnswererDeps {
  db: Db;
  audit: AuditLog;
  retrieve: Retrieve;
  /** Starts the reads `retrieve` makes first, to go to the database with the answerer's own (db/postgres.ts). */
  prefetch?: (tx: Tx) => Promise<unknown>;
  /** Opens the tenant's provider key; without it every tenant gets the built-in answerer. */
  keyring?: Keyring;
  /** Builds the model from credentials (through the outbound module; tests put the ai SDK's test model here). */
  modelFor: ModelFor;
  topK?: number;
  /** Told of every answer (metrics: confidence and handoffs). */
  observe?: (tenantId: string, answer: Answer) => void;
  /** The approval rail: with it, a verified visitor's turn offers the tenant's actions to the model. */
  approvals?: ApprovalDeps;
}

export class KnowledgeAnswerer implements Answerer {
  /** How the answerer gets a model: the factory in deps, wrapped in the tenant’s redaction. */
  private readonly model: (creds: ProviderCredentials, policy: PiiPolicy) => ProviderLanguageModel;

  constructor(private readonly deps: AnswererDeps) {
    this.model = guardedModels(deps.modelFor);
  }

  /**
   * The reads an answer starts with (see answerIn), asked in the transaction that stores the question.
   * One that fails (a provider key that cannot be opened: its key-encryption key lost or unreachable) must
   * not fail storing the question: it is not carried, and the answer asks again and fails there, as before.
   */
  warm(tx: Tx, tenantId: string): Promise<unknown> {
    return Promise.all([
      tenantSettings(tx),
      this.deps.keyring ? resolveProviderCredentials(tx, this.deps.keyring, tenantId) : undefined,
      this.deps.prefetch?.(tx),
    ]).catch(() => undefined);
  }

  answer(input: AnswerInput, onDelta: (text: string) => void): Promise<Answer> {
    return inSpan('ai.answer', { 'parley.tenant_id': input.tenantId, 'parley.request_id': input.requestId }, async (span) => {
      const answer = await this.answerIn(input, onDelta, span);
      this.deps.observe?.(input.tenantId, answer);
      return answer;
    });
  }

  private async answerIn(input: AnswerInput, onDelta: (text: string) => void, span: Span): Promise<Answer> {
    const started = performance.now();
    const { db, audit, retrieve } = this.deps;
    const asksForPerson = ASKS_FOR_PERSON.test(input.question);
    // What the message asks, without the story told around it (knowledge/intent.ts).
    const asked = askedPart(input.question);
    const scope = { requestId: input.requestId };
    // What the turn needs to know, and the passages, read in one transaction on the read path (a replica
    // when configured; the primary for a tenant that has just written). What the transaction that stored
    // the question read for it (warm) is not asked again: with the passages scored in memory, this
    // transaction then sends nothing at all.
    const recordings: ((tx: Tx) => Promise<void>)[] = [];
    const first = await db.withTenantRead(
      input.tenantId,
      scope,
      async (tx) => {
        // Asked together, the settings, the provider credentials and retrieval's first reads go to the
        // database in one message (db/postgres.ts); the last two are only used when the turn goes on to retrieval.
        const retrieves = !asksForPerson && !input.pick;
        const [all, opened] = await Promise.all([
          tenantSettings(tx),
          retrieves && this.deps.keyring ? resolveProviderCredentials(tx, this.deps.keyring, input.tenantId) : undefined,
          retrieves ? this.deps.prefetch?.(tx) : undefined,
        ]);
        const settings = all.handoff;
        const vocabulary = { synonyms: all.retrieval.synonyms, lexicon: all.retrieval.supportVocabulary };
        // A picked "Did you mean" offer is answered with its passage, whatever the words sent with it.
        const picked = input.pick ? await offeredPassage(tx, input.conversation.id, input.pick) : null;
        const topic = picked ? null : mentionsTopic(input.question, settings.sensitiveTopics);
        const early = asksForPerson || topic !== null || picked !== null;
        // Read already unless a pick was asked for (and then not found).
        const creds =
          early || !this.deps.keyring ? undefined : (opened ?? (await resolveProviderCredentials(tx, this.deps.keyring, input.tenantId)))[0];
        const policy = creds ? await tenantPolicy(tx) : null;
        const found = early ? { results: [] } : await retrieve(tx, input.question, this.deps.topK ?? 5, input.requestId);
        // For the built-in answerer, the question alone where the message tells a story around it: a second
        // reading to check the first (a model reads the story itself).
        const alone = early || creds || asked === input.question ? null : await retrieve(tx, asked, 1, input.requestId);
        if (alone?.record) recordings.push(alone.record);
        // Kept outside the transaction: a read retried on the primary after a replica failure records both calls.
        if (found.record) recordings.push(found.record);
        return { settings, vocabulary, picked, topic, early, creds, policy, passages: found.results, alone };
      },
      input.carried,
    );
    // A query embedding reached a provider: recorded at once on the primary.
    if (recordings.length)
      await db.withTenant(input.tenantId, scope, async (tx) => {
        for (const r of recordings) await r(tx);
      });
    const { passages } = first;
    // Only a turn that would reach the provider counts against its budget. The API channel admits a turn
    // before storing anything (over budget it is a 429 there).
    // A verified visitor's turn with a provider offers the tenant's enabled actions as tools (proposals only).
    const actions =
      first.creds && this.deps.approvals
        ? await turnActions(this.deps.approvals, { tenantId: input.tenantId, requestId: input.requestId, conversation: input.conversation })
        : null;
    const calling = first.creds !== undefined && (passages.length > 0 || actions !== null);
    const admitted =
      calling && !input.admitted ? await db.withTenant(input.tenantId, scope, async (tx) => admit(tx, input.tenantId, await budgetFor(tx))) : true;
    const { settings, vocabulary, picked, topic, creds, policy } = first;
    const ps: Passage[] = passages.map((p) => ({ chunkId: p.chunkId, title: p.title, url: p.url, text: p.text, score: p.score }));
    // Retrieval strength saturates: a strong BM25 match is ~10+, a weak one ~1.
    const strength = ps[0] ? (passages[0]!.strength ?? ps[0].score / (ps[0].score + 4)) : 0;
    const unsure = (confidence: number): Answer => ({
      text: NOTICES.unsure,
      citations: [],
      confidence,
      handoff: { reason: 'low_confidence', detail: { threshold: settings.threshold } },
    });
    const audits: Record<string, unknown>[] = [];

    let answer: Answer;
    // The model streams its own words; every other reply is streamed here, as one would be.
    let streamed = false;
    // Tokens spent at the provider.
    let used = 0;
    if (picked) {
      answer = { text: `${picked.text.trim()} [1]`, citations: [{ title: picked.title, url: picked.url, chunkId: picked.chunkId }], confidence: 1 };
    } else if (asksForPerson) {
      answer = { text: NOTICES.handoff, citations: [], confidence: 1, handoff: { reason: 'visitor_request' } };
    } else if (topic) {
      answer = { text: NOTICES.sensitive, citations: [], confidence: 1, handoff: { reason: 'sensitive_topic', detail: { topic } } };
    } else if (creds && !admitted) {
      answer = { text: NOTICES.busy, citations: [], confidence: 0, handoff: { reason: 'budget' } };
    } else if (creds && !ps.length && !actions) {
      answer = unsure(0);
    } else if (creds) {
      let calls: ProviderCall[] = [];
      streamed = true;
      try {
        const model = this.model(creds, policy!);
        const g = await generateAnswer(
          model,
          { question: input.question, history: input.history, passages: ps, policy: policy!, ...(actions ? { tools: actions.tools } : {}) },
          onDelta,
        );
        calls = g.calls;
        // Word overlap cannot see a negation; the model's own low rating vetoes the answer.
        const combined = 0.3 * strength + 0.4 * g.support + 0.3 * g.selfCheck;
        const confidence = Number((g.selfCheck < 0.3 ? Math.min(combined, g.selfCheck) : combined).toFixed(3));
        // An answer that cites nothing that was retrieved is not grounded, however confident.
        if (actions?.waiting.length) {
          // A proposal waits for a person: the visitor is told so, whatever the model wrote.
          const tail = g.text.includes(WAITING) ? '' : `${g.text ? '\n\n' : ''}${WAITING}`;
          if (tail) onDelta(tail);
          answer = { text: `${g.text}${tail}`, citations: g.citations, confidence };
        } else if (actions?.ran.length && g.text) answer = { text: g.text, citations: g.citations, confidence };
        else
          answer = g.citations.length && confidence >= settings.threshold ? { text: g.text, citations: g.citations, confidence } : unsure(confidence);
      } catch (err) {
        // A model that could not even be built made no request: audited as a failed call without hashes.
        if (err instanceof ProviderCallError) calls = err.calls;
        else audits.push({ provider: creds.provider, model: creds.model, call: 'answer', error: err instanceof Error ? err.name : 'Error' });
        answer = { text: NOTICES.busy, citations: [], confidence: 0, handoff: { reason: 'provider_error' } };
      }
      for (const { kind, ...c } of calls) audits.push({ provider: creds.provider, model: creds.model, call: kind, ...c });
      used = calls.reduce((n, c) => n + c.inputTokens + c.outputTokens, 0);
    } else {
      const terms = queryTerms(input.question, vocabulary);
      // The story's words can draw search to a passage about the case rather than the question ("… the
      // tracking says it was delivered. When do I get my money?"): where the question alone finds another
      // passage first, the built-in answerer offers, at most, and never answers.
      // (A tenant that turned offers off, with suggestThreshold at or above threshold, gets a handoff.)
      const disagree = first.alone !== null && first.alone.results[0]?.chunkId !== ps[0]?.chunkId;
      const offersOnly = {
        threshold: Infinity,
        suggestThreshold: settings.suggestThreshold < settings.threshold ? settings.suggestThreshold : Infinity,
      };
      // Where the question alone finds the same passage, the story has done its part (search), and the
      // answer is judged on what was asked: "Hello, I'm Tom and I live in Oslo. Do you deliver to Norway?"
      // is no less answerable for the words the passage need not have.
      const d = !first.alone
        ? decide(input.question, ps, terms, settings, strength)
        : disagree
          ? decide(input.question, ps, terms, offersOnly, strength)
          : decide(asked, ps, queryTerms(asked, vocabulary), settings, strength);
      const cite = (i: number) => ({ title: ps[i]!.title, url: ps[i]!.url, chunkId: ps[i]!.chunkId });
      // A verified visitor whose question names an action is offered it (a confirm button); nothing is proposed here.
      const offer =
        this.deps.approvals && verifiedSubject(input.conversation)
          ? await db.withTenant(input.tenantId, scope, (tx) => actionOffer(tx, input.question, terms))
          : null;
      if (offer && d.action !== 'answer') answer = { text: offerText(offer), citations: [], confidence: d.probability, offer };
      else if (d.action === 'answer')
        answer = { text: d.answer.text, citations: d.answer.cited.map(cite), confidence: d.probability, ...(offer ? { offer } : {}) };
      else if (d.action === 'suggest') {
        // Not sure enough to answer, sure enough to ask: the visitor picks the passage, or asks again.
        const offered = d.suggestions!;
        answer = {
          text: suggestText(offered.map((o) => o.heading)),
          citations: offered.map((o) => ({ ...cite(o.index), suggested: true })),
          confidence: d.probability,
        };
      } else answer = unsure(d.probability);
      audits.push({
        provider: 'builtin',
        model: 'extractive-v2',
        call: 'answer',
        inputTokens: 0,
        outputTokens: 0,
        requestSha256: sha256(JSON.stringify({ question: input.question, context: passages.map((p) => p.chunkId) })),
        responseSha256: sha256(answer.text),
      });
    }
    if (!streamed) streamText(answer.text, onDelta);

    const latencyMs = Math.round(performance.now() - started);
    // Which model, how much and how it went: never the question or the answer.
    const call = audits[0] as { provider?: string; model?: string } | undefined;
    const sum = (k: 'inputTokens' | 'outputTokens') => audits.reduce((n, a) => n + (typeof a[k] === 'number' ? (a[k] as number) : 0), 0);
    span.setAttributes({
      'gen_ai.system': call?.provider ?? 'none',
      'gen_ai.request.model': call?.model ?? 'none',
      'gen_ai.usage.input_tokens': sum('inputTokens'),
      'gen_ai.usage.output_tokens': sum('outputTokens'),
      'parley.ai.latency_ms': latencyMs,
      'parley.ai.outcome': answer.handoff ? `handoff:${answer.handoff.reason}` : 'answered',
      'parley.ai.confidence': answer.confidence,
      'parley.ai.passages': passages.length,
    });
    const record = async (tx: Tx) => {
      for (const a of audits.length ? audits : [{ provider: 'none', call: 'none' }]) {
        await audit.append(tx, {
          tenantId: input.tenantId,
          requestId: input.requestId,
          actor: { type: 'system', id: 'assistant' },
          action: 'ai.answer',
          target: { type: 'conversation', id: input.conversation.id },
          metadata: { latencyMs, ...a, confidence: answer.confidence, handoff: answer.handoff?.reason ?? null, passages: passages.length },
        });
      }
    };
    // A provider call is recorded (and its tokens counted) at once, whatever becomes of the answer: text
    // left the process. An answer made here is recorded with the answer, in the transaction that stores it.
    if (streamed)
      await db.withTenant(input.tenantId, scope, async (tx) => {
        await recordUsage(tx, input.tenantId, used);
        await record(tx);
      });
    else answer.record = record;
    return answer;
  }
}
