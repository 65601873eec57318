// The real model factory, without any hosted provider: a local server stands in for a tenant's base URL.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { generateText } from 'ai';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { DEVELOPMENT_ALLOW, Outbound, parseAllowList } from '../outbound/outbound.js';
import { PROVIDER_LIMITS, providerModels } from './models.js';

const modelFor = providerModels(new Outbound({ env: 'development', allow: parseAllowList(DEVELOPMENT_ALLOW) }).fetcher(PROVIDER_LIMITS));

let server: Server;
let base = '';
const hits: string[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    hits.push(req.url ?? '');
    res.writeHead(302, { location: `${base}/leak` }).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

test('each provider kind gets its own ai SDK model with the tenant model id', () => {
  const creds = { apiKey: 'sk-test-key', model: 'm-1', embeddingModel: null };
  expect(modelFor({ ...creds, provider: 'openai', baseUrl: null })).toMatchObject({ modelId: 'm-1', provider: expect.stringMatching(/^openai/) });
  expect(modelFor({ ...creds, provider: 'anthropic', baseUrl: null })).toMatchObject({ modelId: 'm-1', provider: expect.stringMatching(/^anthropic/) });
  expect(modelFor({ ...creds, provider: 'openai-compatible', baseUrl: 'https://llm.example/v1' })).toMatchObject({ modelId: 'm-1', provider: expect.stringMatching(/^tenant/) });
});

test('a tenant base URL that redirects does not take the key anywhere else', async () => {
  const model = modelFor({ provider: 'openai-compatible', apiKey: 'sk-test-key', model: 'm-1', embeddingModel: null, baseUrl: `${base}/v1` });
  await expect(generateText({ model, prompt: 'hi', maxRetries: 0 })).rejects.toThrow();
  expect(hits).toEqual(['/v1/chat/completions']);
});
