// Redaction before any model is middleware on the model itself: a call site that forgets to redact (or
// never knew it should) still sends no personal data. The provider is the ai SDK's test model, which
// records every request it receives.
import { embed, embedMany, generateText, jsonSchema, simulateReadableStream, streamText, tool } from 'ai';
import { MockEmbeddingModelV3, MockLanguageModelV3 } from 'ai/test';
import { describe, expect, test } from 'vitest';
import { defaultPolicy, type PiiPolicy } from './index.js';
import { guardedEmbeddings, guardedModels } from './outbound.js';

const SEEDED = { email: 'jane.roe@example.com', phone: '+1 415 555 0134' };
const RAW = `Please write to ${SEEDED.email} or call ${SEEDED.phone} about my refund.`;
// A tenant that relaxed every class to "flag" for storage: the outbound pass stays strict regardless.
const flagOnly: PiiPolicy = {
  classes: Object.fromEntries(Object.keys(defaultPolicy.classes).map((c) => [c, { mode: 'flag', minScore: 1 }])) as PiiPolicy['classes'],
};
const usage = { inputTokens: { total: 1, noCache: 1, cacheRead: 0, cacheWrite: 0 }, outputTokens: { total: 1, text: 1, reasoning: 0 } };
const finish = { unified: 'stop' as const, raw: 'stop' };

function provider() {
  return new MockLanguageModelV3({
    doGenerate: async () => ({ content: [{ type: 'text' as const, text: 'ok' }], finishReason: finish, usage, warnings: [] }),
    doStream: async () => ({
      stream: simulateReadableStream({
        chunks: [
          { type: 'text-start' as const, id: 't' },
          { type: 'text-delta' as const, id: 't', delta: 'ok' },
          { type: 'text-end' as const, id: 't' },
          { type: 'finish' as const, finishReason: finish, usage },
        ],
      }),
    }),
  });
}

const expectNoneOf = (sent: string) => {
  for (const value of Object.values(SEEDED)) expect(sent, 'a seeded value reached the provider').not.toContain(value);
  expect(sent).not.toContain('415 555');
};

describe('a language model from guardedModels', () => {
  for (const policy of [defaultPolicy, flagOnly]) {
    test(`never receives a seeded email or phone, however it is called (${policy === flagOnly ? 'flag-only tenant' : 'default policy'})`, async () => {
      const raw = provider();
      const model = guardedModels(() => raw)({}, policy);
      await generateText({ model, system: `Escalations: ${SEEDED.email}`, prompt: RAW });
      await generateText({
        model,
        messages: [
          { role: 'user', content: RAW },
          { role: 'assistant', content: `Noted: ${SEEDED.phone}` },
          { role: 'user', content: [{ type: 'text', text: RAW }] },
        ],
      });
      const s = streamText({ model, prompt: RAW });
      await s.consumeStream();
      const sent = JSON.stringify([...raw.doGenerateCalls, ...raw.doStreamCalls].map((c) => c.prompt));
      expect(raw.doGenerateCalls).toHaveLength(2);
      expect(raw.doStreamCalls).toHaveLength(1);
      expectNoneOf(sent);
      expect(sent).toContain('[EMAIL_K1]');
      expect(sent).toContain('[PHONE_K1]');
    });
  }

  test("the visitor's own placeholders pass through; parts it cannot read are refused, not sent", async () => {
    const raw = provider();
    const model = guardedModels(() => raw)({}, defaultPolicy);
    await generateText({ model, prompt: 'I am [EMAIL_1], reach me at [PHONE_2].' });
    expect(JSON.stringify(raw.doGenerateCalls[0]!.prompt)).toContain('I am [EMAIL_1], reach me at [PHONE_2].');
    await expect(
      generateText({
        model,
        messages: [{ role: 'user', content: [{ type: 'file', data: new TextEncoder().encode(RAW), mediaType: 'text/plain' }] }],
      }),
    ).rejects.toThrow(/cannot be redacted/);
    expect(raw.doGenerateCalls).toHaveLength(1);
  });
});

describe('tool traffic through guardedModels', () => {
  test('tool-call arguments and tool results (an action endpoint’s answer) are redacted like any text', async () => {
    const raw = provider();
    const model = guardedModels(() => raw)({}, defaultPolicy);
    await generateText({
      model,
      messages: [
        { role: 'user', content: 'Where is my order?' },
        { role: 'assistant', content: [{ type: 'tool-call', toolCallId: 'c1', toolName: 'order_status', input: { orderId: 'AB12', note: RAW } }] },
        {
          role: 'tool',
          content: [
            { type: 'tool-result', toolCallId: 'c1', toolName: 'order_status', output: { type: 'text', value: RAW } },
            {
              type: 'tool-result',
              toolCallId: 'c2',
              toolName: 'order_status',
              output: { type: 'json', value: { contact: [SEEDED.email, SEEDED.phone] } },
            },
          ],
        },
      ],
    });
    const sent = JSON.stringify(raw.doGenerateCalls[0]!.prompt);
    expectNoneOf(sent);
    expect(sent).toContain('AB12');
    expect(sent).toContain('[EMAIL_K1]');
  });
});

// Found by an eighth outside review: a tenant's action definitions went to the provider as typed.
describe('tool definitions through guardedModels', () => {
  test("an action's description, its inputs' descriptions and their allowed values are redacted; names and the schema's shape are kept", async () => {
    const raw = provider();
    const model = guardedModels(() => raw)({}, defaultPolicy);
    await generateText({
      model,
      prompt: 'Where is my order?',
      tools: {
        order_status: tool({
          description: `Looks up an order. Escalate to ${SEEDED.email}.`,
          inputSchema: jsonSchema({
            type: 'object',
            properties: {
              orderId: { type: 'string', description: `The order id, e.g. AB12; the desk is ${SEEDED.phone}` },
              contact: { type: 'string', enum: [SEEDED.email, 'none'] },
            },
            required: ['orderId'],
          }),
        }),
      },
    });
    const tools = raw.doGenerateCalls[0]!.tools!;
    expectNoneOf(JSON.stringify(tools));
    expect(tools.map((x) => x.name)).toEqual(['order_status']);
    const fn = tools[0] as {
      description?: string;
      inputSchema: { properties: Record<string, { description?: string; enum?: string[] }>; required: string[] };
    };
    expect(fn.description).toContain('[EMAIL_K1]');
    expect(Object.keys(fn.inputSchema.properties)).toEqual(['orderId', 'contact']);
    expect(fn.inputSchema.properties.orderId!.description).toContain('AB12');
    expect(fn.inputSchema.properties.contact!.enum).toEqual(['[EMAIL_K1]', 'none']);
    expect(fn.inputSchema.required).toEqual(['orderId']);
  });
});

describe('an embedding model from guardedEmbeddings', () => {
  test('never receives a seeded email or phone, one value or many', async () => {
    const raw = new MockEmbeddingModelV3({
      maxEmbeddingsPerCall: 10,
      doEmbed: async ({ values }) => ({ embeddings: values.map(() => [1, 0]), warnings: [] }),
    });
    const model = guardedEmbeddings(() => raw)({}, flagOnly);
    await embed({ model, value: RAW });
    await embedMany({ model, values: [RAW, `call ${SEEDED.phone}`] });
    const sent = raw.doEmbedCalls.flatMap((c) => c.values).join('\n');
    expect(raw.doEmbedCalls).toHaveLength(2);
    expectNoneOf(sent);
    expect(sent).toContain('[EMAIL_K1]');
  });
});
