// Handlers in-process, without a queue: payload validation in front of every handler, and
// system.echo's stages, failure on request and abort.
import type { JsonObject } from '@offload/queue';
import { type Job, UnrecoverableError } from '@offload/queue';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bindHandler, HANDLERS } from '../src/handlers/index.ts';
import { createTaskPool, type TaskPool } from '../src/pool.ts';
import { activeJob } from './fixtures/active-job.ts';

const logger = pino({ level: 'silent' });

function echoJob(payload: unknown): Job {
  return activeJob('system.echo', payload);
}

describe('handlers', () => {
  let pool: TaskPool;
  beforeAll(() => {
    pool = createTaskPool({ threads: 1 });
  });
  afterAll(() => pool.close());

  const run = (payload: unknown, signal = new AbortController().signal) => {
    const progress: JsonObject[] = [];
    const handler = bindHandler('system.echo', HANDLERS['system.echo'], { pool, loggerFor: () => logger });
    const result = handler({
      job: echoJob(payload),
      signal,
      progress: async (update) => {
        progress.push(update);
      },
    });
    return { result: Promise.resolve(result), progress };
  };

  it('system.echo waits, burns CPU in the pool, reports each stage and echoes the payload', async () => {
    const { result, progress } = run({ sleepMs: 5, cpuMs: 10 });
    await expect(result).resolves.toEqual({ sleepMs: 5, cpuMs: 10 });
    expect(progress).toEqual([
      { stage: 'sleeping', sleepMs: 5 },
      { stage: 'burning', cpuMs: 10 },
    ]);
  });

  it('system.echo fails when asked to', async () => {
    await expect(run({ sleepMs: 0, fail: true }).result).rejects.toMatchObject({
      name: 'EchoFailureRequested',
    });
  });

  it('system.echo stops waiting as soon as it is aborted', async () => {
    const controller = new AbortController();
    const { result } = run({ sleepMs: 600_000 }, controller.signal);
    controller.abort(new Error('cancelled'));
    await expect(result).rejects.toMatchObject({ name: 'AbortError' });
  });

  it('an invalid payload is refused before the handler runs, as unrecoverable', async () => {
    const { result, progress } = run({ sleepMs: 5, extra: true });
    const error = await result.catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(UnrecoverableError);
    expect((error as Error).message).toBe('invalid system.echo payload at extra: unknown field');
    expect(progress).toEqual([]);
  });
});
