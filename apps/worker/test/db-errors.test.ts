// Database errors inside a job, on both databases: a permanent one (a value the column cannot
// hold, a broken constraint) fails the job at once; a transient one is retried; either way the
// job's error is a stable code and message, and the driver's text (SQL, values) reaches only the log.
import { createTestDb, type TestDb, testDatabases } from '@offload/db/testing';
import type { Job } from '@offload/queue';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bindHandler } from '../src/handlers/index.ts';
import type { TaskPool } from '../src/pool.ts';
import { activeJob } from './fixtures/active-job.ts';

for (const kind of testDatabases()) {
  describe(`database errors in a job (${kind})`, () => {
    let t: TestDb;
    const logged: Array<Record<string, unknown>> = [];
    const logger = pino(
      { level: 'warn' },
      {
        write(line: string) {
          logged.push(JSON.parse(line));
        },
      },
    );
    beforeAll(async () => {
      t = await createTestDb(kind);
    });
    afterAll(() => t?.destroy());

    const run = (work: (job: Job) => Promise<never>) =>
      Promise.resolve(
        bindHandler('system.echo', () => work(activeJob('system.echo', { sleepMs: 0 })), {
          pool: {} as TaskPool,
          loggerFor: () => logger,
          db: t.db,
        })({
          job: activeJob('system.echo', { sleepMs: 0 }),
          signal: new AbortController().signal,
          progress: async () => {},
        }),
      );

    it('fails at once, with a stable message, on a value the column cannot hold', async () => {
      logged.length = 0;
      const error = await run(() =>
        t.db.knex('regions').insert({ id: 'not-a-number', code: 'X', name: 'x' }),
      ).catch((e: unknown) => e as Error);
      expect(error).toMatchObject({
        name: 'UnrecoverableError',
        message: 'invalid_data: the database cannot store a value of the data',
      });
      expect((error as Error).message).not.toMatch(/insert|regions|not-a-number/i);
      // The detail is in the log.
      expect(JSON.stringify(logged)).toMatch(/not-a-number|regions/);
    });

    it('fails at once on a broken constraint, naming no SQL', async () => {
      await t.db.knex('regions').insert({ code: 'DUP', name: 'dup' });
      const error = await run(() => t.db.knex('regions').insert({ code: 'DUP', name: 'again' })).catch(
        (e: unknown) => e as Error,
      );
      expect(error).toMatchObject({
        name: 'UnrecoverableError',
        message: 'constraint_violation: the data broke a unique constraint',
      });
    });

    it('retries a transient error (lock, serialization, a database refusing connections)', async () => {
      for (const code of ['40001', '40P01', '55000', '57P03', '08006', 'SQLITE_BUSY']) {
        const driverError = Object.assign(new Error(`select 1 - something about ${code} at 10.0.0.7:5432`), {
          code,
        });
        const error = await run(() => Promise.reject(driverError)).catch((e: unknown) => e as Error);
        expect(error, code).toMatchObject({
          name: 'DatabaseUnavailable',
          message: 'database_unavailable: the database was unavailable',
        });
      }
    });

    it('leaves an error that is not the database’s as it was thrown', async () => {
      const error = await run(() => Promise.reject(new TypeError('boom'))).catch((e: unknown) => e as Error);
      expect(error).toMatchObject({ name: 'TypeError', message: 'boom' });
    });
  });
}
