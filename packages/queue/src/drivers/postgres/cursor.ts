// The keyset position of PostgreSQL job lists: the page's last id alone (ids are time-ordered, so
// the id is the position), as its 16 bytes, sealed by the project's one signer (@offload/db).
import { type CursorSigner, InvalidCursorError } from '@offload/db';

const ID_BYTES = 16;

export class CursorCodec {
  readonly #signer: CursorSigner;

  constructor(signer: CursorSigner) {
    this.#signer = signer;
  }

  encode(lastId: string): string {
    return this.#signer.seal(Buffer.from(lastId.replaceAll('-', ''), 'hex'));
  }

  /** The id a page continues after; InvalidCursorError for anything this deployment did not issue. */
  decode(cursor: string): string {
    const id = this.#signer.open(cursor);
    if (id.length !== ID_BYTES) throw new InvalidCursorError();
    const hex = id.toString('hex');
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  }
}
