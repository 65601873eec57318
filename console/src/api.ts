// The API client. The console holds no credential: the browser sends the HttpOnly `__Host-` session
// cookies the server set, to this origin only (`credentials: 'same-origin'`, relative URLs, no
// Authorization header). Every request is a same-origin fetch, so the browser adds the Origin and
// Sec-Fetch-Site headers the server's CSRF check reads. An expired access cookie is renewed once with
// `POST /v1/auth/refresh` (one refresh at a time for all calls and tabs: a refresh token is single-use, and
// two concurrent refreshes with the same one would look like theft and end the session); if that fails, the
// console shows the sign-in page. Every failure becomes an ApiError holding the server's problem details.
import type { Problem } from '@parley/protocol';
import type { GatedProposal } from './proposals.js';

export class ApiError extends Error {
  constructor(readonly problem: Problem) {
    super(problem.detail ?? problem.title);
    this.name = 'ApiError';
  }
}

/**
 * A 202 carrying a proposal: the tenant requires another admin's approval for this request, and nothing
 * ran. It is thrown, so a view that does not wait for approvals shows it as a problem; `useGated`
 * (gated.tsx) waits for the approval and repeats the request.
 */
export class ApprovalRequired extends ApiError {
  constructor(readonly proposal: GatedProposal) {
    super({
      type: 'about:blank',
      title: 'Approval required',
      status: 202,
      detail: `This workspace needs another admin to approve this first (request ${proposal.id}), on the Approvals page. Nothing was changed.`,
      request_id: '',
    });
    this.name = 'ApprovalRequired';
  }
}

export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
/** `headers`: extra request headers (the approval a gated request was granted, `Parley-Approval`). */
export type Api = <T = unknown>(method: Method, path: string, body?: unknown, headers?: Record<string, string>) => Promise<T>;

export interface Client {
  /** `/v1/admin…`: renews the session once on a 401, then reports a signed-out session. */
  admin: Api;
  /** `/v1/platform…` (platform operators): renews the session like `admin`. */
  platform: Api;
  /** `/v1/auth…`: signing in and out; never refreshes. */
  auth: Api;
  /** Renews the access cookie; concurrent callers share one request. Resolves false when the session is gone. */
  refresh: () => Promise<boolean>;
  /**
   * Ends every request still waiting for its answer (signing out: answered once the session has ended, they
   * would be 401s, and each would try a refresh). They fail as network errors, which no view still shows.
   */
  abort: () => void;
}

const networkError = (): ApiError =>
  new ApiError({ type: 'about:blank', title: 'Network error', status: 503, detail: 'The server could not be reached.', request_id: '' });

async function send(
  fetchImpl: typeof fetch,
  waiting: Set<AbortController>,
  method: string,
  url: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<Response> {
  const abort = new AbortController();
  waiting.add(abort);
  try {
    return await fetchImpl(url, {
      method,
      // No Authorization header, ever: the session is in HttpOnly cookies the page cannot read.
      headers: body === undefined ? headers : { ...headers, 'Content-Type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      credentials: 'same-origin',
      cache: 'no-store',
      signal: abort.signal,
    });
  } catch {
    throw networkError();
  } finally {
    waiting.delete(abort);
  }
}

async function read<T>(res: Response): Promise<T> {
  if (res.status === 204) return undefined as T;
  // A file the server sends back (an evidence pack's zip) is handed over as it came, as a File named as
  // the server's Content-Disposition says (an empty name when it says none).
  if (res.ok && res.headers.get('content-type')?.startsWith('application/zip'))
    return new File([await res.blob()], fileName(res.headers.get('content-disposition')), { type: 'application/zip' }) as T;
  const text = await res.text();
  let json: unknown = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    // Not JSON: reported below with the status.
  }
  if (res.status === 202 && isProposal(json)) throw new ApprovalRequired(json.proposal);
  if (!res.ok) {
    const p = json as Partial<Problem> | null;
    throw new ApiError({
      type: p?.type ?? 'about:blank',
      title: p?.title ?? `HTTP ${res.status}`,
      status: res.status,
      ...(p?.detail ? { detail: p.detail } : {}),
      request_id: p?.request_id ?? res.headers.get('x-request-id') ?? '',
      ...(p?.errors ? { errors: p.errors } : {}),
      // A conflict over a handoff names who holds it now.
      ...(typeof p?.assignedTo === 'string' || p?.assignedTo === null ? { assignedTo: p.assignedTo } : {}),
    });
  }
  return json as T;
}

/** The file name in a Content-Disposition header (`filename="…"`), without any path; '' when none. */
function fileName(disposition: string | null): string {
  const m = /filename="([^"]*)"/i.exec(disposition ?? '');
  return (m?.[1] ?? '').replace(/^.*[\\/]/, '');
}

const isProposal = (v: unknown): v is { proposal: GatedProposal } => {
  const p = (v as { proposal?: unknown } | null)?.proposal;
  return !!p && typeof p === 'object' && typeof (p as { id?: unknown }).id === 'string';
};

/**
 * One refresh at a time across this console's tabs as well: they share the cookies, so a second tab
 * presenting the token the first just spent would end the session. Holding a Web Lock, the second tab
 * waits, then sends the cookie the first one received.
 */
const acrossTabs = (fn: () => Promise<Response>): Promise<Response> =>
  typeof navigator !== 'undefined' && navigator.locks
    ? (navigator.locks.request('parley-console-refresh', fn) as unknown as Promise<Response>)
    : fn();

export function createClient({
  fetchImpl = (...a) => fetch(...a),
  onSignedOut = () => {},
}: {
  fetchImpl?: typeof fetch;
  onSignedOut?: () => void;
} = {}): Client {
  const waiting = new Set<AbortController>();
  let inflight: Promise<boolean> | null = null;
  // Bumped by each successful refresh: a request sent before it may simply be retried with the new cookie.
  let generation = 0;
  const refresh = (): Promise<boolean> => {
    inflight ??= (async () => {
      try {
        const res = await acrossTabs(() => send(fetchImpl, waiting, 'POST', '/v1/auth/refresh', undefined));
        if (res.ok) generation += 1;
        return res.ok;
      } catch {
        return false;
      } finally {
        inflight = null;
      }
    })();
    return inflight;
  };
  const renewing =
    (prefix: string): Api =>
    async <T>(method: Method, path: string, body?: unknown, headers?: Record<string, string>): Promise<T> => {
      const url = `${prefix}${path}`;
      const sentAt = generation;
      let res = await send(fetchImpl, waiting, method, url, body, headers);
      if (res.status === 401) {
        // token-expired, or no access cookie any more (it lives 15 minutes): renew once and retry once.
        // A 401 after a successful renewal is the route's own answer (e.g. a wrong code), shown as a problem.
        const renewed = generation !== sentAt || (await refresh());
        if (renewed) res = await send(fetchImpl, waiting, method, url, body, headers);
        else onSignedOut();
      }
      return read<T>(res);
    };
  const auth: Api = async <T>(method: Method, path: string, body?: unknown, headers?: Record<string, string>): Promise<T> =>
    read<T>(await send(fetchImpl, waiting, method, `/v1/auth${path}`, body, headers));
  const abort = () => {
    for (const a of waiting) a.abort();
  };
  return { admin: renewing('/v1/admin'), platform: renewing('/v1/platform'), auth, refresh, abort };
}

/** The problem to show for anything thrown by a view. */
export function toProblem(err: unknown): Problem {
  if (err instanceof ApiError) return err.problem;
  return { type: 'about:blank', title: 'Unexpected error', status: 0, detail: err instanceof Error ? err.message : String(err), request_id: '' };
}

/** A response's `{ key: value }` wrapper, or the value itself when the server sends it bare. */
export const unwrap = <T>(r: unknown, key: string): T => (r && typeof r === 'object' && key in r ? (r as Record<string, T>)[key]! : (r as T));
