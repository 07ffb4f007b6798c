// PostgreSQL only: a worker process whose database connections die — killed by the server
// (`pg_terminate_backend`) or cut by a real restart of a server of the test's own — stays up,
// reconnects and finishes every job. (pg-boss on its own emits 'error' and stops working when its
// connection dies; the backend supervises its connections.)
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createQueueBackend, type QueueBackend } from '../../src/index.ts';
import { type ConformanceContext, type ConformanceFactory, eventually, uniqueKind } from './harness.ts';
import { WorkerProcess } from './processes.ts';
import { findPostgresBin, startThrowawayPostgres, type ThrowawayPostgres } from './throwaway-postgres.ts';

const pg = createRequire(import.meta.url)('pg') as typeof import('pg');

async function completedCount(backend: QueueBackend, kind: string): Promise<number> {
  return (await backend.jobCounts()).find((row) => row.kind === kind)?.completed ?? 0;
}

async function sendJobs(backend: QueueBackend, kind: string, count: number, sleepMs: number): Promise<void> {
  await backend.jobInsertMany(Array.from({ length: count }, () => ({ kind, payload: { sleepMs } })));
}

export function connectionLossCases(factory: ConformanceFactory): void {
  describe('PostgreSQL connections lost', () => {
    const spawned: WorkerProcess[] = [];
    afterAll(async () => {
      await Promise.all(spawned.map((p) => p.terminate()));
    });

    describe('terminated by the server', () => {
      let ctx: ConformanceContext;
      let backend: QueueBackend;
      beforeAll(async () => {
        ctx = await factory();
        backend = await ctx.createBackend();
        await backend.start({ maintenance: false });
      });
      afterAll(async () => {
        await backend?.stop();
        await ctx?.destroy();
      });

      it('keeps the worker process up through pg_terminate_backend and finishes every job', {
        timeout: 120_000,
      }, async () => {
        const kind = uniqueKind('terminated');
        const worker = await WorkerProcess.spawn(ctx.databaseUrl, [kind], 10);
        spawned.push(worker);
        const total = 300;
        await sendJobs(backend, kind, total, 10);
        for (const after of [40, 150]) {
          await eventually(
            `${after} completions`,
            async () => (await completedCount(backend, kind)) >= after,
            {
              timeoutMs: 60_000,
              intervalMs: 50,
            },
          );
          const rows = await ctx.exec(
            'SELECT count(pg_terminate_backend(pid)) AS killed FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()',
          );
          expect(Number(rows[0]!.killed)).toBeGreaterThan(0);
        }
        await eventually('every job completed', async () => (await completedCount(backend, kind)) === total, {
          timeoutMs: 90_000,
          intervalMs: 100,
        });
        expect(worker.child.exitCode).toBeNull();
        expect(worker.child.signalCode).toBeNull();
        const row = (await backend.jobCounts()).find((counts) => counts.kind === kind);
        expect(row).toMatchObject({ completed: total, queued: 0, retrying: 0, active: 0, failed: 0 });
      });
    });

    const bin = findPostgresBin();
    describe.skipIf(bin === null)('a real server restart', () => {
      let server: ThrowawayPostgres | undefined;
      let backend: QueueBackend | undefined;
      let databaseUrl = '';
      beforeAll(async () => {
        server = await startThrowawayPostgres(bin!);
        const admin = new pg.Client({ connectionString: server.url });
        await admin.connect();
        await admin.query('CREATE DATABASE queue');
        await admin.end();
        const url = new URL(server.url);
        url.pathname = '/queue';
        databaseUrl = url.toString();
        backend = await createQueueBackend(databaseUrl);
        await backend.start({ maintenance: false });
      }, 120_000);
      afterAll(async () => {
        await backend?.stop();
        await server?.destroy();
      });

      it('keeps the worker process up through a restart of PostgreSQL and finishes every job', {
        timeout: 180_000,
      }, async () => {
        const kind = uniqueKind('restart');
        const worker = await WorkerProcess.spawn(databaseUrl, [kind], 10);
        spawned.push(worker);
        await sendJobs(backend!, kind, 200, 10);
        await eventually('some completions', async () => (await completedCount(backend!, kind)) >= 30, {
          timeoutMs: 60_000,
          intervalMs: 50,
        });
        await server!.restart();
        // Sent after the restart, through the producer's own (reconnected) connections.
        await sendJobs(backend!, kind, 100, 0);
        await eventually('every job completed', async () => (await completedCount(backend!, kind)) === 300, {
          timeoutMs: 120_000,
          intervalMs: 100,
        });
        expect(worker.child.exitCode).toBeNull();
        expect(worker.child.signalCode).toBeNull();
        const row = (await backend!.jobCounts()).find((counts) => counts.kind === kind);
        expect(row).toMatchObject({ completed: 300, queued: 0, retrying: 0, active: 0, failed: 0 });
      });
    });
  });
}
