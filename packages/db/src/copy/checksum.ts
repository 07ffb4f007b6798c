// An order-independent checksum of a table's rows: the sum, modulo 2^64, of a 64-bit digest of
// each row's canonical text. Adding is commutative, so the two databases may return rows in any
// order; a row lost, added or changed moves the sum (a collision needs two changes whose digests
// cancel, about one chance in 2^64). Each field goes in with its length, and NULL apart from any
// text, so no value can pass for NULL (the text `\N` included) or run into its neighbour.
import { createHash } from 'node:crypto';

const MASK = (1n << 64n) - 1n;

export class RowChecksum {
  #sum = 0n;
  #rows = 0;

  /** Adds one row, given as its fields' canonical texts (null for NULL). */
  add(fields: readonly (string | null)[]): void {
    const digest = createHash('sha1')
      .update(fields.map((f) => (f === null ? 'N;' : `${f.length}:${f};`)).join(''))
      .digest();
    this.#sum = (this.#sum + digest.readBigUInt64BE(0)) & MASK;
    this.#rows += 1;
  }

  get rows(): number {
    return this.#rows;
  }

  /** 16 hex digits. */
  get value(): string {
    return this.#sum.toString(16).padStart(16, '0');
  }
}
