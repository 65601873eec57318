// The admin API client: every call carries the signed-in key to this origin only, and every failure
// becomes an ApiError holding the server's problem details and request id.
import type { Problem } from '@parley/protocol';

export class ApiError extends Error {
  constructor(readonly problem: Problem) {
    super(problem.detail ?? problem.title);
    this.name = 'ApiError';
  }
}

export type Api = <T = unknown>(method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', path: string, body?: unknown) => Promise<T>;

export function createApi(secretKey: string, fetchImpl: typeof fetch = (...a) => fetch(...a)): Api {
  return async <T,>(method: string, path: string, body?: unknown): Promise<T> => {
    let res: Response;
    try {
      // A relative URL: the key only ever goes to the server that served the console.
      res = await fetchImpl(`/v1/admin${path}`, {
        method,
        headers: { Authorization: `Bearer ${secretKey}`, ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        credentials: 'omit',
        cache: 'no-store',
      });
    } catch {
      throw new ApiError({ type: 'about:blank', title: 'Network error', status: 503, detail: 'The server could not be reached.', request_id: '' });
    }
    if (res.status === 204) return undefined as T;
    const text = await res.text();
    let json: unknown = null;
    try {
      json = text ? JSON.parse(text) : null;
    } catch {
      // Not JSON: reported below with the status.
    }
    if (!res.ok) {
      const p = json as Partial<Problem> | null;
      throw new ApiError({
        type: p?.type ?? 'about:blank',
        title: p?.title ?? `HTTP ${res.status}`,
        status: res.status,
        ...(p?.detail ? { detail: p.detail } : {}),
        request_id: p?.request_id ?? res.headers.get('x-request-id') ?? '',
        ...(p?.errors ? { errors: p.errors } : {}),
      });
    }
    return json as T;
  };
}

/** The problem to show for anything thrown by a view. */
export function toProblem(err: unknown): Problem {
  if (err instanceof ApiError) return err.problem;
  return { type: 'about:blank', title: 'Unexpected error', status: 0, detail: err instanceof Error ? err.message : String(err), request_id: '' };
}
