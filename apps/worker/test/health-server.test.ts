// The worker's HTTP port: liveness, readiness from its checks, metrics, and nothing else.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type HealthServer, startHealthServer } from '../src/health-server.ts';
import { createWorkerMetrics } from '../src/metrics.ts';

describe('health server', () => {
  let server: HealthServer;
  let databaseUp = true;
  let stopping = false;
  const metrics = createWorkerMetrics({
    kinds: ['system.echo'],
    poolStats: () => ({ capacity: 2, threads: 1, busy: 1, waiting: 0, utilization: 0.5 }),
  });
  const url = (path: string) => `http://127.0.0.1:${server.port}${path}`;

  beforeAll(async () => {
    server = await startHealthServer({
      port: 0,
      host: '127.0.0.1',
      stopping: () => stopping,
      metrics,
      checkTimeoutMs: 200,
      checks: [
        {
          name: 'database',
          run: async () => (databaseUp ? undefined : Promise.reject(new Error('connection refused'))),
        },
        { name: 'queue', run: async () => {} },
      ],
    });
  });
  afterAll(() => server.close());

  it('answers /healthz without checking dependencies', async () => {
    databaseUp = false;
    const res = await fetch(url('/healthz'));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok' });
    databaseUp = true;
  });

  it('answers /readyz from its checks and while stopping', async () => {
    let res = await fetch(url('/readyz'));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      status: 'ready',
      checks: { database: { status: 'ok' }, queue: { status: 'ok' } },
    });

    databaseUp = false;
    res = await fetch(url('/readyz'));
    expect(res.status).toBe(503);
    // The API's readiness body: which check failed, not the driver's message.
    expect(await res.json()).toEqual({
      status: 'unavailable',
      checks: { database: { status: 'failing' }, queue: { status: 'ok' } },
    });
    databaseUp = true;

    stopping = true;
    res = await fetch(url('/readyz'));
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ status: 'stopping' });
    stopping = false;
  });

  it('serves Prometheus metrics with the job and pool series', async () => {
    metrics.attemptStarted('system.echo', 0.02);
    metrics.attemptEnded('system.echo', 'completed', 0.1);
    const res = await fetch(url('/metrics'));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = await res.text();
    expect(text).toMatch(/^offload_worker_jobs_total\{kind="system.echo",state="completed"\} 1$/m);
    expect(text).toMatch(/^offload_worker_jobs_total\{kind="system.echo",state="failed"\} 0$/m);
    expect(text).toMatch(/^offload_worker_job_duration_seconds_count\{kind="system.echo"\} 1$/m);
    expect(text).toMatch(
      /^offload_worker_job_queue_wait_seconds_bucket\{le="0.025",kind="system.echo"\} 1$/m,
    );
    expect(text).toMatch(/^offload_worker_pool_utilization_ratio 0.5$/m);
    expect(text).toMatch(/^process_cpu_user_seconds_total /m);
  });

  it('refuses other paths and methods with problem+json', async () => {
    let res = await fetch(url('/v1/jobs'));
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    res = await fetch(url('/healthz'), { method: 'POST' });
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('GET, HEAD');
  });
});
