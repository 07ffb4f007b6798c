// The thread pool for CPU-bound steps: Piscina underneath, with the guarantees a job needs.
//
// A task runs in three stages:
//   waiting  — no thread is free; the task waits its turn (FIFO). Its timeout has not started,
//              so a busy pool never times out work that never ran. An abort here drops it.
//   running  — on a thread, with the timeout armed (a pool that stopped its idle threads starts
//              one first, inside that timeout: a new isolate and the task's module, tens of ms).
//              The task ends one of four ways:
//                returns        → the value, resolved;
//                throws         → TaskFailedError with the thread's plain `{ kind, message }`;
//                times out      → the thread is terminated (the only way to stop a busy loop),
//                                 TaskFailedError kind 'TaskTimeout';
//                is aborted     → the thread is terminated, kind 'Aborted';
//                kills its thread (process.exit, uncaught error) → kind 'ThreadExited' /
//                                 'ThreadCrashed'.
//   done     — the slot is freed and the next waiting task starts; a terminated thread is
//              replaced by the next task's, so one bad task costs one attempt, never the process
//              or the pool.
//
// Across the thread boundary only plain data travels (see pool-thread.ts); the Error the
// caller sees is built here, on the main thread, from that data.
import { Piscina } from 'piscina';

/** What a failed task left behind: plain data, the same shape as a job's error. */
export interface TaskError {
  kind: string;
  message: string;
}

/** Main thread → pool thread. */
export interface TaskRequest {
  url: string;
  input: unknown;
}

/** Pool thread → main thread. */
export type TaskReply = { ok: true; value: unknown } | { ok: false; error: TaskError };

// biome-ignore lint/suspicious/noExplicitAny: a task's input type is whatever its module declares
type TaskFunction = (input: any) => unknown;

/**
 * A task module (its default export runs in a pool thread), typed by that export:
 * `taskRef<typeof burnCpu>('burn-cpu', new URL('./burn-cpu.ts', import.meta.url))`.
 */
export interface TaskRef<F extends TaskFunction> {
  readonly name: string;
  readonly url: string;
  /** Never set; carries the task's signature for `run`'s types. */
  readonly signature?: F;
}

export function taskRef<F extends TaskFunction>(name: string, url: URL | string): TaskRef<F> {
  return Object.freeze({ name, url: String(url) });
}

export type TaskInput<F extends TaskFunction> = Parameters<F>[0];
export type TaskOutput<F extends TaskFunction> = Awaited<ReturnType<F>>;

/** Kinds the pool itself assigns; a task that throws reports its own error's name instead. */
export const POOL_ERROR_KINDS = [
  'TaskTimeout',
  'Aborted',
  'ThreadExited',
  'ThreadCrashed',
  'PoolClosed',
] as const;

/** A task that did not return a value. `name` is the error's kind, so it reads well in logs. */
export class TaskFailedError extends Error {
  readonly kind: string;
  readonly task: string;

  constructor(task: string, error: TaskError) {
    super(error.message);
    this.name = error.kind;
    this.kind = error.kind;
    this.task = task;
  }

  toJSON(): TaskError {
    return { kind: this.kind, message: this.message };
  }
}

export interface TaskPoolOptions {
  /** Threads (WORKER_THREADS); also how many tasks run at once. */
  threads: number;
  /** Applies to every task that does not pass its own `timeoutMs`. Default 5 minutes. */
  defaultTimeoutMs?: number;
  /**
   * Threads that stay idle this long are stopped, the last one too: each thread is a V8 isolate
   * (about 20 MB of RSS), so a worker that runs no CPU-bound step keeps none. Default 60 s.
   */
  idleTimeoutMs?: number;
}

export interface RunTaskOptions {
  signal?: AbortSignal;
  timeoutMs?: number;
}

export interface TaskPoolStats {
  /** Thread capacity (WORKER_THREADS). */
  capacity: number;
  /** Threads alive right now. */
  threads: number;
  /** Tasks running on a thread. */
  busy: number;
  /** Tasks waiting for a free thread. */
  waiting: number;
  /** busy / capacity, 0…1. */
  utilization: number;
}

export interface TaskPool {
  /** Runs the task on a thread; rejects with TaskFailedError whenever it does not return. */
  run<F extends TaskFunction>(
    task: TaskRef<F>,
    input: TaskInput<F>,
    options?: RunTaskOptions,
  ): Promise<TaskOutput<F>>;
  stats(): TaskPoolStats;
  /** Terminates every thread; running and waiting tasks fail with kind 'PoolClosed'. */
  close(): Promise<void>;
}

export interface TaskPoolEvents {
  /** A thread died while no task ran on it (an error thrown from a stray timer, say). */
  onThreadError?: (error: Error) => void;
}

const DEFAULT_TIMEOUT_MS = 5 * 60_000;
const THREAD_ENTRY = new URL('./pool-thread.ts', import.meta.url).href;

interface Waiter {
  start: () => void;
  cancel: (error: TaskError) => void;
}

export function createTaskPool(options: TaskPoolOptions, events: TaskPoolEvents = {}): TaskPool {
  const capacity = options.threads;
  if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError('threads must be a positive integer');
  const defaultTimeoutMs = options.defaultTimeoutMs ?? DEFAULT_TIMEOUT_MS;
  const piscina = new Piscina<TaskRequest, TaskReply>({
    filename: THREAD_ENTRY,
    // None until a task runs (docs/performance/memory.md): idle worker RSS 173 → 150 MB.
    minThreads: 0,
    maxThreads: capacity,
    idleTimeout: options.idleTimeoutMs ?? 60_000,
    concurrentTasksPerWorker: 1,
  });
  // Without a listener, an 'error' event (a thread dying between tasks) would crash the process.
  piscina.on('error', (error: Error) => events.onThreadError?.(error));

  let busy = 0;
  let closed = false;
  const waiting: Waiter[] = [];

  // Resolves once a slot is ours; rejects (plain TaskError) if aborted or closed meanwhile.
  function acquire(signal: AbortSignal | undefined): Promise<void> {
    if (closed) return Promise.reject(poolClosed());
    if (signal?.aborted) return Promise.reject(aborted(signal));
    if (busy < capacity && waiting.length === 0) {
      busy += 1;
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      const onAbort = (): void => {
        remove();
        reject(aborted(signal!));
      };
      const remove = (): void => {
        signal?.removeEventListener('abort', onAbort);
        const index = waiting.indexOf(waiter);
        if (index >= 0) waiting.splice(index, 1);
      };
      const waiter: Waiter = {
        start: () => {
          remove();
          busy += 1;
          resolve();
        },
        cancel: (error) => {
          remove();
          reject(error);
        },
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      waiting.push(waiter);
    });
  }

  function release(): void {
    busy -= 1;
    if (!closed) waiting[0]?.start();
  }

  async function run<F extends TaskFunction>(
    task: TaskRef<F>,
    input: TaskInput<F>,
    runOptions: RunTaskOptions = {},
  ): Promise<TaskOutput<F>> {
    const { signal } = runOptions;
    const timeoutMs = runOptions.timeoutMs ?? defaultTimeoutMs;
    try {
      await acquire(signal);
    } catch (error) {
      throw new TaskFailedError(task.name, error as TaskError);
    }
    const timeout = new AbortController();
    const timer = setTimeout(() => timeout.abort(), timeoutMs);
    const taskSignal = signal === undefined ? timeout.signal : AbortSignal.any([signal, timeout.signal]);
    let reply: TaskReply;
    try {
      reply = await piscina.run({ url: task.url, input }, { signal: taskSignal });
    } catch (error) {
      reply = {
        ok: false,
        error: classify(error, { task, timeoutMs, timedOut: timeout.signal.aborted, signal }),
      };
    } finally {
      clearTimeout(timer);
      release();
    }
    if (!reply.ok) throw new TaskFailedError(task.name, reply.error);
    return reply.value as TaskOutput<F>;
  }

  function classify(
    error: unknown,
    context: {
      task: TaskRef<TaskFunction>;
      timeoutMs: number;
      timedOut: boolean;
      signal: AbortSignal | undefined;
    },
  ): TaskError {
    if (closed) return poolClosed();
    if (context.signal?.aborted) return aborted(context.signal);
    if (context.timedOut) {
      return {
        kind: 'TaskTimeout',
        message: `task ${context.task.name} did not finish within ${context.timeoutMs} ms; its thread was stopped`,
      };
    }
    const message = error instanceof Error ? error.message : String(error);
    const exited = /worker exited with code: (-?\d+)/.exec(message);
    if (exited) {
      return {
        kind: 'ThreadExited',
        message: `task ${context.task.name} ended its thread (exit code ${exited[1]})`,
      };
    }
    return { kind: 'ThreadCrashed', message: `task ${context.task.name} crashed its thread: ${message}` };
  }

  return {
    run,
    stats() {
      return {
        capacity,
        threads: piscina.threads.length,
        busy,
        waiting: waiting.length,
        utilization: busy / capacity,
      };
    },
    async close() {
      if (closed) return;
      closed = true;
      for (const waiter of [...waiting]) waiter.cancel(poolClosed());
      await piscina.destroy();
    },
  };
}

function poolClosed(): TaskError {
  return { kind: 'PoolClosed', message: 'the task pool was closed before the task finished' };
}

function aborted(signal: AbortSignal): TaskError {
  const reason: unknown = signal.reason;
  const why = reason instanceof Error ? reason.message : reason === undefined ? 'aborted' : String(reason);
  return { kind: 'Aborted', message: `task aborted: ${why}` };
}
