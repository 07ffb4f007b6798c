// The database going away and coming back, for real: the API reaches PostgreSQL through a TCP
// proxy the test controls. Cutting the proxy (every connection reset, new ones refused) is
// what a database restart or a network partition looks like to the pool. While it is down,
// requests answer 503 problems and /readyz fails, /healthz stays up and the process keeps
// running; once it is back, both recover without a restart.

import { testDatabases } from '@offload/db/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CuttableProxy, startProxiedApi } from './cuttable-proxy.ts';
import { eventually, type TestApi } from './harness.ts';

const pgAvailable = testDatabases().includes('postgres');

describe.skipIf(!pgAvailable)('database outage (postgres)', () => {
  let stack: Awaited<ReturnType<typeof startProxiedApi>>;
  let proxy: CuttableProxy;
  let api: TestApi;
  let key: string;

  beforeAll(async () => {
    stack = await startProxiedApi();
    ({ api, proxy } = stack);
    key = await api.key('outage', ['submit', 'read']);
  });
  afterAll(() => stack?.close());

  it('answers 503 while the database is away and recovers by itself when it returns', async () => {
    const submit = () =>
      api.request('POST', '/v1/jobs', { key, body: { kind: 'system.echo', payload: { sleepMs: 1 } } });
    expect((await submit()).status).toBe(202);
    expect((await api.request('GET', '/readyz')).status).toBe(200);

    await proxy.down();
    const down = await submit();
    expect(down.status).toBe(503);
    expect(down.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(down.headers.get('retry-after')).toBe('1');
    expect(down.body).toMatchObject({ status: 503, type: 'urn:offload:problem:database-unavailable' });
    const list = await api.request('GET', '/v1/jobs', { key });
    expect(list.status).toBe(503);
    const ready = await api.request('GET', '/readyz');
    expect(ready.status).toBe(503);
    // Which check failed, never the driver's message (no host, no port, no SQL).
    expect(ready.body).toEqual({
      status: 'unavailable',
      checks: {
        database: { status: 'failing' },
        queue: expect.objectContaining({ status: expect.any(String) }),
      },
    });
    expect((await api.request('GET', '/healthz')).status).toBe(200);

    await proxy.up();
    await eventually('the API to recover', async () => (await submit()).status === 202, 30_000);
    await eventually(
      'readiness to recover',
      async () => (await api.request('GET', '/readyz')).status === 200,
      30_000,
    );
    expect((await api.request('GET', '/v1/jobs', { key })).status).toBe(200);
  });
});
