// zod at the boundary: a failed parse becomes a 400 problem whose errors[] carry JSON Pointer paths.
import type { FieldError } from '@parley/protocol';
import type { z } from 'zod';
import type { Request } from 'express';
import { isUuid } from '../db/index.js';
import { problems } from './problem.js';

const pointer = (path: PropertyKey[]) => (path.length ? '/' + path.map((p) => String(p).replaceAll('~', '~0').replaceAll('/', '~1')).join('/') : '');

/** One error per field; an unknown key is named by its own path (zod reports it on its parent). `at` prefixes every path. */
export function fieldErrors(error: z.ZodError, at: PropertyKey[] = []): FieldError[] {
  return error.issues.flatMap((i): FieldError[] =>
    i.code === 'unrecognized_keys'
      ? i.keys.map((k) => ({ path: pointer([...at, ...i.path, k]), message: 'is not a known field', code: i.code }))
      : [{ path: pointer([...at, ...i.path]), message: i.message, code: i.code }],
  );
}

export function parse<S extends z.ZodType>(schema: S, value: unknown, where = 'body'): z.output<S> {
  const result = schema.safeParse(value ?? (where === 'body' ? undefined : {}));
  if (!result.success) throw problems.validation(fieldErrors(result.error), `The request ${where} is not valid.`);
  return result.data;
}

/** A path parameter that must be a uuid: anything else names nothing, so it is a 404. */
export function uuidParam(req: Request, name = 'id'): string {
  const id = String(req.params[name]);
  if (!isUuid(id)) throw problems.notFound();
  return id;
}
