// Redaction before any model, as `ai` SDK middleware: every language or embedding model the server
// builds is wrapped here (see guardedModels, guardedEmbeddings), so no call site can send a prompt, the
// tools it offers or an embedding input without it, whatever it did or forgot to do itself. The outbound pass is stricter
// than storage: every class strict, no threshold looser than the default, whatever the tenant relaxed.
import { ENGINE_PLACEHOLDER, outboundPlaceholder, type PlaceholderLabel } from '@parley/protocol/placeholder';
import { wrapEmbeddingModel, wrapLanguageModel, type EmbeddingModelMiddleware, type LanguageModelMiddleware } from 'ai';
import { defaultPolicy, newRedactionState, redact, type PiiPolicy } from './index.js';

export type ProviderLanguageModel = Parameters<typeof wrapLanguageModel>[0]['model'];
export type ProviderEmbeddingModel = Parameters<typeof wrapEmbeddingModel>[0]['model'];

const SHIELD = /\u27e6(\d+)\u27e7/g;

/**
 * Redacts text on its way to a model. Values found here get placeholders that never restore
 * (`[EMAIL_K1]`), so they cannot be mistaken for the visitor's own; the engine's placeholders already in
 * the text (the visitor's) pass through untouched.
 */
export function redactOutbound(text: string, policy: PiiPolicy): string {
  const kept: string[] = [];
  // The shield brackets are ours alone: any already in the data become plain ones first.
  const shielded = text
    .replace(/\u27e6/g, '[')
    .replace(/\u27e7/g, ']')
    .replace(ENGINE_PLACEHOLDER, (t) => `\u27e6${kept.push(t) - 1}\u27e7`);
  const strict: PiiPolicy = {
    classes: Object.fromEntries(
      Object.entries(policy.classes).map(([k, v]) => [
        k,
        { mode: 'strict', minScore: Math.min(v.minScore, defaultPolicy.classes[k as keyof PiiPolicy['classes']].minScore) },
      ]),
    ) as PiiPolicy['classes'],
  };
  return redact(shielded, strict, 'api', newRedactionState())
    .redacted.replace(ENGINE_PLACEHOLDER, (_m, label: PlaceholderLabel, n: string) => outboundPlaceholder(label, n))
    .replace(SHIELD, (_m, i: string) => kept[Number(i)]!);
}

type Prompt = Parameters<NonNullable<LanguageModelMiddleware['transformParams']>>[0]['params']['prompt'];

/** Every string inside a JSON value, redacted (tool-call arguments, JSON tool results). */
function redactJson(v: unknown, r: (t: string) => string): unknown {
  if (typeof v === 'string') return r(v);
  if (Array.isArray(v)) return v.map((x) => redactJson(x, r));
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [r(k), redactJson(x, r)]));
  return v;
}

type ToolOutput = { type: string; value?: unknown };

/** A tool result (an action's answer: untrusted data) redacted like any text; kinds we cannot read are refused. */
function redactToolOutput(o: ToolOutput, r: (t: string) => string): ToolOutput {
  if (o.type === 'text' || o.type === 'error-text') return { ...o, value: r(String(o.value)) };
  if (o.type === 'json' || o.type === 'error-json') return { ...o, value: redactJson(o.value, r) };
  if (o.type === 'execution-denied') return o;
  throw new Error(`a ${o.type} tool result cannot be redacted before a model`);
}

/** Every piece of text in a prompt, redacted. Parts we cannot read (files, tool output of other kinds) are refused, not sent. */
function redactPrompt(prompt: Prompt, policy: PiiPolicy): Prompt {
  const r = (t: string) => redactOutbound(t, policy);
  const part = (p: { type: string; [k: string]: unknown }) => {
    if (p.type === 'text' || p.type === 'reasoning') return { ...p, text: r(p.text as string) };
    if (p.type === 'tool-call') return { ...p, input: redactJson(p.input, r) };
    if (p.type === 'tool-result') return { ...p, output: redactToolOutput(p.output as ToolOutput, r) };
    throw new Error(`a ${p.type} part cannot be redacted before a model`);
  };
  return prompt.map((m) => {
    if (m.role === 'system') return { ...m, content: r(m.content) };
    return { ...m, content: (m.content as { type: string }[]).map(part) } as typeof m;
  });
}

/** Every string value inside a JSON value, redacted; keys are kept (a schema's property names are its shape). */
function redactValues(v: unknown, r: (t: string) => string): unknown {
  if (typeof v === 'string') return r(v);
  if (Array.isArray(v)) return v.map((x) => redactValues(x, r));
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, redactValues(x, r)]));
  return v;
}

/**
 * The JSON pointer of the first object in a value with a key that holds personal data, or null. Keys are a
 * tool schema's shape and reach the model as written (redactTools keeps them), so such a schema is refused
 * when it is saved. The pointer names the object, not the key, so the refusal does not repeat the data.
 */
export function objectWithPersonalKey(v: unknown, at = ''): string | null {
  if (!v || typeof v !== 'object') return null;
  const entries = Array.isArray(v) ? v.map((x, i) => [String(i), x] as const) : Object.entries(v);
  if (!Array.isArray(v) && entries.some(([k]) => redactOutbound(k, defaultPolicy) !== k)) return at;
  for (const [k, x] of entries) {
    const found = objectWithPersonalKey(x, `${at}/${k.replace(/~/g, '~0').replace(/\//g, '~1')}`);
    if (found !== null) return found;
  }
  return null;
}

type Tools = Parameters<NonNullable<LanguageModelMiddleware['transformParams']>>[0]['params']['tools'];

/**
 * The tools offered to the model, as the tenant wrote them (an action's description, its inputs'
 * descriptions, defaults and allowed values), redacted; names stay, as the model calls a tool by its name.
 */
function redactTools(tools: Tools, policy: PiiPolicy): Tools {
  const r = (t: string) => redactOutbound(t, policy);
  return tools?.map((t) =>
    t.type === 'function'
      ? {
          ...t,
          ...(t.description !== undefined ? { description: r(t.description) } : {}),
          inputSchema: redactValues(t.inputSchema, r) as typeof t.inputSchema,
        }
      : { ...t, args: redactValues(t.args, r) as typeof t.args },
  );
}

export const redactionMiddleware = (policy: PiiPolicy): LanguageModelMiddleware => ({
  specificationVersion: 'v3',
  transformParams: async ({ params }) => ({
    ...params,
    prompt: redactPrompt(params.prompt, policy),
    ...(params.tools ? { tools: redactTools(params.tools, policy) } : {}),
  }),
});

export const embeddingRedactionMiddleware = (policy: PiiPolicy): EmbeddingModelMiddleware => ({
  specificationVersion: 'v3',
  transformParams: async ({ params }) => ({ ...params, values: params.values.map((v) => redactOutbound(v, policy)) }),
});

/** A factory of provider models: through the outbound module in production, the ai SDK's test models in tests. */
export type ModelFactory<C, M> = (creds: C) => M;

/** The only way the server gets a language model: built by `modelFor`, wrapped in the tenant's redaction. */
export const guardedModels =
  <C>(modelFor: ModelFactory<C, ProviderLanguageModel>) =>
  (creds: C, policy: PiiPolicy): ProviderLanguageModel =>
    wrapLanguageModel({ model: modelFor(creds), middleware: redactionMiddleware(policy) });

/** The only way the server gets an embedding model: built by `modelFor`, wrapped in the tenant's redaction. */
export const guardedEmbeddings =
  <C>(modelFor: ModelFactory<C, ProviderEmbeddingModel>) =>
  (creds: C, policy: PiiPolicy): ProviderEmbeddingModel =>
    wrapEmbeddingModel({ model: modelFor(creds), middleware: embeddingRedactionMiddleware(policy) });

/** What a guarded model sends for these texts (each redacted as the middleware does), for the audit's request hash. */
export const asSent = (texts: readonly string[], policy: PiiPolicy): string[] => texts.map((t) => redactOutbound(t, policy));
