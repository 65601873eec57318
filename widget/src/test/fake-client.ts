// A scriptable stand-in for @parley/browser's client: tests push stream events and count calls.
import type {
  AnswerEvent,
  Citation,
  ClientOptions,
  Conversation,
  Handoff,
  LiveEvent,
  Message,
  OutsideHours,
  ParleyClient,
  StoredSession,
  WidgetProposal,
  WidgetProposeRequest,
  WidgetSettings,
} from '@parley/browser';
import { ParleyError } from '@parley/browser';
import { vi } from 'vitest';

/** A push-driven async stream. */
export function channel<T>() {
  const items: T[] = [];
  let wake: (() => void) | null = null;
  let ended = false;
  let error: unknown = null;
  const poke = () => {
    wake?.();
    wake = null;
  };
  return {
    push: (x: T) => void (items.push(x), poke()),
    end: () => void ((ended = true), poke()),
    fail: (e: unknown) => void ((error = e), poke()),
    async *read(signal?: AbortSignal): AsyncGenerator<T> {
      signal?.addEventListener('abort', poke);
      for (;;) {
        if (error) throw error;
        if (items.length) yield items.shift()!;
        else if (ended || signal?.aborted) return;
        else await new Promise<void>((r) => (wake = r));
      }
    },
  };
}

export const SETTINGS: WidgetSettings = {
  tenantName: 'Shop',
  greeting: 'Hi! Ask us anything.',
  launcherText: 'Questions?',
  locale: 'auto',
  theme: 'auto',
  accentColor: '#aa3300',
  position: 'bottom-right',
  identityMode: 'optional',
};

export const message = (id: string, role: Message['role'], text: string, extra: Partial<Message> = {}): Message => ({
  id,
  role,
  text,
  citations: [],
  createdAt: '2025-01-01T00:00:00.000Z',
  ...extra,
});

export const proposal = (id: string, status: WidgetProposal['status'], extra: Partial<WidgetProposal> = {}): WidgetProposal => ({
  id,
  action: { id: 'a1', name: 'refund_order', risk: 'write' },
  arguments: {},
  conversationId: 'c1',
  reason: null,
  status,
  expiresAt: '2025-01-02T00:00:00.000Z',
  createdAt: '2025-01-01T00:00:01.000Z',
  result: null,
  error: null,
  ...extra,
});

export function fakeClient(init: { stored?: StoredSession | null; history?: Message[] } = {}) {
  let stored: StoredSession | null = init.stored ?? null;
  let answer = channel<AnswerEvent>();
  const live = channel<LiveEvent>();
  let options: ClientOptions | undefined;
  const client = {
    config: vi.fn(async () => SETTINGS),
    refresh: vi.fn(),
    identify: vi.fn(async (_token: string) => ({ verified: true as const, id: 'user-1' })),
    createConversation: vi.fn(async () => {
      stored = { visitorSecret: 'pvs_1', ...stored, conversationId: 'c1' };
      return { id: 'c1', status: 'open' as const, verified: false, createdAt: '2025-01-01T00:00:00.000Z' };
    }),
    getConversation: vi.fn(async (id: string) => {
      if (id !== 'c1') throw new ParleyError(404, '/docs/problems/not-found', 'Not found', undefined, 'req_1');
      return {
        conversation: { id, status: 'open' as Conversation['status'], verified: false, createdAt: '2025-01-01T00:00:00.000Z' },
        messages: init.history ?? [],
      };
    }),
    sendMessage: vi.fn((_id: string, _text: string, _cmid?: string) => answer.read()),
    pick: vi.fn((_id: string, _suggestion: Citation, _cmid?: string) => answer.read()),
    events: vi.fn((_id: string, opts: { signal: AbortSignal }) => live.read(opts.signal)),
    requestHandoff: vi.fn(async (): Promise<Handoff & OutsideHours> => ({ id: 'h1', status: 'pending' })),
    sendTyping: vi.fn(async (_id: string, _active: boolean) => {}),
    rate: vi.fn(async (_id: string, _score: number, _comment?: string) => {}),
    leaveContact: vi.fn(async (_id: string, _email: string) => {}),
    propose: vi.fn(
      async (id: string, req: WidgetProposeRequest): Promise<WidgetProposal> =>
        proposal('p1', 'pending', { conversationId: id, arguments: req.arguments }),
    ),
    get stored() {
      return stored;
    },
    remember: vi.fn((patch: Partial<StoredSession>) => void (stored = { visitorSecret: 'pvs_1', ...stored, ...patch })),
    forget: vi.fn(() => void (stored = null)),
  } satisfies ParleyClient;
  return {
    client,
    live,
    /** The stream of the next answer. */
    get answer() {
      return answer;
    },
    nextAnswer: () => (answer = channel<AnswerEvent>()),
    make: (o: ClientOptions) => ((options = o), client),
    get options() {
      return options!;
    },
  };
}
