// The opaque cursor of job lists: the id of the page's last row (ids are time-ordered, so the id
// alone is the keyset position) followed by an HMAC of it, base64url. Signed with a key kept in the
// database, so any process of the deployment accepts what another issued and nothing else: a cursor
// altered in any character is refused, as @offload/db's cursors are.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { InvalidCursorError } from '../../runtime/paging.ts';

const ID_BYTES = 16;
const TAG_BYTES = 12;

export class CursorCodec {
  readonly #secret: string;

  constructor(secret: string) {
    this.#secret = secret;
  }

  encode(lastId: string): string {
    const id = Buffer.from(lastId.replaceAll('-', ''), 'hex');
    return Buffer.concat([id, this.#tag(id)]).toString('base64url');
  }

  /** The id a page continues after; InvalidCursorError for anything this deployment did not issue. */
  decode(cursor: string): string {
    if (!/^[A-Za-z0-9_-]+$/.test(cursor)) throw new InvalidCursorError();
    const bytes = Buffer.from(cursor, 'base64url');
    // Canonical only: the unused low bits of a final character must not yield a second spelling.
    if (bytes.length !== ID_BYTES + TAG_BYTES || bytes.toString('base64url') !== cursor) {
      throw new InvalidCursorError();
    }
    const id = bytes.subarray(0, ID_BYTES);
    if (!timingSafeEqual(bytes.subarray(ID_BYTES), this.#tag(id))) throw new InvalidCursorError();
    const hex = id.toString('hex');
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  }

  #tag(id: Buffer): Buffer {
    return createHmac('sha256', this.#secret).update(id).digest().subarray(0, TAG_BYTES);
  }
}
