// GET /v1/jobs?createdFrom&createdBefore&idPrefix: the jobs list by created range and by the
// start of an id, paged by cursor within them; malformed values are 400. Both databases.
import { testDatabases } from '@offload/db/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApi, type TestApi } from './harness.ts';

for (const kind of testDatabases()) {
  describe(`GET /v1/jobs by created range and id (${kind})`, () => {
    let api: TestApi;
    let key: string;
    const ids: string[] = [];

    beforeAll(async () => {
      api = await startTestApi(kind);
      key = await api.key('alice', ['read', 'submit']);
      const runAt = new Date(Date.now() + 3_600_000).toISOString();
      for (let i = 0; i < 3; i += 1) {
        ids.push((await api.queue.send('system.echo', { i }, { owner: 'alice', runAt })).job.id);
      }
    });

    afterAll(async () => {
      await api?.close();
    });

    const listed = async (query: Record<string, string>) => {
      const seen: string[] = [];
      let cursor: string | undefined;
      do {
        const search = new URLSearchParams({ ...query, limit: '1', ...(cursor ? { cursor } : {}) });
        const res = await api.request('GET', `/v1/jobs?${search}`, { key });
        expect(res.status, JSON.stringify(res.body)).toBe(200);
        seen.push(...(res.body.items as Array<{ id: string }>).map((job) => job.id));
        cursor = res.body.nextCursor ?? undefined;
      } while (cursor !== undefined);
      return seen.sort();
    };

    it('lists the jobs created in a range, page by page', async () => {
      const hour = 3_600_000;
      const from = new Date(Date.now() - hour).toISOString();
      expect(await listed({ createdFrom: from })).toEqual([...ids].sort());
      expect(await listed({ createdBefore: from })).toEqual([]);
      expect(await listed({ createdFrom: new Date(Date.now() + hour).toISOString() })).toEqual([]);
    });

    it('finds a job by the start of its id', async () => {
      expect(await listed({ idPrefix: ids[1]! })).toEqual([ids[1]]);
      expect(await listed({ idPrefix: ids[2]!.slice(0, 23).toUpperCase() })).toEqual([ids[2]]);
      const prefix = ids[0]!.slice(0, 4);
      const found = await listed({ idPrefix: prefix });
      expect(found).toContain(ids[0]);
      for (const id of found) expect(id.startsWith(prefix)).toBe(true);
    });

    it('refuses a malformed instant or id prefix, and a cursor of other filters', async () => {
      for (const query of [
        'createdFrom=yesterday',
        'idPrefix=xyz',
        `idPrefix=${'a'.repeat(33)}`,
        'idPrefix=--',
      ]) {
        const res = await api.request('GET', `/v1/jobs?${query}`, { key });
        expect(res.status, query).toBe(400);
      }
      const page = await api.request('GET', `/v1/jobs?limit=1&idPrefix=${ids[0]!.slice(0, 2)}`, { key });
      const cursor = page.body.nextCursor as string | null;
      if (cursor !== null) {
        const other = await api.request('GET', `/v1/jobs?limit=1&cursor=${encodeURIComponent(cursor)}`, {
          key,
        });
        expect(other.status).toBe(400);
      }
    });
  });
}
