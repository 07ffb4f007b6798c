// What the API's log says of an expected 503: one line at warn naming the problem, no stack
// (a report not computed yet is a state the service goes through, not a fault to chase).
import { testDatabases } from '@offload/db/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { capturingLogger, startTestApi, type TestApi } from './harness.ts';

for (const kind of testDatabases()) {
  describe(`logging of expected 503s (${kind})`, () => {
    let api: TestApi;
    const lines: Array<Record<string, unknown>> = [];

    beforeAll(async () => {
      api = await startTestApi(kind, { logger: capturingLogger(lines) });
    });
    afterAll(() => api?.close());

    it('logs a snapshot-pending 503 once, at warn, without a stack', async () => {
      const key = await api.key('reader', ['read']);
      const res = await api.request('GET', '/v1/kpi', { key, headers: { 'x-request-id': 'pending-kpi-1' } });
      expect(res.status).toBe(503);
      const mine = lines.filter((line) => line.requestId === 'pending-kpi-1');
      expect(mine).toHaveLength(1);
      expect(mine[0]).toMatchObject({
        level: 40,
        status: 503,
        problem: { type: 'urn:offload:problem:snapshot-pending' },
      });
      expect(JSON.stringify(mine[0])).not.toContain('stack');
    });
  });
}
