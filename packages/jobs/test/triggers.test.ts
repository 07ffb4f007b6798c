import { describe, expect, it } from 'vitest';
import { type JobSender, requestHealthAnalysis, requestKpiRebuild } from '../src/triggers.ts';

/** A queue whose idempotency keys, like the real ones, are unique per kind. */
function recordingSender(): JobSender & {
  sent: Array<{ kind: string; payload: Record<string, unknown>; options: object }>;
} {
  const seen = new Map<string, string>();
  const sent: Array<{
    kind: string;
    payload: Record<string, unknown>;
    options: { idempotencyKey?: string };
  }> = [];
  return {
    sent,
    async send(kind, payload, options) {
      sent.push({ kind, payload, options });
      const key = `${kind}/${options.idempotencyKey ?? String(sent.length)}`;
      const existing = seen.get(key);
      if (existing !== undefined) return { job: { id: existing }, created: false };
      seen.set(key, `job-${seen.size + 1}`);
      return { job: { id: seen.get(key)! }, created: true };
    },
  };
}

describe('requestKpiRebuild', () => {
  it('maps every request inside one window to one rebuild that runs when the window closes', async () => {
    const queue = recordingSender();
    const start = Date.parse('2026-12-04T10:00:00.000Z');
    const first = await requestKpiRebuild(queue, 'import.csv:a', { windowMs: 30_000, now: start + 1_000 });
    const second = await requestKpiRebuild(queue, 'import.csv:b', { windowMs: 30_000, now: start + 29_999 });
    expect(first).toEqual({ jobId: 'job-1', created: true, runAt: '2026-12-04T10:00:30.000Z' });
    expect(second).toEqual({ jobId: 'job-1', created: false, runAt: '2026-12-04T10:00:30.000Z' });
    expect(queue.sent.map((s) => s.kind)).toEqual(['rebuild.kpi', 'rebuild.kpi']);
  });

  it('starts a new rebuild in the next window', async () => {
    const queue = recordingSender();
    const start = Date.parse('2026-12-04T10:00:00.000Z');
    const first = await requestKpiRebuild(queue, 'x', { windowMs: 30_000, now: start + 29_999 });
    const next = await requestKpiRebuild(queue, 'x', { windowMs: 30_000, now: start + 30_000 });
    expect(next.jobId).not.toBe(first.jobId);
    expect(next.runAt).toBe('2026-12-04T10:01:00.000Z');
  });
});

describe('requestHealthAnalysis', () => {
  const start = Date.parse('2026-12-04T10:00:00.000Z');

  it('maps requests for the same models inside one window to one analysis, whichever source', async () => {
    const queue = recordingSender();
    const first = await requestHealthAnalysis(queue, 'collect.metrics:a', {
      modelIds: [7, 3, 7],
      now: start + 1_000,
    });
    const second = await requestHealthAnalysis(queue, 'collect.metrics:b', {
      modelIds: new Set([3, 7]),
      now: start + 59_999,
    });
    expect(first).toEqual({ jobId: 'job-1', created: true, runAt: '2026-12-04T10:01:00.000Z' });
    expect(second).toEqual({ jobId: 'job-1', created: false, runAt: '2026-12-04T10:01:00.000Z' });
    expect(queue.sent[0]).toMatchObject({
      kind: 'analyze.health',
      payload: { modelIds: [3, 7] },
      options: { runAt: '2026-12-04T10:01:00.000Z', meta: { reason: 'collect.metrics:a' } },
    });
  });

  it('starts another analysis for other models or the next window', async () => {
    const queue = recordingSender();
    const request = (modelIds: number[], now: number) => requestHealthAnalysis(queue, 'x', { modelIds, now });
    const first = await request([3, 7], start);
    const otherModels = await request([3, 8], start);
    const nextWindow = await request([3, 7], start + 60_000);
    const jobIds = [first, otherModels, nextWindow].map((request) => request.jobId);
    expect(new Set(jobIds).size).toBe(3);
    expect(nextWindow.runAt).toBe('2026-12-04T10:02:00.000Z');
    // A KPI rebuild in the same window is another kind: it keeps its own job.
    expect((await requestKpiRebuild(queue, 'x', { windowMs: 60_000, now: start })).created).toBe(true);
  });

  it('asks for every active model past 10,000 model ids, or without any', async () => {
    const queue = recordingSender();
    const many = Array.from({ length: 10_001 }, (_, i) => i + 1);
    const all = await requestHealthAnalysis(queue, 'x', { modelIds: many, now: start });
    const none = await requestHealthAnalysis(queue, 'y', { now: start });
    expect(queue.sent.map((sent) => sent.payload)).toEqual([{}, {}]);
    expect(none.jobId).toBe(all.jobId);
    const limit = await requestHealthAnalysis(queue, 'z', { modelIds: many.slice(0, 10_000), now: start });
    expect(limit.created).toBe(true);
    expect((queue.sent[2]!.payload.modelIds as number[]).length).toBe(10_000);
  });
});
