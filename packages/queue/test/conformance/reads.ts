// Lists, counts, events, schedules and pruning.
import { describe, expect, it } from 'vitest';
import type { JobEvent, Schedule } from '../../src/index.ts';
import type { Environment } from './environment.ts';
import { eventually, getJob, later, uniqueKind } from './harness.ts';
import { anError } from './jobs.ts';

const WORKER = 'conformance:reads';

export function readCases(env: Environment): void {
  describe('list', () => {
    it('walks every page of a kind exactly once', async () => {
      const kind = uniqueKind('list');
      const inserted = await env.a.jobInsertMany(
        Array.from({ length: 11 }, (_, i) => ({ kind, payload: { i } })),
      );
      const seen: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const page = await env.b.jobList({ kind, limit: 4, cursor });
        pages += 1;
        expect(page.items.length).toBeLessThanOrEqual(4);
        for (const job of page.items) expect(job.kind).toBe(kind);
        seen.push(...page.items.map((job) => job.id));
        cursor = page.nextCursor;
        expect(pages).toBeLessThan(10);
      } while (cursor !== null);
      expect(pages).toBeGreaterThanOrEqual(3);
      expect(seen).toHaveLength(11);
      expect(new Set(seen)).toEqual(new Set(inserted.map((r) => r.job.id)));
    });

    it('filters by state and owner', async () => {
      const kind = uniqueKind('list-filter');
      const [x, y, z] = await env.a.jobInsertMany([
        { kind, payload: 1, owner: 'alice' },
        { kind, payload: 2, owner: 'bob' },
        { kind, payload: 3, owner: 'alice', runAt: later(3_600_000).toISOString() },
      ]);
      const [claimed] = await env.b.jobClaim({ kinds: [kind], limit: 1, workerId: WORKER });
      expect([x!.job.id, y!.job.id]).toContain(claimed!.job.id);
      await env.b.jobComplete({ id: claimed!.job.id, leaseToken: claimed!.leaseToken, result: null });

      const completed = await env.a.jobList({ kind, state: 'completed' });
      expect(completed).toEqual({
        items: [expect.objectContaining({ id: claimed!.job.id })],
        nextCursor: null,
      });
      const queued = await env.a.jobList({ kind, state: 'queued' });
      expect(queued.items).toHaveLength(2);
      const alice = await env.a.jobList({ kind, owner: 'alice' });
      expect(new Set(alice.items.map((job) => job.id))).toEqual(new Set([x!.job.id, z!.job.id]));
      expect(await env.a.jobList({ kind, state: 'failed' })).toEqual({ items: [], nextCursor: null });
    });

    it('filters by a created range and an id prefix, and pages within them', async () => {
      const kind = uniqueKind('list-range');
      const sent = await env.a.jobInsertMany(Array.from({ length: 5 }, (_, i) => ({ kind, payload: i })));
      const ids = sent.map((r) => r.job.id);
      const created = sent.map((r) => r.job.createdAt).sort();
      const first = created[0]!;
      const after = new Date(Date.parse(created.at(-1)!) + 1).toISOString();
      const idsOf = async (params: Parameters<typeof env.a.jobList>[0]) => {
        const seen: string[] = [];
        let cursor: string | null = null;
        do {
          const page = await env.b.jobList({ ...params, kind, limit: 2, cursor });
          seen.push(...page.items.map((job) => job.id));
          cursor = page.nextCursor;
        } while (cursor !== null);
        return seen.sort();
      };
      expect(await idsOf({ createdFrom: first, createdBefore: after })).toEqual([...ids].sort());
      expect(await idsOf({ createdBefore: first })).toEqual([]);
      expect(await idsOf({ createdFrom: after })).toEqual([]);
      // Whole ids, in either case, with or without hyphens; and shorter prefixes.
      expect(await idsOf({ idPrefix: ids[2]!.toUpperCase() })).toEqual([ids[2]]);
      expect(await idsOf({ idPrefix: ids[3]!.replaceAll('-', '') })).toEqual([ids[3]]);
      const shared = ids[0]!.slice(0, 8);
      const prefixed = await idsOf({ idPrefix: shared });
      expect(prefixed).toContain(ids[0]);
      for (const id of prefixed) expect(id.startsWith(shared)).toBe(true);
      expect(await idsOf({ idPrefix: `${ids[4]!.slice(0, 30)}x` }).catch((e: Error) => e.name)).toBe(
        'TypeError',
      );
      expect(await env.a.jobList({ kind, state: 'queued', idPrefix: ids[1]! })).toEqual({
        items: [expect.objectContaining({ id: ids[1] })],
        nextCursor: null,
      });
    });

    it('refuses a limit outside 1…100 and a cursor it did not issue', async () => {
      const kind = uniqueKind('list-bad');
      await env.a.jobInsertMany(Array.from({ length: 3 }, () => ({ kind, payload: {} })));
      for (const limit of [101, 0, -1, 1.5]) {
        await expect(env.a.jobList({ kind, limit })).rejects.toMatchObject({ name: 'InvalidPageError' });
      }
      expect((await env.a.jobList({ kind, limit: 100 })).items).toHaveLength(3);

      const page = await env.a.jobList({ kind, limit: 1 });
      const cursor = page.nextCursor!;
      expect(cursor).toEqual(expect.any(String));
      // Every single-character alteration is refused (each flips a data bit of the decoded bytes).
      for (let i = 0; i < cursor.length; i += 1) {
        const bad = tamper(cursor, i);
        if (bad === null) continue;
        await expect(
          env.a.jobList({ kind, limit: 1, cursor: bad }),
          `cursor altered at ${i}`,
        ).rejects.toMatchObject({
          name: 'InvalidCursorError',
        });
      }
      for (const bad of ['not-a-cursor', '{}', 'eyJ4IjoxfQ']) {
        await expect(env.a.jobList({ kind, limit: 1, cursor: bad })).rejects.toMatchObject({
          name: 'InvalidCursorError',
        });
      }
    });
  });

  describe('counts', () => {
    it('counts jobs per kind and state with the age of the oldest ready one', async () => {
      const kind = uniqueKind('counts');
      const inserted = await env.a.jobInsertMany([
        ...Array.from({ length: 4 }, () => ({ kind, payload: {} })),
        { kind, payload: {}, runAt: later(3_600_000).toISOString() },
      ]);
      const claimed = await env.b.jobClaim({ kinds: [kind], limit: 3, workerId: WORKER });
      await env.b.jobComplete({ id: claimed[0]!.job.id, leaseToken: claimed[0]!.leaseToken });
      await env.b.jobFail({
        id: claimed[1]!.job.id,
        leaseToken: claimed[1]!.leaseToken,
        error: anError('x'),
      });
      const oldestReady = Math.min(
        ...inserted.filter((r) => r.job.id !== undefined).map((r) => Date.parse(r.job.createdAt)),
      );

      const now = later(60_000);
      const row = (await env.b.jobCounts(now)).find((counts) => counts.kind === kind);
      expect(row).toMatchObject({
        kind,
        queued: 2,
        retrying: 1,
        active: 1,
        completed: 1,
        failed: 0,
        cancelled: 0,
      });
      // Ready: the queued job due now (the retrying one may be due too, within its backoff).
      const age = row!.oldestQueuedAgeSeconds!;
      expect(age).toBeGreaterThanOrEqual(Math.floor((now.getTime() - oldestReady) / 1000) - 2);
      expect(age).toBeLessThanOrEqual(Math.ceil((now.getTime() - oldestReady) / 1000) + 2);
    });

    it('reports no age when nothing is ready', async () => {
      const kind = uniqueKind('counts-idle');
      await env.a.jobInsert({ kind, payload: {}, runAt: later(3_600_000).toISOString() });
      const row = (await env.a.jobCounts()).find((counts) => counts.kind === kind);
      expect(row).toMatchObject({
        queued: 1,
        oldestQueuedAgeSeconds: null,
        ready: 0,
        scheduled: 1,
        scheduledCapped: false,
      });
    });

    it('splits waiting jobs into ready (runAt passed) and scheduled (runAt ahead), at every priority', async () => {
      const kind = uniqueKind('counts-split');
      await env.a.jobInsertMany([
        ...Array.from({ length: 3 }, (_, i) => ({ kind, payload: {}, priority: i })),
        { kind, payload: {}, priority: 5, runAt: later(600_000).toISOString() },
        { kind, payload: {}, runAt: later(3_600_000).toISOString() },
      ]);
      const row = (await env.b.jobCounts()).find((counts) => counts.kind === kind);
      expect(row).toMatchObject({ queued: 5, ready: 3, scheduled: 2, scheduledCapped: false });
      // An hour and a bit on, every one of them is due.
      const after = (await env.b.jobCounts(later(3_700_000))).find((counts) => counts.kind === kind);
      expect(after).toMatchObject({ queued: 5, ready: 5, scheduled: 0 });
      // Claimed jobs leave both figures.
      await env.a.jobClaim({ kinds: [kind], limit: 2, workerId: WORKER });
      const claimed = (await env.b.jobCounts()).find((counts) => counts.kind === kind);
      expect(claimed).toMatchObject({ queued: 3, active: 2, ready: 1, scheduled: 2 });
    });

    it('measures the oldest age from when the job became due: its runAt or its creation, whichever is later', async () => {
      // Inserted due an hour ago: due since it was created, not for an hour.
      const past = uniqueKind('counts-due-past');
      const { job } = await env.a.jobInsert({
        kind: past,
        payload: {},
        runAt: later(-3_600_000).toISOString(),
      });
      const pastRow = (await env.b.jobCounts(later(60_000, Date.parse(job.createdAt))))!.find(
        (counts) => counts.kind === past,
      );
      expect(Math.abs(pastRow!.oldestQueuedAgeSeconds! - 60)).toBeLessThan(1);

      // Failed two minutes after its creation (the clock passed in), so retrying since then plus
      // its backoff: due since its retry's runAt, not since it was created.
      const retried = uniqueKind('counts-due-retry');
      const { job: first } = await env.a.jobInsert({ kind: retried, payload: {}, maxAttempts: 2 });
      const created = Date.parse(first.createdAt);
      const [claimed] = await env.b.jobClaim({
        kinds: [retried],
        limit: 1,
        workerId: WORKER,
        now: later(110_000, created),
      });
      await env.b.jobFail({
        id: first.id,
        leaseToken: claimed!.leaseToken,
        error: anError('again'),
        now: later(120_000, created),
      });
      const waiting = await getJob(env.a, first.id);
      expect(waiting.state).toBe('retrying');
      expect(Date.parse(waiting.runAt) - created).toBeGreaterThanOrEqual(120_000);
      const retryRow = (await env.a.jobCounts(later(600_000, Date.parse(waiting.runAt)))).find(
        (counts) => counts.kind === retried,
      );
      expect(Math.abs(retryRow!.oldestQueuedAgeSeconds! - 600)).toBeLessThan(1);
    });
  });

  describe('events', () => {
    it('tells any process about state and progress changes', async () => {
      const kind = uniqueKind('events');
      const events: JobEvent[] = [];
      const unsubscribe = await env.b.onJobEvent((event) => {
        if (event.kind === kind) events.push(event);
      });
      try {
        const { job } = await env.a.jobInsert({ kind, payload: {} });
        const [claimed] = await env.a.jobClaim({ kinds: [kind], limit: 1, workerId: WORKER });
        const lease = { id: job.id, leaseToken: claimed!.leaseToken };
        await env.a.jobProgress({ ...lease, progress: { step: 'half' } });
        await env.a.jobComplete({ ...lease, result: null });
        await eventually('the completed event', () => events.some((event) => event.state === 'completed'));

        const states = events.map((event) => event.state);
        const active = states.indexOf('active');
        const progress = events.findIndex((event) => event.progress?.step === 'half');
        expect(active).toBeGreaterThanOrEqual(0);
        expect(progress).toBeGreaterThan(active);
        expect(states.indexOf('completed')).toBeGreaterThan(progress);
        for (const event of events) {
          expect(event.id).toBe(job.id);
          expect(Number.isNaN(Date.parse(event.at))).toBe(false);
        }
      } finally {
        await unsubscribe();
      }
    });

    it('stops calling a listener once unsubscribed', async () => {
      const kind = uniqueKind('events-off');
      const seen: JobEvent[] = [];
      const unsubscribe = await env.b.onJobEvent((event) => {
        if (event.kind === kind) seen.push(event);
      });
      const { job } = await env.a.jobInsert({ kind, payload: {} });
      await env.a.jobCancel(job.id);
      await eventually('the cancelled event', () => seen.some((event) => event.state === 'cancelled'));
      await unsubscribe();
      const count = seen.length;
      const { job: second } = await env.a.jobInsert({ kind, payload: {} });
      await env.a.jobCancel(second.id);
      // Give a late delivery the chance to show up (a marker job on a live subscription bounds the wait).
      const marker = uniqueKind('events-marker');
      const markers: JobEvent[] = [];
      const unsubscribeMarker = await env.b.onJobEvent((event) => {
        if (event.kind === marker) markers.push(event);
      });
      const { job: markerJob } = await env.a.jobInsert({ kind: marker, payload: {} });
      await env.a.jobCancel(markerJob.id);
      await eventually('the marker event', () => markers.some((event) => event.state === 'cancelled'));
      await unsubscribeMarker();
      expect(seen).toHaveLength(count);
    });
  });

  describe('schedules', () => {
    it('adds, updates, lists and removes schedules', async () => {
      const name = uniqueKind('schedule');
      const schedule: Schedule = {
        name,
        cron: '15 3 * * *',
        timezone: 'UTC',
        kind: 'rebuild.kpi',
        payload: { scope: 'all' },
        options: { priority: 2, maxAttempts: 4 },
      };
      await env.a.scheduleUpsert(schedule);
      expect((await env.b.scheduleList()).find((s) => s.name === name)).toEqual(schedule);
      const changed: Schedule = { ...schedule, cron: '*/5 * * * *', timezone: 'Europe/Paris', payload: null };
      await env.b.scheduleUpsert(changed);
      const listed = (await env.a.scheduleList()).filter((s) => s.name === name);
      expect(listed).toEqual([changed]);
      expect(await env.a.scheduleDelete(name)).toBe(true);
      expect((await env.b.scheduleList()).some((s) => s.name === name)).toBe(false);
      expect(await env.a.scheduleDelete(name)).toBe(false);
    });

    it('refuses an invalid cron expression or time zone', async () => {
      const base: Schedule = {
        name: uniqueKind('bad'),
        cron: '* * * * *',
        timezone: 'UTC',
        kind: 'k',
        payload: null,
        options: {},
      };
      await expect(env.a.scheduleUpsert({ ...base, cron: 'every minute' })).rejects.toThrow();
      await expect(env.a.scheduleUpsert({ ...base, timezone: 'Mars/Olympus' })).rejects.toThrow();
      expect((await env.a.scheduleList()).some((s) => s.name === base.name)).toBe(false);
    });
  });

  describe('prune', () => {
    it('deletes completed and failed jobs past their retention, nothing else', async () => {
      const kind = uniqueKind('prune');
      const [done, dead, waiting] = await env.a.jobInsertMany([
        { kind, payload: 'done' },
        { kind, payload: 'dead', maxAttempts: 1 },
        { kind, payload: 'waiting', runAt: later(3_600_000).toISOString() },
      ]);
      const claimed = await env.b.jobClaim({ kinds: [kind], limit: 2, workerId: WORKER });
      for (const c of claimed) {
        if (c.job.id === done!.job.id) await env.b.jobComplete({ id: c.job.id, leaseToken: c.leaseToken });
        else await env.b.jobFail({ id: c.job.id, leaseToken: c.leaseToken, error: anError('x') });
      }
      const past = later(-3_600_000);
      const future = later(3_600_000);
      expect(await env.a.jobPrune({ completedBefore: past, failedBefore: past })).toBe(0);
      expect(await env.a.jobPrune({ completedBefore: future, failedBefore: past })).toBeGreaterThanOrEqual(1);
      expect(await env.a.jobGet(done!.job.id)).toBeNull();
      expect(await getJob(env.a, dead!.job.id)).toMatchObject({ state: 'failed' });
      expect(await env.a.jobPrune({ completedBefore: future, failedBefore: future })).toBeGreaterThanOrEqual(
        1,
      );
      expect(await env.a.jobGet(dead!.job.id)).toBeNull();
      expect(await getJob(env.a, waiting!.job.id)).toMatchObject({ state: 'queued' });
      // A pruned idempotency key is free again.
      const { job } = await env.a.jobInsert({ kind, payload: 'again', idempotencyKey: `pruned-${kind}` });
      const [again] = await env.b.jobClaim({ kinds: [kind], limit: 1, workerId: WORKER });
      expect(again!.job.id).toBe(job.id);
      await env.b.jobComplete({ id: job.id, leaseToken: again!.leaseToken });
      await env.a.jobPrune({ completedBefore: later(3_600_000), failedBefore: past });
      const fresh = await env.a.jobInsert({ kind, payload: 'fresh', idempotencyKey: `pruned-${kind}` });
      expect(fresh.created).toBe(true);
      expect(fresh.job.id).not.toBe(job.id);
    });
  });
}

const BASE64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/** The cursor with character `i` changed in its top bit (always a data bit, even in a final character). */
function tamper(cursor: string, i: number): string | null {
  const index = BASE64URL.indexOf(cursor[i]!);
  if (index < 0) return null;
  return cursor.slice(0, i) + BASE64URL[index ^ 32] + cursor.slice(i + 1);
}
