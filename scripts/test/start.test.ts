// `npm start` for real, as a terminal runs it, on both databases: the first run on an empty
// database seeds the demo inventory and computes the reports before the API answers, so the
// precomputed reads answer at the first try; one Ctrl-C (SIGINT to the whole process group)
// lets the worker finish its running job and every process exit, leaving no job active; a
// second Ctrl-C later stops at once.
import { type ChildProcess, spawn } from 'node:child_process';
import { createTestDb, freePort, type TestDb, testDatabases } from '@offload/db/testing';
import { createQueueBackend, Queue } from '@offload/queue';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const KEY = 'start-test-admin-key-0123456789';

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

interface Stack {
  child: ChildProcess;
  output: string[];
  exited: Promise<number | null>;
  url: string;
}

async function startStack(databaseUrl: string): Promise<Stack> {
  const port = await freePort();
  const workerPort = await freePort();
  // Its own process group, as a terminal's foreground job: `kill(-pid)` is the terminal's Ctrl-C.
  const child = spawn(process.execPath, ['scripts/start.ts'], {
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      DATABASE_URL: databaseUrl,
      PORT: String(port),
      WORKER_PORT: String(workerPort),
      API_BOOTSTRAP_KEY: KEY,
      LOG_LEVEL: 'warn',
      WORKER_SHUTDOWN_TIMEOUT_MS: '30000',
    },
  });
  const output: string[] = [];
  child.stdout!.on('data', (chunk) => output.push(String(chunk)));
  child.stderr!.on('data', (chunk) => output.push(String(chunk)));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output, exited, url: `http://127.0.0.1:${port}` };
}

const api = (stack: Stack, method: string, path: string, body?: unknown) =>
  fetch(stack.url + path, {
    method,
    headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });

async function activeJob(stack: Stack, sleepMs: number): Promise<string> {
  const res = await api(stack, 'POST', '/v1/jobs', { kind: 'system.echo', payload: { sleepMs } });
  expect(res.status).toBe(202);
  const { id } = (await res.json()) as { id: string };
  await until(
    'the job to start',
    async () => {
      const job = (await (await api(stack, 'GET', `/v1/jobs/${id}`)).json()) as { state: string };
      return job.state === 'active' ? true : undefined;
    },
    60_000,
  );
  return id;
}

for (const kind of testDatabases()) {
  describe(`npm start (${kind})`, () => {
    let testDb: TestDb;

    beforeAll(async () => {
      testDb = await createTestDb(kind);
    });
    afterAll(() => testDb?.destroy());

    it('answers every read at the first try, and one Ctrl-C drains: no job is left active', async () => {
      const stack = await startStack(testDb.databaseUrl);
      try {
        await until(
          'the API to be ready',
          async () => ((await fetch(`${stack.url}/readyz`)).ok ? true : undefined),
          180_000,
        );
        for (const path of ['/v1/kpi', '/v1/reports/regional-compliance', '/v1/dashboard', '/v1/models']) {
          const res = await api(stack, 'GET', path);
          expect(res.status, `${path}: ${stack.output.join('')}`).toBe(200);
        }
        const dashboard = (await (await api(stack, 'GET', '/v1/dashboard')).json()) as Record<
          string,
          unknown
        >;
        expect(dashboard.kpi).not.toBeNull();
        expect(dashboard.compliance).not.toBeNull();
        const kpi = (await (await api(stack, 'GET', '/v1/kpi')).json()) as {
          asOf: string;
          health: Record<string, number>;
        };
        expect(kpi.asOf).toBe(new Date().toISOString().slice(0, 10));
        // The seeded metric points reach today: the analysis judged the monitored models.
        expect(kpi.health.ok + kpi.health.warn + kpi.health.alert).toBeGreaterThan(0);

        const id = await activeJob(stack, 3000);
        process.kill(-stack.child.pid!, 'SIGINT');
        expect(await stack.exited, stack.output.join('')).toBe(0);

        const backend = await createQueueBackend(testDb.databaseUrl);
        await backend.start({ maintenance: false });
        try {
          const queue = new Queue(backend);
          expect((await queue.get(id))?.state).toBe('completed');
          expect((await queue.list({ state: 'active', limit: 100, cursor: null })).items).toEqual([]);
        } finally {
          await backend.stop();
        }
      } finally {
        if (stack.child.exitCode === null) process.kill(-stack.child.pid!, 'SIGKILL');
      }
    });

    it('stops at once on a second Ctrl-C', async () => {
      const stack = await startStack(testDb.databaseUrl);
      try {
        await until(
          'the API to be ready',
          async () => ((await fetch(`${stack.url}/readyz`)).ok ? true : undefined),
          120_000,
        );
        await activeJob(stack, 600_000);
        process.kill(-stack.child.pid!, 'SIGINT');
        // A person's second press comes a moment later; the first is draining a ten-minute job.
        await until(
          'the first press to be taken',
          async () => (stack.output.join('').includes('stopping:') ? true : undefined),
          30_000,
        );
        await new Promise((resolve) => setTimeout(resolve, 1500));
        process.kill(-stack.child.pid!, 'SIGINT');
        const started = Date.now();
        await stack.exited;
        // Far sooner than the drain's 30 s timeout or the job's ten minutes.
        expect(Date.now() - started).toBeLessThan(20_000);
      } finally {
        if (stack.child.exitCode === null) process.kill(-stack.child.pid!, 'SIGKILL');
      }
    });
  });
}
