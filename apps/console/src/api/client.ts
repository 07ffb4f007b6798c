// The typed client: every call names a path of the API's OpenAPI document, and its parameters,
// body and answer are typed from it (schema.gen.ts, generated at build time from the document the
// API serves), so a contract change breaks the console's type check instead of a page.
// The key is sent as a Bearer header only; it never goes into a URL or a cookie.

import { currentKey, endSession } from '../session.ts';
import type { components, paths } from './schema.gen.ts';

export type Schemas = components['schemas'];
export type Job = Schemas['Job'];
export type Problem = Schemas['Problem'];

type JsonBody<R> = R extends { content: { 'application/json': infer T } } ? T : never;
type Success<O> = O extends { responses: infer Rs }
  ? JsonBody<Rs[200 & keyof Rs]> | JsonBody<Rs[201 & keyof Rs]>
  : never;
type Params<O> = O extends { parameters: infer P } ? P : never;
type QueryOf<O> = Params<O> extends { query?: infer Q } ? Q : never;
type PathOf<O> = Params<O> extends { path: infer P } ? P : never;
type BodyOf<O> = O extends { requestBody?: { content: { 'application/json': infer B } } } ? B : never;

type PathsWith<M extends string> = {
  [P in keyof paths]: paths[P] extends Record<M, infer O> ? (O extends undefined | never ? never : P) : never;
}[keyof paths];

export type GetPath = PathsWith<'get'>;
export type PostPath = PathsWith<'post'>;
export type PutPath = PathsWith<'put'>;
type Op<P extends keyof paths, M extends string> = paths[P] extends Record<M, infer O> ? O : never;

export interface CallOptions<O> {
  path?: PathOf<O>;
  query?: QueryOf<O>;
}

/** A failed call, with the problem document when the server sent one. */
export class ApiError extends Error {
  readonly status: number;
  readonly problem: Problem | undefined;
  /** The answer's Retry-After (seconds), when it had one (429, 503). */
  readonly retryAfter: string | undefined;
  constructor(status: number, message: string, problem?: Problem, retryAfter?: string) {
    super(message);
    this.status = status;
    this.problem = problem;
    this.retryAfter = retryAfter;
  }
}

/** The server could not be reached at all (down, or the network is). */
export class UnreachableError extends Error {}

export function buildUrl(template: string, pathParams?: unknown, query?: unknown): string {
  let url = template.replace(/\{(\w+)\}/g, (_, name: string) =>
    encodeURIComponent(String((pathParams as Record<string, unknown> | undefined)?.[name] ?? '')),
  );
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries((query ?? {}) as Record<string, unknown>)) {
    if (value !== undefined && value !== null && value !== '') search.set(name, String(value));
  }
  if ([...search].length > 0) url += `?${search}`;
  return url;
}

export function authHeaders(key = currentKey()): Record<string, string> {
  return key === undefined ? {} : { authorization: `Bearer ${key}` };
}

/** fetch with the key; a 401 ends the session (the key was revoked or is unknown). */
export async function send(url: string, init: RequestInit & { key?: string } = {}): Promise<Response> {
  let response: Response;
  try {
    response = await fetch(url, {
      ...init,
      headers: { accept: 'application/json', ...authHeaders(init.key), ...init.headers },
      credentials: 'omit',
    });
  } catch {
    throw new UnreachableError('The API server cannot be reached. It may be down or restarting.');
  }
  if (response.ok) return response;
  let problem: Problem | undefined;
  try {
    problem = (await response.json()) as Problem;
  } catch {
    problem = undefined;
  }
  const message = problem?.detail ?? `${response.status} ${response.statusText}`;
  if (response.status === 401 && init.key === undefined) endSession('expired');
  throw new ApiError(response.status, message, problem, response.headers.get('retry-after') ?? undefined);
}

async function call<T>(method: string, url: string, body?: unknown): Promise<T> {
  const response = await send(url, {
    method,
    ...(body === undefined
      ? {}
      : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
  });
  if (response.status === 204) return undefined as T;
  return (await response.json()) as T;
}

export const api = {
  get<P extends GetPath>(path: P, options: CallOptions<Op<P, 'get'>> = {}): Promise<Success<Op<P, 'get'>>> {
    return call('GET', buildUrl(path, options.path, options.query));
  },
  post<P extends PostPath>(
    path: P,
    options: CallOptions<Op<P, 'post'>> & { body?: BodyOf<Op<P, 'post'>> } = {},
  ): Promise<Success<Op<P, 'post'>>> {
    return call('POST', buildUrl(path, options.path, options.query), options.body ?? {});
  },
  put<P extends PutPath>(
    path: P,
    options: CallOptions<Op<P, 'put'>> & { body: BodyOf<Op<P, 'put'>> },
  ): Promise<Success<Op<P, 'put'>>> {
    return call('PUT', buildUrl(path, options.path, options.query), options.body);
  },
};

/** A sentence for any error a call can end with, for the page to show. */
export function describeError(error: unknown): string {
  if (error instanceof UnreachableError) return error.message;
  if (error instanceof ApiError) {
    if (error.status === 403) return `Not allowed: ${error.message}`;
    if (error.status >= 500) return `The server failed (${error.status}): ${error.message}`;
    return error.message;
  }
  return error instanceof Error ? error.message : String(error);
}
