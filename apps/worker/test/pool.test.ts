// The pool's promise: a task that throws, kills its thread or hangs fails its own run with plain
// `{ kind, message }` data, and the pool (and the process) go on running the next task.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTaskPool, type TaskFailedError, type TaskPool } from '../src/pool.ts';
import { burnCpuTask } from '../src/tasks/index.ts';
import { echoTask, exitsTask, hangsTask, throwsTask } from './fixtures/tasks.ts';

async function failure(promise: Promise<unknown>): Promise<TaskFailedError> {
  try {
    await promise;
  } catch (error) {
    return error as TaskFailedError;
  }
  throw new Error('expected the task to fail');
}

describe('task pool', () => {
  let pool: TaskPool;
  const threadErrors: Error[] = [];

  beforeAll(() => {
    pool = createTaskPool({ threads: 1 }, { onThreadError: (error) => threadErrors.push(error) });
  });
  afterAll(() => pool.close());

  it('runs a task module in a thread and returns its value', async () => {
    await expect(pool.run(echoTask, { n: 1 })).resolves.toMatchObject({ echoed: { n: 1 } });
    const burnt = await pool.run(burnCpuTask, { ms: 20 });
    expect(burnt.elapsedMs).toBeGreaterThanOrEqual(20);
  });

  it('a task that throws fails with its error as plain data, and the next task runs', async () => {
    const error = await failure(pool.run(throwsTask, { message: 'bad input' }));
    expect(error.toJSON()).toEqual({ kind: 'FixtureError', message: 'bad input' });
    expect(error.name).toBe('FixtureError');
    await expect(pool.run(echoTask, 'after throw')).resolves.toMatchObject({ echoed: 'after throw' });
  });

  it('a task that calls process.exit fails that run only; a new thread takes the next task', async () => {
    const before = await pool.run(echoTask, null);
    const error = await failure(pool.run(exitsTask, { code: 1 }));
    expect(error.toJSON()).toEqual({
      kind: 'ThreadExited',
      message: 'task exits ended its thread (exit code 1)',
    });
    const after = await pool.run(echoTask, 'after exit');
    expect(after.echoed).toBe('after exit');
    expect(after.threadId).not.toBe(before.threadId);
  });

  it('a task that hangs past its timeout is stopped, busy loop or pending promise alike', async () => {
    for (const busy of [true, false]) {
      const error = await failure(pool.run(hangsTask, { busy }, { timeoutMs: 200 }));
      expect(error.kind).toBe('TaskTimeout');
      expect(error.message).toMatch(/did not finish within 200 ms/);
    }
    await expect(pool.run(echoTask, 'after hang')).resolves.toMatchObject({ echoed: 'after hang' });
  });

  it('an abort stops a running task and drops a waiting one', async () => {
    const controller = new AbortController();
    const running = failure(pool.run(hangsTask, { busy: true }, { signal: controller.signal }));
    // One thread: this one waits behind the hanging task.
    const waiting = failure(pool.run(echoTask, 'never', { signal: controller.signal }));
    await expect.poll(() => pool.stats()).toMatchObject({ busy: 1, waiting: 1 });
    controller.abort(new Error('job cancelled'));
    for (const error of await Promise.all([running, waiting])) {
      expect(error.toJSON()).toEqual({ kind: 'Aborted', message: 'task aborted: job cancelled' });
    }
    expect(pool.stats()).toMatchObject({ busy: 0, waiting: 0 });
    await expect(pool.run(echoTask, 'after abort')).resolves.toMatchObject({ echoed: 'after abort' });
  });

  it('the timeout starts when a thread is free, not while the task waits for one', async () => {
    const first = pool.run(burnCpuTask, { ms: 300 });
    const second = pool.run(echoTask, 'queued', { timeoutMs: 150 });
    await expect(first).resolves.toMatchObject({});
    await expect(second).resolves.toMatchObject({ echoed: 'queued' });
  });

  it('a closed pool fails waiting tasks with PoolClosed', async () => {
    const closing = createTaskPool({ threads: 1 });
    const running = failure(closing.run(hangsTask, { busy: false }));
    const waiting = failure(closing.run(echoTask, 'never'));
    await closing.close();
    expect((await running).kind).toBe('PoolClosed');
    expect((await waiting).kind).toBe('PoolClosed');
    expect(threadErrors).toEqual([]);
  });
});
