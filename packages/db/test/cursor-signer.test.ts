// The one cursor signer (cursor-signer.ts): what it seals it opens, for the same scope and secret
// only; any altered character, another spelling, another list or another secret is refused.
import { describe, expect, it } from 'vitest';
import { CursorSigner, InvalidCursorError } from '../src/index.ts';

const BASE64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

describe('CursorSigner', () => {
  const signer = new CursorSigner('a-secret-of-enough-length');

  it('round-trips a position for the same list only', () => {
    const sealed = signer.seal('["123","abc"]', 'list-a');
    expect(signer.openText(sealed, 'list-a')).toBe('["123","abc"]');
    expect(() => signer.open(sealed, 'list-b')).toThrow(InvalidCursorError);
    expect(() => signer.open(sealed)).toThrow(InvalidCursorError);
    expect(signer.open(signer.seal(Buffer.from([0, 255, 7])))).toEqual(Buffer.from([0, 255, 7]));
  });

  it('refuses a cursor altered in any character, truncated, extended or respelled', () => {
    const sealed = signer.seal('position', 'list');
    for (let i = 0; i < sealed.length; i += 1) {
      const index = BASE64URL.indexOf(sealed[i]!);
      for (let bit = 1; bit < 64; bit <<= 1) {
        const bad = sealed.slice(0, i) + BASE64URL[index ^ bit] + sealed.slice(i + 1);
        expect(() => signer.open(bad, 'list'), bad).toThrow(InvalidCursorError);
      }
    }
    for (const bad of ['', '.', 'a.b', sealed.slice(0, -1), `${sealed}A`, `${sealed}=`, `${sealed}.x`]) {
      expect(() => signer.open(bad, 'list'), bad).toThrow(InvalidCursorError);
    }
  });

  it('binds the scope without ambiguity and refuses another secret', () => {
    // ('a', 'bc') and ('ab', 'c') must not share a tag: move the boundary and it is refused.
    const sealed = signer.seal('bc', 'a');
    const moved = Buffer.from(sealed, 'base64url').subarray(1).toString('base64url');
    expect(() => signer.open(moved, 'ab')).toThrow(InvalidCursorError);
    expect(() => new CursorSigner('another-secret-entirely').open(sealed, 'a')).toThrow(InvalidCursorError);
    expect(() => new CursorSigner('short')).toThrow();
  });
});
