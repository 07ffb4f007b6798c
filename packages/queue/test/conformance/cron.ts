// Leader election and cron on both backends, with an injected clock (scheduleFireDue(now)), never a real minute: each
// tick fires once even from two processes at the same moment, a schedule counts from when it was
// saved, after downtime only the latest missed tick fires (runtime/cron.ts's one policy), and a
// paused schedule fires nothing, nor, once resumed, the ticks it missed.
import { describe, expect, it } from 'vitest';
import type { Job, Schedule } from '../../src/index.ts';
import type { Environment } from './environment.ts';
import { uniqueKind } from './harness.ts';

export function cronCases(env: Environment): void {
  describe('leader election', () => {
    it('elects one leader at a time, takes over an expired lease, and none waits after a resignation', async () => {
      const name = uniqueKind('lease');
      const lease = (holder: string, at: number) => ({
        name,
        holder,
        expiresAt: new Date(at + 10_000),
        now: new Date(at),
      });
      const t0 = Date.now();
      expect(await env.a.leaderAcquire(lease('x', t0))).toBe(true);
      expect(await env.b.leaderAcquire(lease('y', t0 + 1))).toBe(false);
      expect(await env.a.leaderAcquire(lease('x', t0 + 5000))).toBe(true); // renewed until t0 + 15 s
      expect(await env.b.leaderAcquire(lease('y', t0 + 12_000))).toBe(false);
      expect(await env.b.leaderAcquire(lease('y', t0 + 15_001))).toBe(true); // x stalled past its lease
      expect(await env.a.leaderAcquire(lease('x', t0 + 15_002))).toBe(false);
      await env.a.leaderResign({ name, holder: 'x' }); // not x's: nothing happens
      expect(await env.a.leaderAcquire(lease('x', t0 + 15_003))).toBe(false);
      await env.b.leaderResign({ name, holder: 'y' });
      expect(await env.a.leaderAcquire(lease('x', t0 + 15_004))).toBe(true);
    });
  });

  describe('cron', () => {
    /** Saves a schedule firing every minute (UTC) for a kind of its own. */
    const everyMinute = async (prefix: string, job: Pick<Schedule, 'payload' | 'options'>) => {
      const kind = uniqueKind(prefix);
      const name = `${kind}.every-minute`;
      await env.a.scheduleUpsert({ name, cron: '* * * * *', timezone: 'UTC', kind, ...job });
      return { kind, name };
    };

    it('fires each tick once, even from two processes at the same moment; after downtime only the latest', async () => {
      const { kind, name } = await everyMinute('cron', {
        payload: { scope: 'all' },
        options: { priority: 3 },
      });
      const minute = Math.floor(Date.now() / 60_000) * 60_000;
      // Saved during this minute: its first tick is the next one.
      expect(await env.a.scheduleFireDue(new Date(minute + 59_000))).toEqual([]);
      const tick = new Date(minute + 60_000);
      const fired = (
        await Promise.all([
          env.a.scheduleFireDue(new Date(tick.getTime() + 10)),
          env.b.scheduleFireDue(new Date(tick.getTime() + 20)),
        ])
      ).flat();
      expect(fired).toHaveLength(1);
      expect(fired[0]).toMatchObject({
        kind,
        payload: { scope: 'all' },
        priority: 3,
        runAt: tick.toISOString(),
        idempotencyKey: `cron:${name}:${tick.toISOString()}`,
        meta: { schedule: name, tick: tick.toISOString() },
      });
      expect(await env.b.scheduleFireDue(new Date(tick.getTime() + 30_000))).toEqual([]);
      // Three minutes without maintenance: the latest missed tick fires, once; the two before it do not.
      const late = await env.a.scheduleFireDue(new Date(tick.getTime() + 3 * 60_000 + 5));
      expect(late.map((job) => job.runAt)).toEqual([new Date(tick.getTime() + 3 * 60_000).toISOString()]);
      expect(await env.b.scheduleFireDue(new Date(tick.getTime() + 3 * 60_000 + 50))).toEqual([]);
      expect((await env.a.jobList({ kind })).items).toHaveLength(2);
      expect(await env.a.scheduleDelete(name)).toBe(true);
      expect(await env.a.scheduleFireDue(new Date(tick.getTime() + 10 * 60_000))).toEqual([]);
    });

    it('evaluates a schedule in its time zone, and a re-timed schedule counts from when it was saved', async () => {
      const kind = uniqueKind('cron-tz');
      const name = `${kind}.daily`;
      const schedule = {
        name,
        cron: '0 9 * * *',
        timezone: 'Europe/Paris',
        kind,
        payload: null,
        options: {},
      };
      await env.a.scheduleUpsert(schedule);
      const saved = Date.now();
      // The first 09:00 in Paris at least a day after saving, in UTC.
      const day = new Date(saved + 2 * 86_400_000);
      const [fired] = await env.a.scheduleFireDue(
        new Date(Date.UTC(day.getUTCFullYear(), day.getUTCMonth(), day.getUTCDate(), 12)),
      );
      expect(fired?.runAt).toMatch(/T0[78]:00:00\.000Z$/); // 09:00 Paris is 07:00 or 08:00 UTC
      expect(await env.a.scheduleList()).toContainEqual(schedule);
      // Re-timed: counts from now again, so the tick fired above is not fired twice and none older.
      await env.a.scheduleUpsert({ ...schedule, cron: '0 10 * * *' });
      expect(await env.a.scheduleFireDue(new Date(saved + 1000))).toEqual([]);
      await env.a.scheduleDelete(name);
    });

    it('a paused schedule fires no tick; resumed, it skips the ticks missed while paused', async () => {
      const { kind, name } = await everyMinute('cron-pause', { payload: null, options: {} });
      const state = async () => (await env.b.scheduleStates()).find((candidate) => candidate.name === name);
      expect(await state()).toEqual({ name, paused: false, lastRunAt: null, lastJobId: null });
      const minute = Math.floor(Date.now() / 60_000) * 60_000;
      const at = (minutes: number, ms = 0) => new Date(minute + minutes * 60_000 + ms);
      const ours = (jobs: Job[]) => jobs.filter((job) => job.kind === kind);
      const [first] = ours(await env.a.scheduleFireDue(at(1, 10)));
      expect(first?.runAt).toBe(at(1).toISOString());
      expect(await state()).toEqual({
        name,
        paused: false,
        lastRunAt: at(1).toISOString(),
        lastJobId: first!.id,
      });

      expect(await env.a.schedulePause(name, true, at(1, 20_000))).toBe(true);
      expect(await env.a.schedulePause(name, true, at(1, 30_000))).toBe(true); // already paused
      expect((await state())?.paused).toBe(true);
      // Saving it again (an edit) keeps it paused.
      await env.b.scheduleUpsert({
        name,
        cron: '* * * * *',
        timezone: 'UTC',
        kind,
        payload: { edited: true },
        options: {},
      });
      expect((await state())?.paused).toBe(true);
      // Paused through three ticks, from either process: none fires.
      expect(ours(await env.a.scheduleFireDue(at(2, 10)))).toEqual([]);
      expect(ours(await env.b.scheduleFireDue(at(4, 10)))).toEqual([]);
      // Resumed between ticks: the ticks missed while paused (2, 3, 4) never fire; the next one does.
      expect(await env.b.schedulePause(name, false, at(4, 30_000))).toBe(true);
      expect(await state()).toEqual({
        name,
        paused: false,
        lastRunAt: at(1).toISOString(),
        lastJobId: first!.id,
      });
      expect(ours(await env.a.scheduleFireDue(at(4, 40_000)))).toEqual([]);
      const [next] = ours(await env.a.scheduleFireDue(at(5, 10)));
      expect(next?.runAt).toBe(at(5).toISOString());
      expect((await state())?.lastJobId).toBe(next!.id);
      // Resuming a running schedule changes nothing: the tick just fired is not fired again.
      expect(await env.a.schedulePause(name, false, at(5, 20))).toBe(true);
      expect(ours(await env.a.scheduleFireDue(at(5, 30)))).toEqual([]);
      expect((await env.a.jobList({ kind })).items).toHaveLength(2);

      expect(await env.a.schedulePause(`${kind}.missing`, true)).toBe(false);
      expect(await env.a.scheduleDelete(name)).toBe(true);
    });
  });
}
