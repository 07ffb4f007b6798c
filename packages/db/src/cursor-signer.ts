// The one signer of list cursors in the project: the database layer's keyset pages
// (pagination.ts), the queue drivers' job lists, and the API's lists (which bind a cursor to the
// list it came from with a scope). A cursor is the position's bytes followed by a 16-byte
// HMAC-SHA256 tag over (scope, position), base64url. Anything altered in any character, spelled
// another way, signed under another secret or for another list is refused with
// InvalidCursorError, which the API answers with 400.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** A cursor we did not issue, altered or garbled, or issued for another list: the API answers 400. */
export class InvalidCursorError extends Error {
  constructor(message = 'cursor is not one this deployment issued') {
    super(message);
    this.name = 'InvalidCursorError';
  }
}

const TAG_BYTES = 16;

export class CursorSigner {
  readonly #secret: string | Uint8Array;

  constructor(secret: string | Uint8Array) {
    if (secret.length < 16) throw new Error('cursor secret must be at least 16 bytes');
    this.#secret = secret;
  }

  /** `position` (bytes, or text as UTF-8) signed for the list named by `scope`. */
  seal(position: Uint8Array | string, scope = ''): string {
    const bytes = typeof position === 'string' ? Buffer.from(position, 'utf8') : Buffer.from(position);
    return Buffer.concat([bytes, this.#tag(bytes, scope)]).toString('base64url');
  }

  /** The position a cursor carries; InvalidCursorError for anything not sealed here for `scope`. */
  open(cursor: string, scope = ''): Buffer {
    if (typeof cursor !== 'string' || !/^[A-Za-z0-9_-]+$/.test(cursor)) throw new InvalidCursorError();
    const bytes = Buffer.from(cursor, 'base64url');
    // Canonical only: the unused low bits of a final character must not yield a second spelling.
    if (bytes.length < TAG_BYTES || bytes.toString('base64url') !== cursor) throw new InvalidCursorError();
    const position = bytes.subarray(0, bytes.length - TAG_BYTES);
    if (!timingSafeEqual(bytes.subarray(bytes.length - TAG_BYTES), this.#tag(position, scope))) {
      throw new InvalidCursorError();
    }
    return position;
  }

  /** open(), read as the UTF-8 text seal() was given. */
  openText(cursor: string, scope = ''): string {
    return this.open(cursor, scope).toString('utf8');
  }

  #tag(position: Uint8Array, scope: string): Buffer {
    // The scope's length first, so that no (scope, position) pair signs as another.
    return createHmac('sha256', this.#secret)
      .update(`${Buffer.byteLength(scope)}:${scope}`)
      .update(position)
      .digest()
      .subarray(0, TAG_BYTES);
  }
}

// Random per process until start-up sets the deployment's secret, so that a forgotten call
// fails closed (cursors from another process are refused) rather than accepting forgeries.
let defaultSigner = new CursorSigner(randomBytes(32));

/** Sets the process-wide cursor secret; every process of a deployment must share it. */
export function setDefaultCursorSecret(secret: string | Uint8Array): void {
  defaultSigner = new CursorSigner(secret);
}

/** The signer for `secret`, or the process-wide one (see setDefaultCursorSecret) when it is unset. */
export function cursorSigner(secret?: string | Uint8Array): CursorSigner {
  return secret === undefined ? defaultSigner : new CursorSigner(secret);
}
