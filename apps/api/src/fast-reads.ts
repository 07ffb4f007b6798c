// The hot precomputed reads' short path (issue 17): GET /v1/kpi, /v1/dashboard and /v1/models
// answered before the generic middleware when everything the answer needs is already in
// memory, with the same headers, request line and metrics as the long way:
//
//   the key        cached by the authenticator (one hash, one Map lookup), holding `read`
//   the rate limit one token taken from the key's bucket
//   the query      a query string that passed the route's schema before (validation.ts's memo)
//   the body       fresh in L1, with no version check due (ReadCache.peek), found
//   the request    a GET at the route's exact path, no body, no %00 in its URL
//
// The body goes out with a header block built once per cached body (the 200's and the 304's;
// Server-Timing says no query and no queue call, as none is made), the request id added, and
// the body as text (one write of headers and body, where a Buffer takes a writev). When any
// of these fails, nothing was spent (the token is taken last, the cache hit counted only once
// answered) and the request goes the long way, which answers it exactly
// as before: a key to look up, a query to validate or refuse, a body to load, a version to
// check, a 401, 403, 429, 400 or 404.
import type { RequestHandler } from 'express';
import type { z } from 'zod';
import { type Authenticator, bearerKey, hasScope, rateBucket } from './auth.ts';
import { type HeaderBlocks, headerBlocks, matches } from './http-cache.ts';
import type { RateLimiter } from './rate-limit.ts';
import type { ApiReadCache, Found, ReadFamily } from './read-cache.ts';
import { finishRequest, type RequestLogOptions, requestIdOf, serverTiming } from './request-log.ts';
import { knownQuery } from './validation.ts';

/** A read the short path may answer (each route module declares its own). */
export interface FastRead<S extends z.ZodType = z.ZodType> {
  /** The route's path, in the one spelling the short path takes (others go the long way). */
  path: string;
  family: ReadFamily;
  /** The route's query schema (the one its parseQuery uses). */
  query: S;
  /** The body when the read cache holds it fresh and found, else undefined. */
  peek: (reads: ApiReadCache, query: Readonly<z.output<S>>) => Found | undefined;
}

export interface FastReadsDeps {
  reads: ApiReadCache;
  authenticator: Authenticator;
  rateLimiter: RateLimiter;
  /** The request log's options: the short path writes the same line and metrics. */
  log: RequestLogOptions;
}

// No query and no queue call: the request line and Server-Timing say so, as on the long way.
const NO_QUERIES = Object.freeze({ count: 0, totalMs: 0 });
const NO_QUEUE_CALLS = Object.freeze({ count: 0, totalMs: 0 });
const NOTHING_MADE = serverTiming(NO_QUERIES, NO_QUEUE_CALLS);

/** Mount before the request log: answers what it can, hands every other request on untouched. */
export function fastReads(deps: FastReadsDeps, reads: readonly FastRead[]): RequestHandler {
  const byPath = new Map(reads.map((read) => [read.path, read]));
  const blocks = new WeakMap<Found, HeaderBlocks>();
  return (req, res, next) => {
    if (req.method !== 'GET') return next();
    const started = performance.now();
    const url = req.url;
    const at = url.indexOf('?');
    const path = at === -1 ? url : url.slice(0, at);
    const read = byPath.get(path);
    if (read === undefined) return next();
    const headers = req.headers;
    if (headers['content-length'] !== undefined || headers['transfer-encoding'] !== undefined) return next();
    if (url.includes('%00')) return next();
    const key = bearerKey(headers.authorization);
    if (key === undefined) return next();
    const principal = deps.authenticator.cached(key);
    if (principal === undefined || !hasScope(principal, 'read')) return next();
    const query = knownQuery(read.query, url);
    if (query === undefined) return next();
    const found = read.peek(deps.reads, query);
    if (found === undefined) return next();
    if (!deps.rateLimiter.take(rateBucket(principal)).allowed) return next();
    deps.reads.countHit(read.family);

    let block = blocks.get(found);
    if (block === undefined) {
      block = headerBlocks(found, deps.reads.maxAgeSeconds(read.family), NOTHING_MADE);
      blocks.set(found, block);
    }
    const requestId = requestIdOf(req);
    const status = matches(headers['if-none-match'], found.etag) ? 304 : 200;
    res.writeHead(status, [...(status === 304 ? block.notModified : block.ok), 'X-Request-Id', requestId]);
    res.end(status === 304 ? undefined : block.text);
    // Logged at once: the body is in the socket's buffer (its `ms` leaves out the flush the long
    // way waits for with 'finish', and a client gone meanwhile is not marked aborted).
    finishRequest(deps.log, {
      requestId,
      method: 'GET',
      path,
      route: read.path,
      status,
      ms: performance.now() - started,
      stats: NO_QUERIES,
      queueCalls: NO_QUEUE_CALLS,
      owner: principal.owner,
    });
  };
}
