// The worker registry on both databases: a heartbeat upserts the row, readers drop stale rows,
// a clean stop deletes it, and a missing table only logs one warning.
import { listLiveWorkers, STALE_AFTER_MS } from '@offload/db';
import { createTestDb, type TestDb, testDatabases } from '@offload/db/testing';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWorkerRegistry, type WorkerRegistration } from '../src/registry.ts';

function capturingLogger() {
  const lines: Array<{ level: number; msg: string }> = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => lines.push(JSON.parse(line)) });
  return { logger, lines };
}

const registration = (id: string): WorkerRegistration => ({
  id,
  host: 'test-host',
  pid: 4242,
  concurrency: 4,
  kinds: ['system.echo'],
  startedAt: new Date('2026-01-01T00:00:00.000Z'),
});

for (const kind of testDatabases()) {
  describe(`worker registry (${kind})`, () => {
    let t: TestDb;
    beforeAll(async () => {
      t = await createTestDb(kind);
    });
    afterAll(() => t?.destroy());

    it('upserts the row on each beat, lists it while fresh, and deletes it on stop', async () => {
      let now = new Date('2026-01-01T00:00:01.000Z');
      let running = 0;
      const { logger, lines } = capturingLogger();
      const registry = await startWorkerRegistry({
        db: t.db,
        logger,
        registration: registration('host:1:a'),
        running: () => running,
        now: () => now,
      });
      expect(await listLiveWorkers(t.db, now)).toEqual([
        {
          id: 'host:1:a',
          host: 'test-host',
          pid: 4242,
          concurrency: 4,
          running: 0,
          kinds: ['system.echo'],
          startedAt: '2026-01-01T00:00:00.000Z',
          lastHeartbeatAt: '2026-01-01T00:00:01.000Z',
        },
      ]);

      now = new Date('2026-01-01T00:00:11.000Z');
      running = 3;
      await registry.beat();
      const [row] = await listLiveWorkers(t.db, now);
      expect(row).toMatchObject({ running: 3, lastHeartbeatAt: '2026-01-01T00:00:11.000Z' });

      // Silent for longer than the stale limit: readers treat it as dead.
      expect(await listLiveWorkers(t.db, new Date(now.getTime() + STALE_AFTER_MS + 1))).toEqual([]);

      await registry.stop();
      expect(await t.db.knex('worker_registry').where({ id: 'host:1:a' })).toEqual([]);
      expect(lines.filter((line) => line.level >= 40)).toEqual([]);
    });

    it('purges rows of workers dead for over an hour', async () => {
      const { logger } = capturingLogger();
      const now = new Date('2026-01-02T00:00:00.000Z');
      await t.db.knex('worker_registry').insert({
        id: 'crashed',
        host: 'gone',
        pid: 1,
        concurrency: 1,
        running: 1,
        kinds: '[]',
        started_at: '2026-01-01T00:00:00.000Z',
        last_heartbeat_at: '2026-01-01T00:00:00.000Z',
      });
      const registry = await startWorkerRegistry({
        db: t.db,
        logger,
        registration: registration('host:2:b'),
        running: () => 0,
        now: () => now,
      });
      const ids = (await t.db.knex('worker_registry').select('id')).map((row) => row.id);
      expect(ids).toEqual(['host:2:b']);
      await registry.stop();
    });
  });

  describe(`worker registry without its table (${kind})`, () => {
    let t: TestDb;
    beforeAll(async () => {
      t = await createTestDb(kind, { migrate: false });
    });
    afterAll(() => t?.destroy());

    it('warns once and keeps going', async () => {
      const { logger, lines } = capturingLogger();
      const registry = await startWorkerRegistry({
        db: t.db,
        logger,
        registration: registration('host:3:c'),
        running: () => 0,
      });
      await registry.beat();
      await registry.beat();
      await registry.stop();
      const warnings = lines.filter((line) => line.level >= 40);
      expect(warnings).toHaveLength(1);
      expect(warnings[0]!.msg).toMatch(/worker_registry table exists/);
    });
  });
}
