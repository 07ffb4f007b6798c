// Default cron schedules on both databases: a start creates them once; a restart leaves an
// operator's deletion deleted and an edit edited; a schedule the operator made under a default's
// name before any start is kept; a default added in a later release appears on the next start.
// The unit tests apply the rebuilds' two defaults; the worker-process test applies them all.
// The last test starts real worker processes (apps/worker/src/main.ts) twice.
import { createTestDb, type TestDb, testDatabases } from '@offload/db/testing';
import { createQueueBackend, type QueueBackend, type Schedule } from '@offload/queue';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { applyDefaultSchedules, DEFAULT_SCHEDULES } from '../src/default-schedules.ts';
import { startWorkerChild } from './fixtures/worker-child.ts';

// The two defaults of the rebuild jobs; other kinds append theirs to DEFAULT_SCHEDULES.
const REBUILDS = DEFAULT_SCHEDULES.filter((s) => s.kind === 'rebuild.kpi' || s.kind === 'rebuild.compliance');
const ALL_NAMES = DEFAULT_SCHEDULES.map((s) => s.name).sort();

const byName = (schedules: Schedule[]) =>
  Object.fromEntries(schedules.map((s) => [s.name, { cron: s.cron, kind: s.kind, payload: s.payload }]));

for (const kind of testDatabases()) {
  describe(`default schedules (${kind})`, () => {
    let t: TestDb;
    let backend: QueueBackend;

    beforeAll(async () => {
      t = await createTestDb(kind);
      backend = await createQueueBackend(t.databaseUrl);
      await backend.start();
    });
    afterAll(async () => {
      await backend?.stop();
      await t?.destroy();
    });
    beforeEach(async () => {
      for (const schedule of await backend.scheduleList()) await backend.scheduleDelete(schedule.name);
      await t.db.knex('schedule_defaults').delete();
    });

    const start = () => applyDefaultSchedules({ db: t.db, queue: backend, schedules: REBUILDS });

    it('creates KPI every 15 minutes and compliance hourly, once', async () => {
      expect(await start()).toEqual({ created: ['rebuild.kpi', 'rebuild.compliance'], adopted: [] });
      expect(byName(await backend.scheduleList())).toEqual({
        'rebuild.kpi': { cron: '*/15 * * * *', kind: 'rebuild.kpi', payload: {} },
        'rebuild.compliance': { cron: '0 * * * *', kind: 'rebuild.compliance', payload: {} },
      });
      expect(await start()).toEqual({ created: [], adopted: [] });
      expect(await backend.scheduleList()).toHaveLength(2);
    });

    it("keeps an operator's deletion and edit across restarts", async () => {
      await start();
      expect(await backend.scheduleDelete('rebuild.kpi')).toBe(true);
      const edited = { ...REBUILDS[1]!, cron: '30 2 * * *' };
      await backend.scheduleUpsert(edited);
      expect(await start()).toEqual({ created: [], adopted: [] });
      expect(await start()).toEqual({ created: [], adopted: [] });
      expect(byName(await backend.scheduleList())).toEqual({
        'rebuild.compliance': { cron: '30 2 * * *', kind: 'rebuild.compliance', payload: {} },
      });
    });

    it("keeps an operator's schedule made under a default's name before the first start", async () => {
      await backend.scheduleUpsert({
        ...REBUILDS[0]!,
        cron: '0 6 * * *',
        payload: { asOf: '2026-01-01' },
      });
      expect(await start()).toEqual({ created: ['rebuild.compliance'], adopted: ['rebuild.kpi'] });
      expect(byName(await backend.scheduleList())['rebuild.kpi']).toEqual({
        cron: '0 6 * * *',
        kind: 'rebuild.kpi',
        payload: { asOf: '2026-01-01' },
      });
      await backend.scheduleDelete('rebuild.kpi');
      await start();
      expect(byName(await backend.scheduleList())['rebuild.kpi']).toBeUndefined();
    });

    it('creates a default added in a later release on the next start', async () => {
      await start();
      await backend.scheduleDelete('rebuild.kpi');
      const later: Schedule = {
        name: 'later.default',
        cron: '5 4 * * *',
        timezone: 'UTC',
        kind: 'system.echo',
        payload: { sleepMs: 0 },
        options: {},
      };
      const result = await applyDefaultSchedules({
        db: t.db,
        queue: backend,
        schedules: [...REBUILDS, later],
      });
      expect(result).toEqual({ created: ['later.default'], adopted: [] });
      expect(Object.keys(byName(await backend.scheduleList())).sort()).toEqual([
        'later.default',
        'rebuild.compliance',
      ]);
    });

    it('a worker process applies them at start-up, and a deleted one stays deleted after a restart', async () => {
      const first = await startWorkerChild({ databaseUrl: t.databaseUrl });
      try {
        await first.waitForLog((line) => line.msg === 'default schedules applied');
      } finally {
        await first.kill();
      }
      expect(Object.keys(byName(await backend.scheduleList())).sort()).toEqual(ALL_NAMES);
      expect(byName(await backend.scheduleList())).toMatchObject({
        'rebuild.kpi': { cron: '*/15 * * * *', kind: 'rebuild.kpi', payload: {} },
        'rebuild.compliance': { cron: '0 * * * *', kind: 'rebuild.compliance', payload: {} },
      });
      expect(await backend.scheduleDelete('rebuild.kpi')).toBe(true);
      const second = await startWorkerChild({ databaseUrl: t.databaseUrl });
      await second.kill();
      expect(second.logs.some((line) => line.msg === 'default schedules applied')).toBe(false);
      expect(Object.keys(byName(await backend.scheduleList())).sort()).toEqual(
        ALL_NAMES.filter((name) => name !== 'rebuild.kpi'),
      );
    }, 60_000);
  });
}
