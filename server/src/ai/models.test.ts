// The real model factory, without any hosted provider: a local server stands in for a tenant's base URL.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { embedMany, generateText, streamText } from 'ai';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { DEVELOPMENT_ALLOW, Outbound, parseAllowList } from '../outbound/outbound.js';
import { providerEmbeddings } from './embeddings.js';
import { PROVIDER_LIMITS, providerModels } from './models.js';

const providerFetch = new Outbound({ env: 'development', allow: parseAllowList(DEVELOPMENT_ALLOW) }).fetcher(PROVIDER_LIMITS);
const modelFor = providerModels(providerFetch);

let server: Server;
let base = '';
const hits: string[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    hits.push(req.url ?? '');
    if (req.url === '/ok/v1/chat/completions') {
      // A streamed chat completion, as an OpenAI-compatible server sends it.
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      for (const word of ['Parcels ', 'ship ', 'daily.']) {
        res.write(
          `data: ${JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', created: 1, model: 'm-1', choices: [{ index: 0, delta: { content: word }, finish_reason: null }] })}\n\n`,
        );
      }
      res.write(
        `data: ${JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', created: 1, model: 'm-1', choices: [{ index: 0, delta: {}, finish_reason: 'stop' }], usage: { prompt_tokens: 3, completion_tokens: 3, total_tokens: 6 } })}\n\n`,
      );
      return void res.end('data: [DONE]\n\n');
    }
    if (req.url === '/ok/v1/embeddings') {
      return void res.writeHead(200, { 'content-type': 'application/json' }).end(
        JSON.stringify({
          object: 'list',
          data: [{ object: 'embedding', index: 0, embedding: [0.6, 0.8] }],
          model: 'e-1',
          usage: { prompt_tokens: 2, total_tokens: 2 },
        }),
      );
    }
    res.writeHead(302, { location: `${base}/leak` }).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

test('each provider kind gets its own ai SDK model with the tenant model id', () => {
  const creds = { apiKey: 'sk-test-key', model: 'm-1', embeddingModel: null };
  expect(modelFor({ ...creds, provider: 'openai', baseUrl: null })).toMatchObject({ modelId: 'm-1', provider: expect.stringMatching(/^openai/) });
  expect(modelFor({ ...creds, provider: 'anthropic', baseUrl: null })).toMatchObject({
    modelId: 'm-1',
    provider: expect.stringMatching(/^anthropic/),
  });
  expect(modelFor({ ...creds, provider: 'openai-compatible', baseUrl: 'https://llm.example/v1' })).toMatchObject({
    modelId: 'm-1',
    provider: expect.stringMatching(/^tenant/),
  });
});

test('a tenant base URL that redirects does not take the key anywhere else', async () => {
  const model = modelFor({ provider: 'openai-compatible', apiKey: 'sk-test-key', model: 'm-1', embeddingModel: null, baseUrl: `${base}/v1` });
  await expect(generateText({ model, prompt: 'hi', maxRetries: 0 })).rejects.toThrow();
  expect(hits).toEqual(['/v1/chat/completions']);
});

test('a model streams and embeds through the outbound module', async () => {
  const creds = { provider: 'openai-compatible' as const, apiKey: 'sk-test-key', model: 'm-1', embeddingModel: 'e-1', baseUrl: `${base}/ok/v1` };
  const result = streamText({ model: modelFor(creds), prompt: 'hi', maxRetries: 0 });
  expect(await result.text).toBe('Parcels ship daily.');
  const { embeddings } = await embedMany({ model: providerEmbeddings(providerFetch)(creds), values: ['hello'], maxRetries: 0 });
  expect(embeddings).toEqual([[0.6, 0.8]]);
});

test('a tenant base URL on a private address is refused when connecting, whatever was saved', async () => {
  const strict = new Outbound({ env: 'development', allow: parseAllowList('') }).fetcher(PROVIDER_LIMITS);
  const before = hits.length;
  const model = providerModels(strict)({
    provider: 'openai-compatible',
    apiKey: 'sk-test-key',
    model: 'm-1',
    embeddingModel: null,
    baseUrl: `${base}/ok/v1`,
  });
  await expect(generateText({ model, prompt: 'hi', maxRetries: 0 })).rejects.toThrow(/public host/);
  expect(hits.length).toBe(before);
});
