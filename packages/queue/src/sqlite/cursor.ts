// Job list pages: the limit's validation and the opaque cursor, the last row's keyset position
// (created_at, id) signed with HMAC-SHA256 under a secret kept in queue_meta, so that every
// process on the file accepts every other's cursors and nothing else (INTERFACE-CHANGES.md: an
// altered cursor is refused). The errors carry the names `@offload/db`'s pagination uses, which
// the API maps to 400.
import { createHmac, timingSafeEqual } from 'node:crypto';

export const DEFAULT_PAGE_LIMIT = 50;
export const MAX_PAGE_LIMIT = 100;
const TAG_BYTES = 16;

/** A cursor we did not issue, altered or garbled. */
export class InvalidCursorError extends Error {
  constructor(message = 'cursor is not one this queue issued') {
    super(message);
    this.name = 'InvalidCursorError';
  }
}

/** A page size outside 1…100 (refused, never clamped). */
export class InvalidPageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidPageError';
  }
}

export interface CursorPosition {
  createdAt: string;
  id: string;
}

/** The page size asked for: an integer from 1 to 100, default 50. */
export function pageLimit(limit: number | undefined): number {
  if (limit === undefined) return DEFAULT_PAGE_LIMIT;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE_LIMIT) {
    throw new InvalidPageError(`limit must be an integer from 1 to ${MAX_PAGE_LIMIT} (got ${String(limit)})`);
  }
  return limit;
}

export class CursorCodec {
  readonly #secret: Buffer;

  constructor(secret: Buffer) {
    this.#secret = secret;
  }

  encode(position: CursorPosition): string {
    const body = Buffer.from(JSON.stringify([position.createdAt, position.id])).toString('base64url');
    return `${body}.${this.#tag(body).toString('base64url')}`;
  }

  decode(cursor: string): CursorPosition {
    const parts = typeof cursor === 'string' ? cursor.split('.') : [];
    if (parts.length !== 2) throw new InvalidCursorError();
    const [body, signature] = parts as [string, string];
    const given = Buffer.from(signature, 'base64url');
    const expected = this.#tag(body);
    // Buffer.from ignores characters outside the alphabet: compare the text too, so that a
    // signature with a stray character appended is not accepted.
    if (
      given.length !== expected.length ||
      !timingSafeEqual(given, expected) ||
      given.toString('base64url') !== signature
    ) {
      throw new InvalidCursorError();
    }
    let value: unknown;
    try {
      value = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'));
    } catch {
      throw new InvalidCursorError();
    }
    if (
      !Array.isArray(value) ||
      value.length !== 2 ||
      typeof value[0] !== 'string' ||
      typeof value[1] !== 'string'
    ) {
      throw new InvalidCursorError();
    }
    return { createdAt: value[0], id: value[1] };
  }

  #tag(body: string): Buffer {
    return createHmac('sha256', this.#secret).update(body).digest().subarray(0, TAG_BYTES);
  }
}
