// GET /v1/jobs?owner=…: an admin lists one owner's jobs; any other key may name only its own
// owner (403 otherwise), and its list is its own jobs either way. Both databases.
import { testDatabases } from '@offload/db/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApi, type TestApi } from './harness.ts';

for (const kind of testDatabases()) {
  describe(`GET /v1/jobs?owner (${kind})`, () => {
    let api: TestApi;
    let admin: string;
    let alice: string;
    const ids: Record<string, string[]> = { alice: [], bob: [] };

    beforeAll(async () => {
      api = await startTestApi(kind);
      admin = await api.key('ops', ['admin']);
      alice = await api.key('alice', ['read', 'submit']);
      const runAt = new Date(Date.now() + 3_600_000).toISOString();
      for (const owner of ['alice', 'bob', 'alice'] as const) {
        const sent = await api.queue.send('system.echo', { sleepMs: 0 }, { owner, runAt });
        ids[owner]!.push(sent.job.id);
      }
    });

    afterAll(async () => {
      await api?.close();
    });

    const listed = async (key: string, query: string) => {
      const res = await api.request('GET', `/v1/jobs${query}`, { key });
      expect(res.status).toBe(200);
      return (res.body.items as Array<{ id: string }>).map((job) => job.id).sort();
    };

    it('lets an admin list one owner’s jobs', async () => {
      expect(await listed(admin, '?owner=alice')).toEqual([...ids.alice!].sort());
      expect(await listed(admin, '?owner=bob&kind=system.echo')).toEqual(ids.bob);
      expect(await listed(admin, '?owner=nobody')).toEqual([]);
      expect((await listed(admin, '')).length).toBe(3);
    });

    it('lets another key name only its own owner', async () => {
      expect(await listed(alice, '?owner=alice')).toEqual([...ids.alice!].sort());
      expect(await listed(alice, '')).toEqual([...ids.alice!].sort());
      const refused = await api.request('GET', '/v1/jobs?owner=bob', { key: alice });
      expect(refused.status).toBe(403);
      expect(refused.body.detail).toBe('Only an admin key lists the jobs of another owner.');
      expect((await api.request('GET', '/v1/jobs?owner=', { key: admin })).status).toBe(400);
    });
  });
}
