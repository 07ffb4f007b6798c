import { describe, expect, it } from 'vitest';
import { type JobSender, requestKpiRebuild } from '../src/triggers.ts';

function recordingSender(): JobSender & { sent: Array<{ kind: string; options: object }> } {
  const seen = new Map<string, string>();
  const sent: Array<{ kind: string; options: { idempotencyKey?: string } }> = [];
  return {
    sent,
    async send(kind, _payload, options) {
      sent.push({ kind, options });
      const key = options.idempotencyKey ?? String(sent.length);
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
