// An answer from the tenant's own model: the minimum redacted context, streamed, then checked —
// citations repaired or the answer refused, support measured, and the model asked to rate it.
import { createHash } from 'node:crypto';
import { generateText, stepCountIs, streamText, type ToolSet } from 'ai';
import type { Citation } from '../conversations/service.js';
import { contentWords, sentencesOf } from '../knowledge/intent.js';
import type { Passage } from './extractive.js';
import type { PiiPolicy } from './pii/index.js';
import { asSent, type ProviderLanguageModel } from './pii/outbound.js';
import { inSpan } from '../telemetry/spans.js';
import { buildPrompt, CHECK_SYSTEM, citationFilter, confineLinks, neutralise, repairCitations, SYSTEM } from './prompt.js';

/** One request to the provider, as the audit log records it: sizes and hashes, never payloads. */
export interface ProviderCall {
  kind: 'answer' | 'self_check';
  inputTokens: number;
  outputTokens: number;
  latencyMs: number;
  requestSha256: string;
  responseSha256: string | null;
  /** The error's class name when the call failed; messages may quote the payload, so never those. */
  error?: string;
}

export interface Generated {
  text: string;
  citations: Citation[];
  /** 0..1 parts of the confidence */
  support: number;
  selfCheck: number;
  calls: ProviderCall[];
}

/** The answer call failed or timed out; carries what was sent, for the audit. */
export class ProviderCallError extends Error {
  constructor(readonly calls: ProviderCall[]) {
    super('provider call failed');
    this.name = 'ProviderCallError';
  }
}

const sha256 = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex');
const TIMEOUT_MS = 30_000;
/** Share of answer sentences whose content words are mostly found in the sources they cite. */
export function support(answer: string, passages: readonly Passage[]): number {
  const sentences = sentencesOf(answer).filter((s) => contentWords(s).length >= 2);
  if (!sentences.length) return 0;
  let supported = 0;
  for (const s of sentences) {
    const nums = [...s.matchAll(/\[(\d+)\]/g)].map((m) => Number(m[1]) - 1);
    const pool = new Set(
      (nums.length ? nums.map((i) => passages[i]).filter(Boolean) : passages).flatMap((p) => contentWords(`${p!.title} ${p!.text}`)),
    );
    const words = contentWords(s.replace(/\[\d+\]/g, ''));
    if (words.filter((w) => pool.has(w)).length / words.length >= 0.5) supported++;
  }
  return supported / sentences.length;
}

/** What a provider call's span records: sizes, time and outcome (the error's class name), never text. */
function callAttributes(c: ProviderCall): Record<string, string | number> {
  return {
    'gen_ai.usage.input_tokens': c.inputTokens,
    'gen_ai.usage.output_tokens': c.outputTokens,
    'parley.ai.latency_ms': c.latencyMs,
    'parley.ai.outcome': c.error ?? 'ok',
  };
}

const tokens = (u: { inputTokens?: number | undefined; outputTokens?: number | undefined }) => ({
  inputTokens: u.inputTokens ?? 0,
  outputTokens: u.outputTokens ?? 0,
});

/**
 * `model` comes from guardedModels (ai/pii/outbound.ts): its middleware redacts everything sent, so
 * nothing here redacts by hand; `policy` only names what the audit's request hash covers.
 */
export async function generateAnswer(
  model: ProviderLanguageModel,
  input: {
    question: string;
    history: { role: string; text: string }[];
    passages: Passage[];
    policy: PiiPolicy;
    timeoutMs?: number;
    /** The tenant's actions (ai/actions.ts), for a verified visitor only; each call only proposes. */
    tools?: ToolSet;
  },
  onDelta: (text: string) => void,
): Promise<Generated> {
  const timeout = { totalMs: input.timeoutMs ?? TIMEOUT_MS };
  const prompt = buildPrompt(input.question, input.history, input.passages);
  const requestSha256 = sha256(asSent([SYSTEM, prompt], input.policy).join('\n\n'));
  const callSpan = (kind: ProviderCall['kind']) => ({
    'gen_ai.system': model.provider,
    'gen_ai.request.model': model.modelId,
    'parley.ai.call': kind,
  });
  const { answerCall, raw } = await inSpan('ai.provider_call', callSpan('answer'), async (span) => {
    const started = performance.now();
    // Errors surface through the stream below; the SDK's default handler would print them, payload and all.
    const tools = input.tools && Object.keys(input.tools).length ? input.tools : undefined;
    // With tools: a call, its result, then the answer (a few steps at most).
    const result = streamText({
      model,
      system: SYSTEM,
      prompt,
      maxOutputTokens: 600,
      temperature: 0.1,
      timeout,
      onError: () => {},
      ...(tools ? { tools, stopWhen: stepCountIs(3) } : {}),
    });
    const visible = citationFilter(input.passages.length, onDelta, (text) => confineLinks(text, input.passages));
    let raw = '';
    try {
      for await (const part of result.fullStream) {
        if (part.type === 'text-delta') {
          raw += part.text;
          visible.push(part.text);
        } else if (part.type === 'error') throw part.error;
        else if (part.type === 'abort') throw new DOMException('provider call timed out', 'TimeoutError');
      }
      visible.flush();
    } catch (err) {
      const name = err instanceof Error ? err.name : 'Error';
      const failed: ProviderCall = {
        kind: 'answer',
        inputTokens: 0,
        outputTokens: 0,
        latencyMs: Math.round(performance.now() - started),
        requestSha256,
        responseSha256: null,
        error: name,
      };
      span.setAttributes(callAttributes(failed));
      throw new ProviderCallError([failed]);
    }
    const answerCall: ProviderCall = {
      kind: 'answer',
      ...tokens(await result.totalUsage),
      latencyMs: Math.round(performance.now() - started),
      requestSha256,
      responseSha256: sha256(raw),
    };
    span.setAttributes(callAttributes(answerCall));
    return { answerCall, raw };
  });
  const repaired = repairCitations(confineLinks(raw, input.passages), input.passages.length);

  // The model's own check: does the answer follow from the sources? The answer is model output, and
  // the model's middleware redacts it with the rest before it goes back.
  const checkPrompt = `${buildPrompt(input.question, [], input.passages)}\n<answer>\n${neutralise(repaired.text)}\n</answer>`;
  const checkCall: ProviderCall = {
    kind: 'self_check',
    inputTokens: 0,
    outputTokens: 0,
    latencyMs: 0,
    requestSha256: sha256(asSent([CHECK_SYSTEM, checkPrompt], input.policy).join('\n\n')),
    responseSha256: null,
  };
  let selfCheck = 0.5; // an unavailable or unreadable self-check is neutral
  await inSpan('ai.provider_call', callSpan('self_check'), async (span) => {
    const checkStarted = performance.now();
    try {
      const check = await generateText({ model, system: CHECK_SYSTEM, prompt: checkPrompt, maxOutputTokens: 10, temperature: 0, timeout });
      const n = Number.parseFloat(check.text.trim());
      if (Number.isFinite(n) && n >= 0 && n <= 1) selfCheck = n;
      Object.assign(checkCall, tokens(check.usage), { responseSha256: sha256(check.text) });
    } catch (err) {
      checkCall.error = err instanceof Error ? err.name : 'Error';
    }
    checkCall.latencyMs = Math.round(performance.now() - checkStarted);
    span.setAttributes(callAttributes(checkCall));
  });
  return {
    text: repaired.text,
    citations: repaired.cited.map((n) => {
      const p = input.passages[n - 1]!;
      return { title: p.title, url: p.url, chunkId: p.chunkId };
    }),
    support: repaired.cited.length ? support(repaired.text, input.passages) : 0,
    selfCheck,
    calls: [answerCall, checkCall],
  };
}
