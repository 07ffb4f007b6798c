// The opaque cursor of job lists: the last row's keyset position (created_at, id) signed with
// HMAC-SHA256 under a secret kept in queue_meta, so that every process on the file accepts every
// other's cursors and nothing else: an altered cursor is refused.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { InvalidCursorError } from '../../runtime/paging.ts';

const TAG_BYTES = 16;

export interface CursorPosition {
  createdAt: string;
  id: string;
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
