// The operators' side through HTTP, on both databases: queues, schedules, workers, system
// health, metrics, the OpenAPI document, readiness, request logs and Server-Timing.
import { Writable } from 'node:stream';
import { testDatabases } from '@offload/db/testing';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startTestApi, type TestApi } from './harness.ts';

const ECHO = 'system.echo';

/** A pino logger whose lines land in `lines`, parsed. */
function capturingLogger() {
  // biome-ignore lint/suspicious/noExplicitAny: log lines are JSON the assertions walk into
  const lines: Array<Record<string, any>> = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n')) if (line.trim() !== '') lines.push(JSON.parse(line));
      done();
    },
  });
  return { lines, logger: pino({ level: 'info' }, sink) };
}

for (const kind of testDatabases()) {
  describe(`operations (${kind})`, () => {
    let api: TestApi;
    let admin: string;
    let user: string;
    const log = capturingLogger();

    beforeAll(async () => {
      api = await startTestApi(kind, { logger: log.logger, options: { slowRequestMs: 100_000 } });
      admin = await api.key('ops', ['admin']);
      user = await api.key('carol', ['submit', 'read']);
    });
    afterAll(() => api?.close());

    it('reports queue depth, running and throughput fields per kind', async () => {
      for (let i = 0; i < 3; i += 1) {
        await api.request('POST', '/v1/jobs', { key: user, body: { kind: ECHO, payload: { sleepMs: 0 } } });
      }
      const runAt = new Date(Date.now() + 3_600_000).toISOString();
      await api.request('POST', '/v1/jobs', {
        key: user,
        body: { kind: ECHO, payload: { sleepMs: 0 }, runAt },
      });
      const res = await api.request('GET', '/v1/queues', { key: user });
      expect(res.status).toBe(200);
      const echo = res.body.items.find((item: { kind: string }) => item.kind === ECHO);
      expect(echo).toMatchObject({
        kind: ECHO,
        depth: 4,
        queued: 4,
        ready: 3,
        scheduled: 1,
        scheduledCapped: false,
        running: 0,
        failed: 0,
      });
      expect(echo).toHaveProperty('oldestAgeSeconds');
      expect(echo).toHaveProperty('completedPerMinute');
      expect(res.body.measuredAt).toEqual(expect.any(String));
    });

    describe('schedules', () => {
      const body = { cron: '*/5 * * * *', kind: ECHO, payload: { sleepMs: 1 }, options: { priority: 2 } };

      it('creates (201), reads, lists, replaces (200) and deletes (204) a schedule', async () => {
        const created = await api.request('PUT', '/v1/schedules/nightly-echo', { key: admin, body });
        expect(created.status).toBe(201);
        expect(created.headers.get('location')).toBe('/v1/schedules/nightly-echo');
        expect(created.body).toEqual({
          name: 'nightly-echo',
          timezone: 'UTC',
          ...body,
          paused: false,
          nextRunAt: expect.stringMatching(/:[0-5][05]:00\.000Z$/),
          lastRunAt: null,
          lastJobId: null,
        });

        const got = await api.request('GET', '/v1/schedules/nightly-echo', { key: user });
        expect(got.status).toBe(200);
        expect(got.body).toMatchObject({
          name: 'nightly-echo',
          cron: '*/5 * * * *',
          kind: ECHO,
          payload: { sleepMs: 1 },
        });

        const replaced = await api.request('PUT', '/v1/schedules/nightly-echo', {
          key: admin,
          body: { ...body, cron: '0 3 * * *', timezone: 'Europe/Paris' },
        });
        expect(replaced.status).toBe(200);
        const list = await api.request('GET', '/v1/schedules', { key: user });
        expect(list.body.items).toEqual([
          expect.objectContaining({ name: 'nightly-echo', cron: '0 3 * * *', timezone: 'Europe/Paris' }),
        ]);

        expect((await api.request('DELETE', '/v1/schedules/nightly-echo', { key: admin })).status).toBe(204);
        expect((await api.request('DELETE', '/v1/schedules/nightly-echo', { key: admin })).status).toBe(404);
        expect((await api.request('GET', '/v1/schedules/nightly-echo', { key: user })).status).toBe(404);
      });

      it('shows the last run and its job, and pauses and resumes a schedule (admin)', async () => {
        const every = { ...body, cron: '* * * * *' };
        expect((await api.request('PUT', '/v1/schedules/minutely', { key: admin, body: every })).status).toBe(
          201,
        );
        const minute = Math.ceil(Date.now() / 60_000) * 60_000;
        const [sent] = (await api.queue.backend.scheduleFireDue(new Date(minute + 10))).filter(
          (job) => job.meta['schedule'] === 'minutely',
        );
        const got = await api.request('GET', '/v1/schedules/minutely', { key: user });
        expect(got.body).toMatchObject({
          paused: false,
          lastRunAt: new Date(minute).toISOString(),
          lastJobId: sent!.id,
          nextRunAt: expect.any(String),
        });

        expect((await api.request('POST', '/v1/schedules/minutely/pause', { key: user })).status).toBe(403);
        const paused = await api.request('POST', '/v1/schedules/minutely/pause', { key: admin });
        expect(paused.status).toBe(200);
        expect(paused.body).toMatchObject({ paused: true, nextRunAt: null, lastJobId: sent!.id });
        const list = await api.request('GET', '/v1/schedules', { key: user });
        expect(list.body.items).toEqual([expect.objectContaining({ name: 'minutely', paused: true })]);
        expect(
          (await api.queue.backend.scheduleFireDue(new Date(minute + 60_010))).filter(
            (job) => job.meta['schedule'] === 'minutely',
          ),
        ).toEqual([]);
        const resumed = await api.request('POST', '/v1/schedules/minutely/resume', { key: admin });
        expect(resumed.body).toMatchObject({ paused: false, nextRunAt: expect.any(String) });
        expect((await api.request('POST', '/v1/schedules/nope/resume', { key: admin })).status).toBe(404);
        expect((await api.request('DELETE', '/v1/schedules/minutely', { key: admin })).status).toBe(204);
      });

      it('refuses a bad cron, time zone or payload (422 naming each) and needs admin to write', async () => {
        const bad = await api.request('PUT', '/v1/schedules/bad', {
          key: admin,
          body: { cron: '61 * * * *', timezone: 'Mars/Olympus', kind: ECHO, payload: { sleepMs: 'x' } },
        });
        expect(bad.status).toBe(422);
        expect(bad.body.errors.map((error: { pointer: string }) => error.pointer).sort()).toEqual([
          '#/cron',
          '#/timezone',
        ]);
        const payload = await api.request('PUT', '/v1/schedules/bad', {
          key: admin,
          body: { ...body, payload: { sleepMs: 'x' } },
        });
        expect(payload.status).toBe(422);
        expect(payload.body.errors[0].pointer).toBe('#/payload/sleepMs');
        const name = await api.request('PUT', '/v1/schedules/bad%20name', { key: admin, body });
        expect(name.status).toBe(400);
        expect((await api.request('PUT', '/v1/schedules/mine', { key: user, body })).status).toBe(403);
      });
    });

    it('lists live workers from the registry, leaving out stale ones (admin only)', async () => {
      const { knex } = api.testDb.db;
      if (!(await knex.schema.hasTable('worker_registry'))) {
        // Until packages/db's migration creates it, make the table as the worker writes it.
        await knex.schema.createTable('worker_registry', (t) => {
          t.text('id').primary();
          t.text('host').notNullable();
          t.integer('pid').notNullable();
          t.integer('concurrency').notNullable();
          t.integer('running').notNullable();
          t.text('kinds').notNullable();
          t.text('started_at').notNullable();
          t.text('last_heartbeat_at').notNullable();
        });
      }
      const now = Date.now();
      const row = (id: string, heartbeatAgoMs: number) => ({
        id,
        host: 'box',
        pid: 100,
        concurrency: 4,
        running: 1,
        kinds: JSON.stringify([ECHO]),
        started_at: new Date(now - 600_000).toISOString(),
        last_heartbeat_at: new Date(now - heartbeatAgoMs).toISOString(),
      });
      await knex('worker_registry').insert([row('box:100:live', 5_000), row('box:101:dead', 120_000)]);
      const res = await api.request('GET', '/v1/workers', { key: admin });
      expect(res.status).toBe(200);
      expect(res.body.items).toEqual([
        expect.objectContaining({
          id: 'box:100:live',
          host: 'box',
          pid: 100,
          concurrency: 4,
          running: 1,
          kinds: [ECHO],
        }),
      ]);
      expect((await api.request('GET', '/v1/workers', { key: user })).status).toBe(403);
    });

    it('reports system health to admins', async () => {
      const res = await api.request('GET', '/v1/health', { key: admin });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({
        status: 'ok',
        version: '0.0.0-test',
        database: { dialect: kind, ok: true, pool: { inUse: expect.any(Number) } },
      });
      expect(res.body.database.latencyMs).toBeGreaterThanOrEqual(0);
      expect(res.body.uptimeSeconds).toBeGreaterThanOrEqual(0);
      expect(res.body.queues).toContainEqual(
        expect.objectContaining({ kind: ECHO, depth: expect.any(Number) }),
      );
      expect((await api.request('GET', '/v1/health', { key: user })).status).toBe(403);
    });

    it('is ready and alive', async () => {
      const ready = await api.request('GET', '/readyz');
      expect(ready.status).toBe(200);
      expect(ready.body).toEqual({
        status: 'ready',
        checks: { database: { status: 'ok' }, queue: { status: 'ok' } },
      });
      expect((await api.request('GET', '/healthz')).status).toBe(200);
      // The names the original requirements use answer the same.
      expect((await api.request('GET', '/ready')).body).toEqual(ready.body);
      expect((await api.request('GET', '/health')).body).toEqual({ status: 'ok' });
    });

    it('exposes Prometheus metrics labelled by route pattern, never by raw URL', async () => {
      const job = await api.request('POST', '/v1/jobs', {
        key: user,
        body: { kind: ECHO, payload: { sleepMs: 0 } },
      });
      await api.request('GET', `/v1/jobs/${job.body.id}`, { key: user });
      await api.request('GET', '/v1/no/such/route');
      const res = await api.request('GET', '/metrics');
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
      const text: string = res.body;
      expect(text).toMatch(
        /offload_api_http_request_duration_seconds_bucket\{le="[^"]+",method="GET",route="\/v1\/jobs\/:id",status_code="200"\}/,
      );
      expect(text).toMatch(/route="unmatched",status_code="404"/);
      expect(text).not.toContain(job.body.id);
      expect(text).toMatch(/offload_queue_depth\{kind="system\.echo"\} \d+/);
      expect(text).toMatch(/offload_queue_oldest_job_age_seconds\{kind="system\.echo"\}/);
      expect(text).toMatch(/offload_queue_jobs\{kind="system\.echo",state="queued"\} \d+/);
      expect(text).toMatch(/offload_db_query_duration_seconds_count [1-9]/);
      expect(text).toMatch(/offload_db_pool_connections\{state="in_use"\}/);
      expect(text).toMatch(/offload_db_pool_pending_acquires \d+/);
    });

    it('serves an OpenAPI 3.1 document generated from the request schemas', async () => {
      const res = await api.request('GET', '/v1/openapi.json');
      expect(res.status).toBe(200);
      const doc = res.body;
      expect(doc.openapi).toBe('3.1.0');
      expect(Object.keys(doc.paths)).toEqual(
        expect.arrayContaining([
          '/v1/jobs',
          '/v1/jobs/{id}',
          '/v1/jobs/{id}/events',
          '/v1/queues',
          '/v1/schedules/{name}',
        ]),
      );
      const submit = doc.components.schemas.SubmitJob;
      const echo = submit.anyOf.find(
        (variant: { properties: { kind: { const: string } } }) => variant.properties.kind.const === ECHO,
      );
      expect(echo.properties.payload).toMatchObject({
        additionalProperties: false,
        required: ['sleepMs'],
        properties: { sleepMs: { minimum: 0, maximum: 600_000 } },
      });
      expect(echo.additionalProperties).toBe(false);
      expect(doc.components.schemas.JobPage.properties.items.items).toEqual({
        $ref: '#/components/schemas/Job',
      });
      const limit = doc.paths['/v1/jobs'].get.parameters.find((p: { name: string }) => p.name === 'limit');
      expect(limit).toMatchObject({ in: 'query', required: false });
    });

    it('logs one line per request with its id, route and status; never the key; Server-Timing', async () => {
      log.lines.length = 0;
      const res = await api.request('GET', '/v1/jobs?limit=1', {
        key: user,
        headers: { 'x-request-id': 'trace-77' },
      });
      expect(res.status).toBe(200);
      const timing = res.headers.get('server-timing');
      expect(timing).toMatch(/^db;desc="\d+ queries";dur=\d+(\.\d+)?, queue;desc="1 call";dur=\d+(\.\d+)?$/);
      expect(Number(/"(\d+) queries"/.exec(timing!)![1])).toBeGreaterThanOrEqual(1);
      await eventually('the request line', () => log.lines.some((line) => line.requestId === 'trace-77'));
      const lines = log.lines.filter((line) => line.requestId === 'trace-77');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatchObject({
        level: 30,
        msg: 'request',
        method: 'GET',
        route: '/v1/jobs',
        status: 200,
        owner: 'carol',
        dbQueries: expect.any(Number),
        queueCalls: 1,
        queueMs: expect.any(Number),
      });
      expect(JSON.stringify(log.lines)).not.toContain(user);
    });
  });
}

describe('slow requests', () => {
  it('logs a warning for a request slower than LOG_SLOW_REQUEST_MS', async () => {
    const log = capturingLogger();
    const api = await startTestApi(testDatabases()[0]!, {
      logger: log.logger,
      options: { slowRequestMs: 0 },
    });
    try {
      await api.request('GET', '/healthz', { headers: { 'x-request-id': 'slow-1' } });
      const line = await eventually('the request line', () =>
        log.lines.find((entry) => entry.requestId === 'slow-1'),
      );
      expect(line).toMatchObject({ level: 40, msg: 'slow request', route: '/healthz' });
    } finally {
      await api.close();
    }
  });
});
