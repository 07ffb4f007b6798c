// The keyset position of SQLite job lists: the last row's (created_at, id), as JSON bytes, sealed
// by the project's one signer (@offload/db) under the deployment's cursor secret.
import { type CursorSigner, InvalidCursorError } from '@offload/db';

export interface CursorPosition {
  createdAt: string;
  id: string;
}

export class CursorCodec {
  readonly #signer: CursorSigner;

  constructor(signer: CursorSigner) {
    this.#signer = signer;
  }

  encode(position: CursorPosition): string {
    return this.#signer.seal(Buffer.from(JSON.stringify([position.createdAt, position.id])));
  }

  decode(cursor: string): CursorPosition {
    let value: unknown;
    try {
      value = JSON.parse(this.#signer.open(cursor).toString('utf8'));
    } catch (error) {
      if (error instanceof InvalidCursorError) throw error;
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
}
