// utcIso, the PostgreSQL driver's fast path from timestamptz text to ISO: UTC text in the ISO
// DateStyle only; anything else is left to node-postgres's own parser (null).
import { describe, expect, it } from 'vitest';
import { utcIso } from '../src/drivers/postgres/rows.ts';

describe('utcIso', () => {
  it('slices UTC text in the ISO DateStyle, milliseconds truncated', () => {
    expect(utcIso('2026-12-08 00:44:48+00')).toBe('2026-12-08T00:44:48.000Z');
    expect(utcIso('2026-12-08 00:44:48.1+00')).toBe('2026-12-08T00:44:48.100Z');
    expect(utcIso('2026-12-08 00:44:48.123456+00')).toBe('2026-12-08T00:44:48.123Z');
  });

  it('leaves every other form to the parser', () => {
    expect(utcIso('2026-12-08 01:44:48.123+01')).toBeNull(); // another session time zone
    expect(utcIso('08/12/2026 00:44:48.12345 +00')).toBeNull(); // DateStyle SQL, same length
    expect(utcIso('08.12.2026 00:44:48.12345 +00')).toBeNull(); // DateStyle German
    expect(utcIso('Tue Dec 08 00:44:48 2026 UTC')).toBeNull(); // DateStyle Postgres
    expect(utcIso('infinity')).toBeNull();
    expect(utcIso('12026-12-08 00:44:48+00')).toBeNull();
  });
});
