// Request validation against the schemas in schemas.ts, failing with problems that name every
// failing field: a body is 422 with JSON Pointers, query parameters are 400 with their names.
//
// Input is bounded before it is walked: jsonShapeGuard scans a JSON body's raw UTF-8 bytes once,
// in a flat loop, and refuses one nested deeper than MAX_JSON_DEPTH or holding more than
// MAX_JSON_KEYS keys before JSON.parse or any walk sees it; the walks after it are iterative. Text
// a database cannot store (NUL, which PostgreSQL refuses in text and jsonb; a lone UTF-16
// surrogate, which jsonb refuses) is refused wherever it enters: body strings and keys (422
// naming the pointer); query parameters and the path, where only a NUL can arrive (400 naming
// the parameter).
import {
  InvalidJobPayloadError,
  MAX_ROW_ID,
  parseJobPayload,
  payloadIssues,
  UnknownJobKindError,
} from '@offload/jobs';
import type { Request, RequestHandler } from 'express';
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
  const unstorable = unstorablePath(body);
  if (unstorable !== null) {
    throw validationProblem(422, [{ pointer: bodyPointer(unstorable.path), detail: unstorable.detail }]);
  }
  const parsed = schema.safeParse(body);
  if (parsed.success) return parsed.data;
  throw validationProblem(
    422,
    payloadIssues(parsed.error).map((issue) => ({ pointer: bodyPointer(issue.path), detail: issue.message })),
  );
}

/** Deeper JSON than this is refused (422) before it is parsed; no payload of ours nests past 5. */
export const MAX_JSON_DEPTH = 64;
/** More object keys than this in one body are refused (422) before it is parsed. */
export const MAX_JSON_KEYS = 10_000;

const NUL_DETAIL = 'must not contain the NUL character (U+0000)';
const SURROGATE_DETAIL = 'must not contain a lone UTF-16 surrogate';

/** Why PostgreSQL or SQLite could not store `text` as it was given, or null when both can. */
export function unstorableText(text: string): string | null {
  if (text.includes('\u0000')) return NUL_DETAIL;
  return text.isWellFormed() ? null : SURROGATE_DETAIL;
}

const OPEN_BRACE = 0x7b;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACE = 0x7d;
const CLOSE_BRACKET = 0x5d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON = 0x3a;

/**
 * express.json's `verify` hook: runs on the raw (decompressed) bytes before JSON.parse. One pass,
 * no allocation: the nesting depth and the number of keys (one colon outside strings per key) are
 * counted, and the first bound passed ends the request with 422. Malformed JSON is left to
 * JSON.parse (400).
 *
 * The bytes are still in the body's charset, which body-parser accepts as any `utf-…`: in UTF-16
 * or UTF-7 a bracket or an escaped quote is not the byte scanned for, and the bounds could be
 * walked round. JSON between systems is UTF-8 (RFC 8259), so any other charset is 415 here.
 */
export function jsonShapeGuard(_req: unknown, _res: unknown, bytes: Buffer, encoding: string): void {
  if (encoding.toLowerCase() !== 'utf-8') {
    throw new HttpProblem(415, `A JSON body is sent as UTF-8, not ${encoding.toUpperCase()}.`);
  }
  let depth = 0;
  let keys = 0;
  let inString = false;
  for (let i = 0; i < bytes.length; i += 1) {
    const byte = bytes[i];
    if (inString) {
      if (byte === BACKSLASH) i += 1;
      else if (byte === QUOTE) inString = false;
    } else if (byte === QUOTE) {
      inString = true;
    } else if (byte === OPEN_BRACE || byte === OPEN_BRACKET) {
      depth += 1;
      if (depth > MAX_JSON_DEPTH) {
        throw validationProblem(422, [
          { pointer: '#', detail: `must not nest deeper than ${MAX_JSON_DEPTH} levels` },
        ]);
      }
    } else if (byte === CLOSE_BRACE || byte === CLOSE_BRACKET) {
      depth -= 1;
    } else if (byte === COLON) {
      keys += 1;
      if (keys > MAX_JSON_KEYS) {
        throw validationProblem(422, [
          { pointer: '#', detail: `must not hold more than ${MAX_JSON_KEYS} keys` },
        ]);
      }
    }
  }
}

interface Frame {
  value: unknown[] | Record<string, unknown>;
  /** The object's keys; null for an array. */
  keys: string[] | null;
  next: number;
}

function frameOf(value: unknown[] | Record<string, unknown>): Frame {
  return { value, keys: Array.isArray(value) ? null : Object.keys(value), next: 0 };
}

/**
 * The path of the first string or key in a JSON value that a database cannot store, else null.
 * Iterative, depth first, with one path array pushed and popped (never copied per level).
 */
export function unstorablePath(root: unknown): { path: Array<string | number>; detail: string } | null {
  if (typeof root === 'string') {
    const detail = unstorableText(root);
    return detail === null ? null : { path: [], detail };
  }
  if (root === null || typeof root !== 'object') return null;
  const frames: Frame[] = [frameOf(root as Frame['value'])];
  const path: Array<string | number> = [];
  while (frames.length > 0) {
    const top = frames[frames.length - 1]!;
    const length = top.keys === null ? (top.value as unknown[]).length : top.keys.length;
    if (top.next >= length) {
      frames.pop();
      path.pop();
      continue;
    }
    const index = top.next;
    top.next += 1;
    const key = top.keys === null ? index : top.keys[index]!;
    const keyDetail = typeof key === 'string' ? unstorableText(key) : null;
    if (keyDetail !== null) return { path: [...path, key], detail: keyDetail };
    const child =
      top.keys === null ? (top.value as unknown[])[index] : (top.value as Record<string, unknown>)[key];
    if (typeof child === 'string') {
      const detail = unstorableText(child);
      if (detail !== null) return { path: [...path, key], detail };
    } else if (child !== null && typeof child === 'object') {
      path.push(key);
      frames.push(frameOf(child as Frame['value']));
    }
  }
  return null;
}

/**
 * Refuses a request whose path or query string holds a NUL, before any route sees it: 400 naming
 * the parameter (`path` for the path itself). A NUL can reach us only percent-encoded (Node's HTTP
 * parser refuses the raw byte), and a lone surrogate not at all (the query parser decodes invalid
 * UTF-8 to U+FFFD, the router refuses it), so a URL without `%00` passes on one string search.
 * That matters on every request: `req.query` is a getter that parses the query string anew at
 * each read (1 to 3 µs here), work the route's parseQuery does once anyway.
 */
export const refuseUnstorableInput: RequestHandler = (req, _res, next) => {
  if (!req.url.includes('%00')) return next();
  if (req.path.includes('%00')) throw validationProblem(400, [{ parameter: 'path', detail: NUL_DETAIL }]);
  for (const [name, value] of Object.entries(req.query as Record<string, unknown>)) {
    if (name.includes('\u0000')) throw validationProblem(400, [{ parameter: 'query', detail: NUL_DETAIL }]);
    for (const text of Array.isArray(value) ? value : [value]) {
      if (typeof text === 'string' && text.includes('\u0000')) {
        throw validationProblem(400, [{ parameter: name, detail: NUL_DETAIL }]);
      }
    }
  }
  next();
};

const ROW_ID = /^[1-9]\d{0,9}$/;

/** A path parameter naming a row by its integer id: 400 unless 1 to MAX_ROW_ID (the column's range). */
export function parseIdParam(req: Request, name = 'id'): number {
  const raw = String(req.params[name]);
  const id = ROW_ID.test(raw) ? Number(raw) : Number.NaN;
  if (!(id <= MAX_ROW_ID)) {
    throw validationProblem(400, [{ parameter: name, detail: `must be an integer from 1 to ${MAX_ROW_ID}` }]);
  }
  return id;
}

/** Past this many distinct query strings, a schema's memo of parsed queries starts again. */
const MAX_PARSED_QUERIES = 1000;
const parsedQueries = new WeakMap<z.ZodType, Map<string, unknown>>();

/**
 * The query parameters checked against `schema`, 400 naming each failing one. A query string
 * that passed once passes again with the same result (the parse is pure), so valid ones are
 * memoised per schema by their raw text: parsing the query and walking the schema cost a hot
 * read more than the rest of its handler. What is handed out is a copy whose parts are frozen.
 */
export function parseQuery<S extends z.ZodType>(schema: S, req: Request): z.output<S> {
  const raw = queryText(req.url);
  let memo = parsedQueries.get(schema);
  const known = memo?.get(raw);
  if (known !== undefined) return { ...(known as object) } as z.output<S>;
  const parsed = schema.safeParse(req.query);
  if (parsed.success) {
    if (!isPlainObject(parsed.data)) return parsed.data;
    if (memo === undefined) {
      memo = new Map();
      parsedQueries.set(schema, memo);
    }
    if (memo.size >= MAX_PARSED_QUERIES) memo.clear();
    memo.set(raw, deepFreeze(parsed.data));
    return { ...parsed.data } as z.output<S>;
  }
  throw validationProblem(
    400,
    payloadIssues(parsed.error).map((issue) => ({
      parameter: String(issue.path[0] ?? ''),
      detail: issue.path.length > 1 ? `${issue.path.slice(1).join('.')}: ${issue.message}` : issue.message,
    })),
  );
}

/**
 * The query of `url` as `parseQuery` returned it before (frozen, not to be changed), or undefined
 * when this query string has not passed `schema` yet: the hot reads' short path, which leaves
 * the first sight of a query string (and every invalid one) to the route's parseQuery.
 */
export function knownQuery<S extends z.ZodType>(schema: S, url: string): Readonly<z.output<S>> | undefined {
  return parsedQueries.get(schema)?.get(queryText(url)) as Readonly<z.output<S>> | undefined;
}

function queryText(url: string): string {
  const at = url.indexOf('?');
  return at === -1 ? '' : url.slice(at + 1);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && Object.getPrototypeOf(value) === Object.prototype;
}

/** `value` with every array and plain object in it frozen (query values nest a level at most). */
function deepFreeze<T>(value: T): T {
  if (Array.isArray(value) || isPlainObject(value)) {
    for (const part of Object.values(value)) deepFreeze(part);
    Object.freeze(value);
  }
  return value;
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
