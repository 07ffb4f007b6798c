// List cursors as the API hands them out: the backend's own cursor, bound to the list it came
// from (its filters and owner) and signed with the deployment's cursor secret. Whatever a
// backend's cursor looks like, a client can then only hand back a cursor we issued, for the
// same list: anything altered, truncated or taken from another list is a 400.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { InvalidCursorError } from '@offload/db';

const TAG_BYTES = 16;

export class CursorSeal {
  readonly #secret: string;

  constructor(secret: string) {
    if (secret.length < 16) throw new Error('cursor secret must be at least 16 characters');
    this.#secret = secret;
  }

  /** `inner` sealed for the list named by `scope` (e.g. its filters, serialized). */
  seal(inner: string, scope: string): string {
    const body = Buffer.from(inner, 'utf8').toString('base64url');
    return `${body}.${this.#tag(body, scope).toString('base64url')}`;
  }

  /** The backend's cursor, or InvalidCursorError. */
  unseal(sealed: string, scope: string): string {
    const parts = sealed.split('.');
    if (parts.length !== 2) throw new InvalidCursorError();
    const [body, signature] = parts as [string, string];
    const given = Buffer.from(signature, 'base64url');
    const expected = this.#tag(body, scope);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw new InvalidCursorError();
    return Buffer.from(body, 'base64url').toString('utf8');
  }

  #tag(body: string, scope: string): Buffer {
    return createHmac('sha256', this.#secret)
      .update(scope)
      .update('\n')
      .update(body)
      .digest()
      .subarray(0, TAG_BYTES);
  }
}
