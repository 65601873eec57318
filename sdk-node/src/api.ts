// Every operation a secret key may call, as a typed method named by its operationId, generated from the
// contract protocol defines (the same table the server parses with and the OpenAPI document comes from),
// so the client cannot fall behind the API.
import {
  type approvalOperations,
  OPERATIONS,
  type adminOperations,
  type contractOperations,
  type evidenceOperations,
  type knowledgeOperations,
  type lifecycleOperations,
  type Operation,
  type peopleOperations,
  type settingsOperations,
  type systemOperations,
  type widgetOperations,
  type workspaceOperations,
} from '@parley/protocol/contract';
import type { z } from 'zod';

/** Every operation of the API, with its schemas' types. */
export type ParleyOperation =
  | (typeof contractOperations)[number]
  | (typeof systemOperations)[number]
  | (typeof widgetOperations)[number]
  | (typeof peopleOperations)[number]
  | (typeof adminOperations)[number]
  | (typeof settingsOperations)[number]
  | (typeof knowledgeOperations)[number]
  | (typeof workspaceOperations)[number]
  | (typeof lifecycleOperations)[number]
  | (typeof evidenceOperations)[number]
  | (typeof approvalOperations)[number];

/** The operations a secret key may call: the admin API and the API channel. */
export type KeyOperation = ParleyOperation extends infer O
  ? O extends { security: readonly (infer S)[] }
    ? [Extract<S, 'admin' | 'secretKey'>] extends [never]
      ? never
      : O
    : never
  : never;

/** The operation ids a secret key may call. */
export type KeyOperationId = KeyOperation['operationId'];

/** What a method takes: path parameters, query and body, each only where the operation has one. */
export type OperationInput<O> = (O extends { params: infer S extends z.ZodType } ? { params: z.input<S> } : unknown) &
  (O extends { query: infer S extends z.ZodType } ? { query?: z.input<S> } : unknown) &
  (O extends { body: infer S extends z.ZodType } ? { body: z.input<S> } : unknown);

/** Options of one call. */
export interface CallOptions {
  /** The id of the approved proposal this request was held for (sent as `Parley-Approval`). */
  approval?: string;
}

/**
 * The status a method resolves with: 200 or 201; 202 only for an operation whose success is accepted work
 * (a 202 beside them is a proposal awaiting approval, thrown as ParleyApprovalRequired).
 */
export type SuccessStatus<R> = [Extract<keyof R, 200 | 201>] extends [never] ? Extract<keyof R, 202> : Extract<keyof R, 200 | 201>;

/** What a method resolves to: the parsed JSON body of its success answer, `undefined` for an empty one, the `Response` of a stream or a file (an evidence pack's zip). */
export type OperationOutput<O> = O extends { responses: infer R }
  ? R[SuccessStatus<R>] extends infer Ok
    ? Ok extends { contentType: 'text/event-stream' | 'application/zip' }
      ? Response
      : Ok extends { schema: infer S extends z.ZodType }
        ? z.output<S>
        : undefined
    : never
  : never;

/** The method of one operation: no argument when it takes no input. */
export type OperationMethod<O> = keyof OperationInput<O> extends never
  ? (input?: Record<string, never>, options?: CallOptions) => Promise<OperationOutput<O>>
  : (input: OperationInput<O>, options?: CallOptions) => Promise<OperationOutput<O>>;

/** One method per operation a secret key may call, named by its operationId (see the API reference). */
export type ParleyApi = { [O in KeyOperation as O['operationId']]: OperationMethod<O> };

/** The operations behind {@link ParleyApi}, for tools that enumerate them. */
export const keyOperations: readonly Operation[] = OPERATIONS.filter((op) => op.security.some((s) => s === 'admin' || s === 'secretKey'));

/** Builds the method table over a transport that sends one operation. */
export function apiMethods(
  send: (
    op: Operation,
    input: { params?: Record<string, unknown>; query?: Record<string, unknown>; body?: unknown },
    options?: CallOptions,
  ) => Promise<unknown>,
): ParleyApi {
  return Object.fromEntries(
    keyOperations.map((op) => [op.operationId, (input = {}, options?: CallOptions) => send(op, input, options)]),
  ) as unknown as ParleyApi;
}

/** The request path of an operation: its template with the parameters filled in (each encoded). */
export function operationPath(op: Operation, params: Record<string, unknown> = {}, query: Record<string, unknown> = {}): string {
  const path = op.path.replace(/\{(\w+)\}/g, (_, name: string) => {
    if (params[name] === undefined) throw new TypeError(`${op.operationId} needs params.${name}`);
    return encodeURIComponent(String(params[name]));
  });
  const search = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) {
    if (v === undefined || v === null) continue;
    for (const item of Array.isArray(v) ? v : [v]) search.append(k, String(item));
  }
  const qs = search.toString();
  return qs ? `${path}?${qs}` : path;
}

/** Operations that answer a page and the cursor of the next one (`nextCursor`, or `next` for the audit log). */
export type PagedOperationId = {
  [O in KeyOperation as OperationOutput<O> extends { nextCursor: string | null } | { next: number | null } ? O['operationId'] : never]: O;
} extends infer M
  ? keyof M & KeyOperationId
  : never;

/** The query of the next page, or null after the last one. */
export function nextPageQuery(page: unknown, query: Record<string, unknown>): Record<string, unknown> | null {
  const p = page as { nextCursor?: string | null; next?: number | null };
  if (typeof p.nextCursor === 'string') return { ...query, cursor: p.nextCursor };
  if (typeof p.next === 'number') return { ...query, after: p.next };
  return null;
}
