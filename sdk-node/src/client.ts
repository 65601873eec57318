// A typed client of the admin API. Every response is validated with the protocol's schemas, and every
// error is a ParleyApiError carrying the problem fields.
import {
  AdminConversationResponse,
  AskResponse,
  ConversationListResponse,
  ApiKeyListResponse,
  AuditListResponse,
  CheckpointResponse,
  ConsistencyProofResponse,
  CreatedApiKeyResponse,
  CreatedIdentitySecretResponse,
  DomainListResponse,
  CreateSourceResponse,
  DomainResponse,
  HandoffListResponse,
  PiiScanResponse,
  SourceListResponse,
  IdentitySettingsResponse,
  InclusionProofResponse,
  KnowledgeSearchResponse,
  CrawlJobResponse,
  KnowledgeUsageResponse,
  ProblemSchema,
  ProposalResponse,
  type Capability,
  type AskRequest,
  type ConversationListQuery,
  type CreateSourceRequest,
  type RetrievalMode,
} from '@parley/protocol';
import type { z } from 'zod';
import type { Operation } from '@parley/protocol/contract';
import { apiMethods, nextPageQuery, operationPath, type CallOptions, type PagedOperationId, type ParleyApi } from './api.js';
import { ParleyApiError, ParleyApprovalRequired } from './errors.js';

/** Options for {@link Parley}. */
export interface ParleyOptions {
  /** A secret key (`sk_…`). Keep it on your servers. */
  secretKey: string;
  /** The API origin, e.g. `https://api.parley.example`. */
  baseUrl: string;
  /** A fetch implementation to use instead of the global one (proxies, tests). */
  fetch?: typeof fetch;
}

/** A non-2xx answer as a typed problem (a body that is not one still becomes a ParleyApiError). */
async function apiError(res: Response): Promise<ParleyApiError> {
  const text = await res.text();
  let body: unknown = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    /* not JSON: a proxy's error page */
  }
  const problem = ProblemSchema.safeParse(body);
  return new ParleyApiError(
    problem.success
      ? problem.data
      : { type: 'about:blank', title: res.statusText || 'Error', status: res.status, request_id: res.headers.get('x-request-id') ?? '' },
  );
}

/** A 202 that proposed the request instead of running it, as the error callers catch; null for any other answer. */
function proposalOf(status: number, body: unknown): ParleyApprovalRequired | null {
  if (status !== 202) return null;
  const p = ProposalResponse.safeParse(body);
  return p.success ? new ParleyApprovalRequired(p.data.proposal) : null;
}

const headersFor = (secretKey: string, body: unknown, opts: CallOptions = {}): Record<string, string> => ({
  authorization: `Bearer ${secretKey}`,
  ...(body === undefined ? {} : { 'content-type': 'application/json' }),
  ...(opts.approval ? { 'parley-approval': opts.approval } : {}),
});

/** The admin API: domains, keys, knowledge, handoffs, identity, settings and the audit log. */
export class Parley {
  private readonly base: string;
  private readonly doFetch: typeof fetch;
  /** @throws `TypeError` when `secretKey` is not an `sk_live_…` or `sk_test_…` key */
  constructor(private readonly opts: ParleyOptions) {
    if (!/^sk_(live|test)_/.test(opts.secretKey)) throw new TypeError('secretKey must be a Parley secret key (sk_…)');
    this.base = opts.baseUrl.replace(/\/+$/, '');
    this.doFetch = opts.fetch ?? fetch;
  }

  /**
   * Every operation of the admin API (and the API channel), named by its operationId in the API reference:
   * `await parley.api.listDomains()`, `await parley.api.addDomain({ body: { pattern: 'example.com' } })`.
   * Inputs are typed from protocol's schemas; each answer is validated with the operation's response schema.
   * An operation the tenant holds for approval throws {@link ParleyApprovalRequired}; once approved, the same
   * call with `{ approval: proposal.id }` as its second argument runs it.
   */
  readonly api: ParleyApi = apiMethods((op, input, opts) => this.send(op, input, opts));

  /**
   * Every page of a paged operation, following its cursor until the last page:
   * `for await (const page of parley.paginate('listAuditEntries', { query: { limit: 500 } })) …`.
   */
  async *paginate<Id extends PagedOperationId>(
    operationId: Id,
    input?: Parameters<ParleyApi[Id]>[0],
  ): AsyncGenerator<Awaited<ReturnType<ParleyApi[Id]>>> {
    const method = (this.api as unknown as Record<string, (i: unknown) => Promise<unknown>>)[operationId]!;
    let query: Record<string, unknown> | null = { ...((input as { query?: Record<string, unknown> } | undefined)?.query ?? {}) };
    while (query) {
      const page = await method({ ...(input as object), query });
      yield page as Awaited<ReturnType<ParleyApi[Id]>>;
      query = nextPageQuery(page, query);
    }
  }

  private async send(
    op: Operation,
    input: { params?: Record<string, unknown>; query?: Record<string, unknown>; body?: unknown },
    opts?: CallOptions,
  ): Promise<unknown> {
    const res = await this.doFetch(`${this.base}${operationPath(op, input.params, input.query)}`, {
      method: op.method.toUpperCase(),
      headers: headersFor(this.opts.secretKey, input.body, opts),
      body: input.body === undefined ? undefined : JSON.stringify(input.body),
    });
    if (!res.ok) throw await apiError(res);
    const spec = op.responses[res.status];
    if (spec?.contentType === 'text/event-stream' || spec?.contentType === 'application/zip') return res;
    const text = await res.text();
    const json = text ? JSON.parse(text) : null;
    const proposed = proposalOf(res.status, json);
    if (proposed) throw proposed;
    return spec?.schema ? spec.schema.parse(json) : undefined;
  }

  private async call<S extends z.ZodType>(
    method: string,
    path: string,
    schema: S | null,
    body?: unknown,
    root = '/v1/admin',
    opts?: CallOptions,
  ): Promise<z.output<S>> {
    const res = await this.doFetch(`${this.base}${root}${path}`, {
      method,
      headers: headersFor(this.opts.secretKey, body, opts),
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!res.ok) throw await apiError(res);
    const text = await res.text();
    const json = text ? JSON.parse(text) : null;
    const proposed = proposalOf(res.status, json);
    if (proposed) throw proposed;
    return (schema ? schema.parse(json) : undefined) as z.output<S>;
  }

  /** Domains allowed to embed the widget, e.g. `*.example.com`. */
  readonly domains = {
    list: () => this.call('GET', '/domains', DomainListResponse).then((r) => r.domains),
    add: (pattern: string) => this.call('POST', '/domains', DomainResponse, { pattern }).then((r) => r.domain),
    remove: (id: string) => this.call('DELETE', `/domains/${encodeURIComponent(id)}`, null),
  };

  /** Secret API keys with their capabilities; rotation keeps the old key valid for a grace period. */
  readonly apiKeys = {
    list: () => this.call('GET', '/api-keys', ApiKeyListResponse).then((r) => r.apiKeys),
    /**
     * The returned `secret` is shown only this once. A key holding `keys:write`, `pii:reveal`, `privacy:export`
     * or `privacy:erase` may wait for approval ({@link ParleyApprovalRequired}); once approved, call again
     * with `{ approval: proposal.id }`.
     */
    create: (input: { name: string; capabilities: Capability[]; expiresInSeconds?: number }, opts?: CallOptions) =>
      this.call('POST', '/api-keys', CreatedApiKeyResponse, input, undefined, opts),
    rotate: (id: string, graceSeconds?: number, opts?: CallOptions) =>
      this.call(
        'POST',
        `/api-keys/${encodeURIComponent(id)}/rotate`,
        CreatedApiKeyResponse,
        graceSeconds === undefined ? {} : { graceSeconds },
        undefined,
        opts,
      ),
    revoke: (id: string) => this.call('DELETE', `/api-keys/${encodeURIComponent(id)}`, null),
  };

  /** Knowledge sources the assistant answers from, and a search over them. */
  readonly knowledge = {
    /** Adds inline content or one page by URL; over the tenant's quota this throws (409 `…/quota-exceeded`). */
    add: (source: Exclude<CreateSourceRequest, { kind: 'sitemap' }>) =>
      this.call('POST', '/knowledge/sources', CreateSourceResponse, source).then((r) => r.sources),
    /** Queues a crawl of a sitemap's pages in the background; follow it with {@link Parley.knowledge.job}. */
    crawl: (sitemapUrl: string) => this.call('POST', '/knowledge/sources', CrawlJobResponse, { kind: 'sitemap', url: sitemapUrl }).then((r) => r.job),
    /** A crawl's status and progress. */
    job: (id: string) => this.call('GET', `/knowledge/jobs/${encodeURIComponent(id)}`, CrawlJobResponse).then((r) => r.job),
    /** The tenant's knowledge totals and quota. */
    usage: () => this.call('GET', '/knowledge/usage', KnowledgeUsageResponse),
    list: () => this.call('GET', '/knowledge/sources', SourceListResponse).then((r) => r.sources),
    remove: (id: string) => this.call('DELETE', `/knowledge/sources/${encodeURIComponent(id)}`, null),
    search: (query: string, limit = 5, mode?: RetrievalMode) =>
      this.call('POST', '/knowledge/search', KnowledgeSearchResponse, { query, limit, ...(mode ? { mode } : {}) }).then((r) => r.results),
  };

  /**
   * Asks on your user's behalf (the API channel; the key needs `answers:write`). Give `userRef`, your own
   * opaque id for the user (no personal data; one holding `@` is refused): their conversations are then one data subject,
   * `api:<userRef>`, for a privacy export or erasure; without it each new conversation is a subject of its
   * own (`api_…`). Over the tenant's AI budget this throws a {@link ParleyApiError} with status 429 and type `…/budget-exceeded`.
   */
  ask(input: AskRequest): Promise<AskResponse> {
    return this.call('POST', '/answers', AskResponse, input, '/v1');
  }

  /**
   * Every conversation, answered or handed off, most recently active first. `q` finds the `userRef` you
   * gave {@link Parley.ask}, a widget visitor's `v_…` reference, a verified user id, or words; follow
   * `nextCursor` (or use {@link Parley.paginate} with `listConversations`). `get` reads a transcript
   * (redacted as stored), an audited read.
   */
  readonly conversations = {
    list: (query: Partial<ConversationListQuery> = {}) => {
      const params = new URLSearchParams(Object.entries(query).flatMap(([k, v]): [string, string][] => (v === undefined ? [] : [[k, String(v)]])));
      return this.call('GET', `/conversations${params.size ? `?${params}` : ''}`, ConversationListResponse);
    },
    get: (id: string) => this.call('GET', `/conversations/${encodeURIComponent(id)}`, AdminConversationResponse),
  };

  /**
   * Conversations handed to a human agent. `update` with `pending` gives an assigned one back to the queue.
   * Pass `expectedAssignee` (who you saw holding it, `null` for nobody) to change it only while that is
   * still so: otherwise a 409 `conflict` whose `assignedTo` names who holds it now.
   */
  readonly handoffs = {
    list: (status?: 'pending' | 'assigned' | 'resolved') =>
      this.call('GET', `/handoffs${status ? `?status=${status}` : ''}`, HandoffListResponse).then((r) => r.handoffs),
    update: (id: string, status: 'pending' | 'assigned' | 'resolved', assignedTo?: string, opts: { expectedAssignee?: string | null } = {}) =>
      this.call('PATCH', `/handoffs/${encodeURIComponent(id)}`, null, {
        status,
        ...(assignedTo ? { assignedTo } : {}),
        ...(opts.expectedAssignee !== undefined ? { expectedAssignee: opts.expectedAssignee } : {}),
      }),
  };

  /** Sign-In Pro settings: public keys or a JWKS URL, and shared `idsec_` secrets. */
  readonly identity = {
    get: () => this.call('GET', '/identity', IdentitySettingsResponse),
    configure: (input: { mode: 'optional' | 'required'; publicKeys?: Record<string, unknown>[]; jwksUrl?: string }, opts?: CallOptions) =>
      this.call('PUT', '/identity', null, input, undefined, opts),
    /**
     * The returned `secret` is shown only this once. Where the tenant holds `identity.mode`, a new secret
     * waits for approval ({@link ParleyApprovalRequired}); once approved, call again with `{ approval: proposal.id }`.
     */
    createSecret: (opts?: CallOptions) => this.call('POST', '/identity/secrets', CreatedIdentitySecretResponse, undefined, undefined, opts),
  };

  /** Shows what the tenant's PII policy would redact in a text, per channel. */
  readonly pii = {
    scan: (text: string, channel: 'widget' | 'api' | 'email' = 'api') => this.call('POST', '/pii/scan', PiiScanResponse, { text, channel }),
  };

  /** The tamper-evident audit log: entries, signed checkpoints and Merkle proofs. */
  readonly audit = {
    list: (after = -1, limit = 100) => this.call('GET', `/audit?after=${after}&limit=${limit}`, AuditListResponse),
    checkpoint: () => this.call('GET', '/audit/checkpoint', CheckpointResponse),
    inclusionProof: (index: number, size: number) => this.call('GET', `/audit/proof/inclusion?index=${index}&size=${size}`, InclusionProofResponse),
    consistencyProof: (from: number, to: number) => this.call('GET', `/audit/proof/consistency?from=${from}&to=${to}`, ConsistencyProofResponse),
  };
}
