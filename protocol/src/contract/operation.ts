// One HTTP operation of the Parley API, as protocol defines it: the server parses requests with these
// schemas, the OpenAPI document is generated from them, and the tests check every response against it.
import type { z } from 'zod';
import type { Capability } from '../constants.js';

/**
 * How a caller proves who it is. `admin` is a secret key or a console session (either is accepted);
 * `session` is a console session only (a person's own account); `publishableKey` is the widget's key
 * (X-Parley-Key or ?key=), checked against the page's origin; `widgetToken` is the widget session
 * token the widget API issues; `platform` is a platform operator; `metricsToken` is the deployment's
 * metrics scrape token (PARLEY_METRICS_TOKEN); `none` is public.
 */
export type Security = 'none' | 'secretKey' | 'admin' | 'session' | 'publishableKey' | 'widgetToken' | 'platform' | 'metricsToken';

export interface ResponseSpec {
  description: string;
  /** The body; omitted for an empty body (204, 202 without a body). */
  schema?: z.ZodType;
  /** application/json unless given. */
  contentType?: ContentType;
  /** Headers a client relies on, e.g. Location, Retry-After. */
  headers?: Record<string, string>;
  /**
   * The same status in other content types, chosen by the request's Accept header (JSON or a stream,
   * JSON or a signed note as text).
   */
  alternatives?: { contentType: ContentType; schema?: z.ZodType }[];
}

export type ContentType =
  | 'application/json'
  | 'text/event-stream'
  | 'text/html'
  | 'text/plain'
  | 'text/css'
  | 'text/javascript'
  | 'application/javascript'
  | 'application/xml'
  | 'application/samlmetadata+xml'
  | 'application/zip';

export type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';

export interface Operation {
  /** Stable camelCase id; also the SDK's method name where one exists. */
  operationId: string;
  method: Method;
  /** The OpenAPI path template, with the mount prefix: `/v1/admin/knowledge/sources/{id}`. */
  path: string;
  /** The reference section this operation is listed under. */
  tag: string;
  summary: string;
  /** Markdown; what a developer needs beyond the summary (limits, side effects, audit entries). */
  description?: string;
  /** Any one of these is enough. */
  security: Security[];
  /** The capability a key or role needs (admin operations). */
  capability?: Capability;
  params?: z.ZodObject;
  query?: z.ZodObject;
  /** An application/json request body (or another type where `bodyContentType` says so). */
  body?: z.ZodType;
  bodyContentType?: 'application/json' | 'application/merge-patch+json' | 'application/x-www-form-urlencoded';
  /**
   * The answers that are not problems, by status. Problems (application/problem+json, ProblemSchema)
   * are added for every operation by the document builder; list here only statuses with another body.
   */
  responses: Record<number, ResponseSpec>;
  /** Statuses of problems this operation is known to answer, beyond the ones every operation can. */
  problems?: number[];
}

/** Checks an area's table at compile time while keeping each entry's literal type. */
export const operations = <const T extends readonly Operation[]>(ops: T): T => ops;
