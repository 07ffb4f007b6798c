// The observer counts each attempt once, even when a retried job's next attempt is claimed before
// the previous attempt's outcome event is handled (a short backoff on a loaded machine).
import { EventEmitter } from 'node:events';
import type { Job, Worker } from '@offload/queue';
import { describe, expect, it } from 'vitest';
import { observeJobs } from '../src/job-observer.ts';
import type { AttemptOutcome, WorkerMetrics } from '../src/metrics.ts';
import { activeJob } from './fixtures/active-job.ts';

describe('job observer', () => {
  it('keeps attempts of one job apart when the next is claimed before the previous one ends', () => {
    const worker = new EventEmitter();
    const ended: AttemptOutcome[] = [];
    let running = 0;
    const metrics = {
      attemptStarted: () => {
        running += 1;
      },
      attemptEnded: (_kind: string, outcome: AttemptOutcome) => {
        running -= 1;
        ended.push(outcome);
      },
    } as unknown as WorkerMetrics;
    const logger = { child: () => logger, debug() {}, info() {}, warn() {} } as never;
    observeJobs(worker as unknown as Worker, logger, metrics);
    const first: Job = activeJob('system.echo', {}, { id: 'j', attempts: 1, maxAttempts: 2 });
    const second: Job = { ...first, attempts: 2 };
    const error = { kind: 'Error', message: 'x' };
    worker.emit('claimed', { job: first });
    worker.emit('claimed', { job: second });
    worker.emit('failed', { job: second, error, final: true });
    worker.emit('failed', { job: first, error, final: false });
    expect(ended).toEqual(['failed', 'retrying']);
    expect(running).toBe(0);
  });
});
