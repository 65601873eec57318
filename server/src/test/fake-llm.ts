// An OpenAI-compatible chat completions server standing in for a tenant's hosted model (a third party
// the tests cannot reach). `mode` decides what it does with the next requests: answer, answer slowly
// once `until` resolves, word by word `delayMs` apart), or never answer (the request hangs until the caller goes away).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type FakeLlmMode = { kind: 'answer' } | { kind: 'held'; until: Promise<void>; delayMs: number } | { kind: 'hang' };

export interface FakeLlm {
  /** The API root to configure as the provider's base URL. */
  baseUrl: string;
  mode: FakeLlmMode;
  /** Chat requests received (streamed answers and self-checks). */
  requests: number;
  /** Of which streamed answers. */
  streams: number;
  /** Resolves at the next request received. */
  nextRequest(): Promise<void>;
  close(): Promise<void>;
}

export const FAKE_ANSWER = 'Refunds reach your card within 5 business days [1].';

const chunk = (delta: Record<string, unknown>, finish: string | null, usage?: unknown) =>
  `data: ${JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', created: 1, model: 'm-1', choices: [{ index: 0, delta, finish_reason: finish }], ...(usage ? { usage } : {}) })}\n\n`;

export async function startFakeLlm(): Promise<FakeLlm> {
  const waiters: (() => void)[] = [];
  const hanging = new Set<ServerResponse>();
  const llm: FakeLlm = {
    baseUrl: '',
    mode: { kind: 'answer' },
    requests: 0,
    streams: 0,
    nextRequest: () => new Promise<void>((r) => waiters.push(r)),
    close: async () => {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
  const server: Server = createServer(async (req: IncomingMessage, res: ServerResponse) => {
    let body = '';
    for await (const d of req) body += d;
    llm.requests++;
    for (const w of waiters.splice(0)) w();
    const mode = llm.mode;
    if (mode.kind === 'hang') {
      hanging.add(res);
      res.once('close', () => hanging.delete(res));
      return;
    }
    const usage = { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 };
    if (!(JSON.parse(body) as { stream?: boolean }).stream) {
      // The self-check asks for a number.
      res.writeHead(200, { 'content-type': 'application/json' });
      return void res.end(
        JSON.stringify({
          id: 'c2',
          object: 'chat.completion',
          created: 1,
          model: 'm-1',
          choices: [{ index: 0, message: { role: 'assistant', content: '0.95' }, finish_reason: 'stop' }],
          usage,
        }),
      );
    }
    llm.streams++;
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    if (mode.kind === 'held') await mode.until;
    for (const word of FAKE_ANSWER.match(/\S+\s*/g)!) {
      if (mode.kind === 'held') await new Promise((r) => setTimeout(r, mode.delayMs));
      if (res.destroyed) return;
      res.write(chunk({ content: word }, null));
    }
    res.write(chunk({}, 'stop', usage));
    res.end('data: [DONE]\n\n');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  llm.baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  return llm;
}
