// The one signer of the queue's list cursors, for both drivers: a driver encodes its keyset
// position as bytes (PostgreSQL: the last id's 16 bytes; SQLite: its (created_at, id) as JSON), and
// the cursor is those bytes followed by an HMAC-SHA256 tag, base64url, under a key kept in the
// database (so any process of the deployment accepts what another issued). A cursor altered in any
// character, or spelled another way, is refused with InvalidCursorError, as @offload/db's are.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { InvalidCursorError } from './paging.ts';

const TAG_BYTES = 16;

export class CursorSigner {
  readonly #key: string | Buffer;

  constructor(key: string | Buffer) {
    this.#key = key;
  }

  seal(position: Buffer): string {
    return Buffer.concat([position, this.#tag(position)]).toString('base64url');
  }

  /** The position a cursor carries; InvalidCursorError for anything this deployment did not issue. */
  open(cursor: string): Buffer {
    if (typeof cursor !== 'string' || !/^[A-Za-z0-9_-]+$/.test(cursor)) throw new InvalidCursorError();
    const bytes = Buffer.from(cursor, 'base64url');
    // Canonical only: the unused low bits of a final character must not yield a second spelling.
    if (bytes.length <= TAG_BYTES || bytes.toString('base64url') !== cursor) throw new InvalidCursorError();
    const position = bytes.subarray(0, bytes.length - TAG_BYTES);
    if (!timingSafeEqual(bytes.subarray(bytes.length - TAG_BYTES), this.#tag(position))) {
      throw new InvalidCursorError();
    }
    return position;
  }

  #tag(position: Buffer): Buffer {
    return createHmac('sha256', this.#key).update(position).digest().subarray(0, TAG_BYTES);
  }
}
