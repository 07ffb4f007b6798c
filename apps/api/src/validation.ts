// Request validation against the schemas in schemas.ts, failing with problems that name every
// failing field: a body is 422 with JSON Pointers, query parameters are 400 with their names.
import { InvalidJobPayloadError, parseJobPayload, payloadIssues, UnknownJobKindError } from '@offload/jobs';
import type { Request } from 'express';
import type { z } from 'zod';
import { bodyPointer, HttpProblem, validationProblem } from './problem.ts';

export function parseBody<S extends z.ZodType>(schema: S, req: Request): z.output<S> {
  const body: unknown = req.body;
  if (body === undefined) {
    const length = Number(req.get('content-length') ?? 0);
    if (length > 0 || req.get('transfer-encoding') !== undefined) {
      throw new HttpProblem(415, 'The request body must be JSON (Content-Type: application/json).');
    }
    throw validationProblem(422, [{ pointer: '#', detail: 'a JSON body is required' }]);
  }
  // PostgreSQL stores no NUL character in text or jsonb, and SQLite would: refused here, the same
  // on both, rather than failing the insert on one of them.
  const nul = nulPath(body, []);
  if (nul !== null) {
    throw validationProblem(422, [
      { pointer: bodyPointer(nul), detail: 'must not contain the NUL character (U+0000)' },
    ]);
  }
  const parsed = schema.safeParse(body);
  if (parsed.success) return parsed.data;
  throw validationProblem(
    422,
    payloadIssues(parsed.error).map((issue) => ({ pointer: bodyPointer(issue.path), detail: issue.message })),
  );
}

/** The path of the first string or key in a JSON value that holds a NUL character, else null. */
function nulPath(value: unknown, path: Array<string | number>): Array<string | number> | null {
  if (typeof value === 'string') return value.includes('\u0000') ? path : null;
  if (Array.isArray(value)) {
    for (const [i, item] of value.entries()) {
      const found = nulPath(item, [...path, i]);
      if (found !== null) return found;
    }
    return null;
  }
  if (typeof value === 'object' && value !== null) {
    for (const [key, item] of Object.entries(value)) {
      if (key.includes('\u0000')) return [...path, key];
      const found = nulPath(item, [...path, key]);
      if (found !== null) return found;
    }
  }
  return null;
}

export function parseQuery<S extends z.ZodType>(schema: S, req: Request): z.output<S> {
  const parsed = schema.safeParse(req.query);
  if (parsed.success) return parsed.data;
  throw validationProblem(
    400,
    payloadIssues(parsed.error).map((issue) => ({
      parameter: String(issue.path[0] ?? ''),
      detail: issue.path.length > 1 ? `${issue.path.slice(1).join('.')}: ${issue.message}` : issue.message,
    })),
  );
}

/** A kind's payload checked against the catalog; failures point at `#/kind` or into `#/payload`. */
export function parsePayload(kind: string, payload: unknown): unknown {
  try {
    return parseJobPayload(kind, payload);
  } catch (error) {
    if (error instanceof UnknownJobKindError) {
      throw validationProblem(422, [{ pointer: '#/kind', detail: error.message }]);
    }
    if (error instanceof InvalidJobPayloadError) {
      throw validationProblem(
        422,
        error.issues.map((issue) => ({
          pointer: bodyPointer(['payload', ...issue.path]),
          detail: issue.message,
        })),
      );
    }
    throw error;
  }
}
