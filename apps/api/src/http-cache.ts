// HTTP caching of the precomputed reads (read-cache.ts): each body carries an ETag naming the
// cache family's version and a digest of the bytes (taken once, when the body is loaded into the
// cache), and `Cache-Control: private, max-age=N` with N the family's cache TTL, so a client
// never keeps a body longer than a server process would. A request whose If-None-Match holds
// the current ETag gets 304 without a body. Every other answer is `no-store` (app.ts): jobs,
// queues and errors change under the caller's feet.
import { createHash } from 'node:crypto';
import type { Request, Response } from 'express';

export const NO_STORE = 'no-store';

/** A strong validator for `body`, loaded while `family` was at `version`. */
export function entityTag(version: number, body: Buffer): string {
  return `"${version}-${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`;
}

/** Sends a precomputed JSON body with its validators, or 304 when the caller holds it already. */
export function sendCached(
  req: Request,
  res: Response,
  read: { body: Buffer; etag: string },
  maxAgeSeconds: number,
): void {
  res.setHeader('ETag', read.etag);
  res.setHeader('Cache-Control', cacheControl(maxAgeSeconds));
  if (matches(req.headers['if-none-match'], read.etag)) {
    res.status(304).end();
    return;
  }
  // Written straight to the socket: res.send would weigh the body's freshness again (done above),
  // look up the MIME type and copy headers, a third of a cached read's CPU time in a profile.
  // HEAD gets the headers only, as Node's ServerResponse drops a HEAD answer's body itself.
  res.setHeader('Content-Type', JSON_TYPE);
  res.setHeader('Content-Length', read.body.length);
  res.end(read.body);
}

const JSON_TYPE = 'application/json; charset=utf-8';

const cacheControl = (maxAgeSeconds: number): string => `private, max-age=${maxAgeSeconds}`;

/** The headers of a cached body's 200 and of its 304, as flat name-value lists for writeHead. */
export interface HeaderBlocks {
  ok: readonly string[];
  notModified: readonly string[];
  /**
   * The body as text: Node writes a string body and the header block in one write, where a
   * Buffer takes a writev of the two (a third more CPU for that call in a profile).
   */
  text: string;
}

/**
 * The header block of `read` built once (the hot reads' short path writes it with writeHead, no
 * header set one by one): the same headers `sendCached` sets, with `serverTiming`.
 */
export function headerBlocks(
  read: { body: Buffer; etag: string },
  maxAgeSeconds: number,
  serverTiming: string,
): HeaderBlocks {
  const validators = ['Cache-Control', cacheControl(maxAgeSeconds), 'ETag', read.etag];
  return {
    ok: [
      ...validators,
      'Content-Type',
      JSON_TYPE,
      'Content-Length',
      String(read.body.length),
      'Server-Timing',
      serverTiming,
    ],
    notModified: [...validators, 'Server-Timing', serverTiming],
    text: read.body.toString('utf8'),
  };
}

/** RFC 9110 §13.1.2: `*`, or a list of tags compared weakly (a W/ prefix is ignored). */
export function matches(header: string | undefined, etag: string): boolean {
  if (header === undefined) return false;
  if (header.trim() === '*') return true;
  return header.split(',').some((candidate) => candidate.trim().replace(/^W\//, '') === etag);
}
