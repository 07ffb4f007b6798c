// Every error class answers an RFC 9457 problem document: unknown route, wrong method, rate
// limit, and the mapping of database, pagination and body-parser errors.
import {
  ConflictError,
  InvalidCursorError,
  InvalidPageError,
  NotFoundError,
  TransientError,
} from '@offload/db';
import { testDatabases } from '@offload/db/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpProblem, toProblem } from '../src/problem.ts';
import { startTestApi, type TestApi } from './harness.ts';

const PROBLEM = /^application\/problem\+json/;

for (const kind of testDatabases()) {
  describe(`errors (${kind})`, () => {
    let api: TestApi;
    let key: string;

    beforeAll(async () => {
      api = await startTestApi(kind, { settings: { rateLimitPerSecond: 1, rateLimitBurst: 3 } });
      key = await api.key('errors', ['submit', 'read']);
    });
    afterAll(() => api?.close());

    it('answers an unknown route with a 404 problem, with or without a key', async () => {
      for (const path of ['/v1/nope', '/nope', '/v1/jobs/x/y/z']) {
        const res = await api.request('GET', path);
        expect(res.status, path).toBe(404);
        expect(res.headers.get('content-type')).toMatch(PROBLEM);
        expect(res.body).toMatchObject({
          type: 'about:blank',
          title: 'Not Found',
          status: 404,
          instance: path,
        });
        expect(res.body.detail).toEqual(expect.any(String));
        expect(res.body.requestId).toBe(res.headers.get('x-request-id'));
      }
    });

    it('answers a wrong method on a known route with 405 and Allow', async () => {
      const cases: Array<[string, string, string]> = [
        ['DELETE', '/v1/jobs', 'GET, HEAD, POST, OPTIONS'],
        ['PUT', '/v1/jobs/abc', 'GET, HEAD, OPTIONS'],
        ['GET', '/v1/jobs/abc/cancel', 'POST, OPTIONS'],
        ['POST', '/v1/queues', 'GET, HEAD, OPTIONS'],
        ['POST', '/healthz', 'GET, HEAD, OPTIONS'],
        ['PATCH', '/v1/schedules/nightly', 'GET, HEAD, PUT, DELETE, OPTIONS'],
      ];
      for (const [method, path, allow] of cases) {
        const res = await api.request(method, path, { key });
        expect(res.status, `${method} ${path}`).toBe(405);
        expect(res.headers.get('allow')).toBe(allow);
        expect(res.headers.get('content-type')).toMatch(PROBLEM);
        expect(res.body).toMatchObject({ title: 'Method Not Allowed', status: 405, instance: path });
      }
      const options = await api.request('OPTIONS', '/v1/jobs');
      expect(options.status).toBe(204);
      expect(options.headers.get('allow')).toBe('GET, HEAD, POST, OPTIONS');
    });

    it('limits each key: 429 with Retry-After once the burst is spent, other keys unaffected', async () => {
      const limited = await api.key('limited', ['read']);
      const statuses: number[] = [];
      let last: Awaited<ReturnType<TestApi['request']>> | undefined;
      for (let i = 0; i < 5; i += 1) {
        last = await api.request('GET', '/v1/jobs', { key: limited });
        statuses.push(last.status);
      }
      expect(statuses.slice(0, 3)).toEqual([200, 200, 200]);
      expect(statuses.at(-1)).toBe(429);
      expect(last!.headers.get('content-type')).toMatch(PROBLEM);
      expect(Number(last!.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(last!.body.type).toBe('urn:offload:problem:rate-limited');
      const other = await api.key('other', ['read']);
      expect((await api.request('GET', '/v1/jobs', { key: other })).status).toBe(200);
      const metrics = await api.request('GET', '/metrics');
      expect(metrics.body).toMatch(/offload_api_rate_limited_requests_total [1-9]/);
    });
  });
}

describe('problem mapping', () => {
  it('maps database errors: transient 503 with Retry-After, not found 404, conflict 409', () => {
    const transient = toProblem(new TransientError('connection lost', 'ECONNRESET'));
    expect(transient.status).toBe(503);
    expect(transient.headers['Retry-After']).toBe('1');
    // Raw driver errors go through toDbError first.
    expect(
      toProblem(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }))
        .status,
    ).toBe(503);
    expect(toProblem(Object.assign(new Error('terminating connection'), { code: '57P01' })).status).toBe(503);
    expect(
      toProblem(
        Object.assign(new Error('Knex: Timeout acquiring a connection'), { name: 'KnexTimeoutError' }),
      ).status,
    ).toBe(503);
    expect(toProblem(new NotFoundError('model', 3)).status).toBe(404);
    expect(toProblem(new ConflictError('unique', 'models_external_id_unique')).status).toBe(409);
    expect(toProblem(Object.assign(new Error('dup'), { code: '23505' })).status).toBe(409);
  });

  it('maps page errors to 400 naming the parameter, and anything else to 500', () => {
    expect(toProblem(new InvalidPageError('limit must be…'))).toMatchObject({
      status: 400,
      errors: [{ parameter: 'limit', detail: 'limit must be…' }],
    });
    expect(toProblem(new InvalidCursorError())).toMatchObject({
      status: 400,
      errors: [{ parameter: 'cursor' }],
    });
    const unexpected = toProblem(new Error('secret internals'));
    expect(unexpected.status).toBe(500);
    expect(unexpected.message).not.toMatch(/secret/);
    const mine = new HttpProblem(418, 'teapot');
    expect(toProblem(mine)).toBe(mine);
  });
});
