import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  InvalidCursorError,
  InvalidPageError,
  type OrderBy,
  paginate,
  parsePageParams,
  setDefaultCursorSecret,
} from '../src/index.ts';
import { decodeCursor, encodeCursor } from '../src/pagination.ts';
import { createTestDb, type TestDb, testDatabases } from '../src/testing.ts';

interface KeyRow {
  id: number;
  name: string;
  owner: string;
  created_at: string;
}

const SECRET = 'test-secret-of-sixteen-bytes-or-more';

// 137 keys over 5 owners and 4 instants, so every sort has long runs of equal leading values.
const ROWS = 137;
const OWNERS = ['ana', 'bo', 'cy', 'di', 'ed'];
const INSTANTS = [
  '2026-01-01T00:00:00.000Z',
  '2026-01-01T00:00:00.001Z',
  '2026-02-01T12:00:00.500Z',
  '2026-03-01T23:59:59.999Z',
];

for (const kind of testDatabases()) {
  describe(kind, () => {
    let t: TestDb;
    let all: KeyRow[];
    beforeAll(async () => {
      t = await createTestDb(kind);
      await t.db.knex('api_keys').insert(
        Array.from({ length: ROWS }, (_, i) => ({
          name: `key-${String(i).padStart(3, '0')}`,
          owner: OWNERS[(i * 7) % OWNERS.length],
          key_hash: `hash-${i}`,
          created_at: INSTANTS[(i * 3) % INSTANTS.length],
        })),
      );
      all = await t.db.knex('api_keys').select('id', 'name', 'owner', 'created_at');
    });
    afterAll(() => t?.destroy());

    async function walk(orderBy: OrderBy[], limit: number, filter?: (q: ReturnType<typeof base>) => void) {
      const pages: KeyRow[][] = [];
      let cursor: string | null = null;
      do {
        const query = base();
        filter?.(query);
        const page: { items: KeyRow[]; nextCursor: string | null } = await paginate<KeyRow>(query, {
          orderBy,
          cursor,
          limit,
          secret: SECRET,
        });
        pages.push(page.items);
        cursor = page.nextCursor;
        expect(pages.length).toBeLessThan(200); // a broken cursor would loop forever
      } while (cursor !== null);
      return pages;
    }
    const base = () => t.db.knex('api_keys').select('id', 'name', 'owner', 'created_at');

    function sorted(rows: KeyRow[], orderBy: OrderBy[]) {
      return [...rows].sort((a, b) => {
        for (const { column, direction = 'asc' } of orderBy) {
          const x = a[column as keyof KeyRow];
          const y = b[column as keyof KeyRow];
          if (x !== y) return (x < y ? -1 : 1) * (direction === 'desc' ? -1 : 1);
        }
        return 0;
      });
    }

    it.each<[string, OrderBy[], number]>([
      ['id', [{ column: 'id' }], 50],
      ['owner, id', [{ column: 'owner' }, { column: 'id' }], 10],
      [
        'created_at desc, id desc',
        [
          { column: 'created_at', direction: 'desc' },
          { column: 'id', direction: 'desc' },
        ],
        7,
      ],
      [
        'owner asc, created_at desc, id asc',
        [{ column: 'owner' }, { column: 'created_at', direction: 'desc' }, { column: 'id' }],
        13,
      ],
    ])('walks every row once, in order, by %s', async (_name, orderBy, limit) => {
      const pages = await walk(orderBy, limit);
      expect(pages.flat()).toEqual(sorted(all, orderBy));
      expect(pages).toHaveLength(Math.ceil(ROWS / limit));
      for (const page of pages.slice(0, -1)) expect(page).toHaveLength(limit);
    });

    it('keeps the query’s own filters on every page', async () => {
      const orderBy: OrderBy[] = [{ column: 'created_at' }, { column: 'id' }];
      const pages = await walk(orderBy, 4, (q) => q.whereIn('owner', ['ana', 'cy']));
      expect(pages.flat()).toEqual(
        sorted(
          all.filter((r) => r.owner === 'ana' || r.owner === 'cy'),
          orderBy,
        ),
      );
    });

    it('ends without an empty page when the last page is exactly full', async () => {
      const pages = await walk([{ column: 'id' }], 1, (q) => q.where('owner', 'bo'));
      const bo = all.filter((r) => r.owner === 'bo').length;
      expect(pages).toHaveLength(bo);
      const exact = await paginate(base().where('owner', 'bo'), {
        orderBy: [{ column: 'id' }],
        cursor: null,
        limit: bo,
        secret: SECRET,
      });
      expect(exact.items).toHaveLength(bo);
      expect(exact.nextCursor).toBeNull();
    });

    it('accepts a qualified column and reads its key from the row', async () => {
      const first = await paginate<KeyRow>(base(), {
        orderBy: [{ column: 'api_keys.id' }],
        cursor: null,
        limit: 2,
        secret: SECRET,
      });
      const second = await paginate<KeyRow>(base(), {
        orderBy: [{ column: 'api_keys.id' }],
        cursor: first.nextCursor,
        limit: 2,
        secret: SECRET,
      });
      expect(second.items[0]!.id).toBeGreaterThan(first.items[1]!.id);
    });

    it('refuses a tampered cursor', async () => {
      const { nextCursor } = await paginate<KeyRow>(base(), {
        orderBy: [{ column: 'id' }],
        cursor: null,
        limit: 5,
        secret: SECRET,
      });
      // The key's JSON, then a 16-byte tag (cursor-signer.ts): swap in another key, keep the tag.
      const bytes = Buffer.from(nextCursor!, 'base64url');
      const tag = bytes.subarray(bytes.length - 16);
      const forged = Buffer.concat([Buffer.from(JSON.stringify([0])), tag]).toString('base64url');
      const flipped = `${nextCursor!.startsWith('A') ? 'B' : 'A'}${nextCursor!.slice(1)}`;
      const body = bytes.subarray(0, bytes.length - 16).toString('base64url');
      for (const cursor of [forged, flipped, body, `${nextCursor}.x`, 'garbage', '%%%.%%%']) {
        await expect(
          paginate(base(), { orderBy: [{ column: 'id' }], cursor, limit: 5, secret: SECRET }),
        ).rejects.toBeInstanceOf(InvalidCursorError);
        expect(() => parsePageParams({ cursor }, { secret: SECRET })).toThrow(InvalidCursorError);
      }
    });

    it('refuses a cursor signed under another secret or for another sort', async () => {
      const other = encodeCursor([5], { secret: 'another-secret-sixteen' });
      await expect(
        paginate(base(), { orderBy: [{ column: 'id' }], cursor: other, limit: 5, secret: SECRET }),
      ).rejects.toBeInstanceOf(InvalidCursorError);
      const twoColumns = encodeCursor(['ana', 5], { secret: SECRET });
      await expect(
        paginate(base(), { orderBy: [{ column: 'id' }], cursor: twoColumns, limit: 5, secret: SECRET }),
      ).rejects.toBeInstanceOf(InvalidCursorError);
    });

    it('refuses limit 101', async () => {
      await expect(
        paginate(base(), { orderBy: [{ column: 'id' }], cursor: null, limit: 101, secret: SECRET }),
      ).rejects.toBeInstanceOf(InvalidPageError);
    });
  });
}

describe('parsePageParams', () => {
  it('defaults to 50 and the first page', () => {
    expect(parsePageParams({})).toEqual({ limit: 50, cursor: null });
    expect(parsePageParams({ cursor: '' })).toEqual({ limit: 50, cursor: null });
  });

  it.each([1, 100, '1', '100', '050'])('accepts limit %j', (limit) => {
    expect(parsePageParams({ limit }).limit).toBe(Number(limit));
  });

  it.each([101, 0, -1, 1.5, '101', '0', '-1', '2.5', 'abc', '', ' 5', '1e2', ['5'], true])(
    'refuses limit %j instead of clamping it',
    (limit) => {
      expect(() => parsePageParams({ limit })).toThrow(InvalidPageError);
    },
  );

  it('names the range in its message', () => {
    expect(() => parsePageParams({ limit: '101' })).toThrow(
      'limit must be an integer from 1 to 100 (got "101")',
    );
  });

  it('returns a cursor it verified', () => {
    const cursor = encodeCursor(['2026-01-01T00:00:00.000Z', 7], { secret: SECRET });
    expect(parsePageParams({ cursor, limit: '10' }, { secret: SECRET })).toEqual({ cursor, limit: 10 });
    expect(decodeCursor(cursor, { secret: SECRET })).toEqual(['2026-01-01T00:00:00.000Z', 7]);
    expect(() => parsePageParams({ cursor: 42 })).toThrow(InvalidCursorError);
  });

  it('uses the process default secret unless given one', () => {
    setDefaultCursorSecret('process-wide-secret-123');
    const cursor = encodeCursor([1]);
    expect(parsePageParams({ cursor }).cursor).toBe(cursor);
    expect(() => parsePageParams({ cursor }, { secret: SECRET })).toThrow(InvalidCursorError);
    expect(() => setDefaultCursorSecret('short')).toThrow();
  });
});
