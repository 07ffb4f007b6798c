// What the conformance suite needs from a backend under test, and small helpers its cases share.
import { randomUUID } from 'node:crypto';
import type {
  Job,
  JobState,
  QueueBackend,
  QueueBackendOptions,
  Refused,
  SqlExecutor,
} from '../../src/index.ts';

/** One database under test: backends on it, and the caller's own connection for transactions. */
export interface ConformanceContext {
  /** `sqlite:<path>` or `postgres://…`, for worker processes. */
  databaseUrl: string;
  /** A new, unstarted backend on this database, with its own connections (as another process has). */
  createBackend(options?: Pick<QueueBackendOptions, 'defaults'>): Promise<QueueBackend>;
  /**
   * Runs `fn` inside a transaction on the caller's own connection (the application's knex):
   * commits when it resolves, rolls back when it throws. `exec` runs the caller's own SQL in it.
   */
  transaction<T>(
    fn: (executor: SqlExecutor, exec: (sql: string) => Promise<unknown>) => Promise<T>,
  ): Promise<T>;
  /** Runs a statement on the caller's connection, outside any transaction. */
  exec(sql: string): Promise<Array<Record<string, unknown>>>;
  destroy(): Promise<void>;
}

/** Makes a fresh database for a group of cases. */
export type ConformanceFactory = () => Promise<ConformanceContext>;

/** A kind no other case uses, so that cases sharing a database never see each other's jobs. */
export function uniqueKind(label: string): string {
  return `conf.${label}.${randomUUID().slice(0, 8)}`;
}

export { eventually } from '@offload/db/testing';
export { STORED } from '../../src/index.ts';

export async function getJob(backend: QueueBackend, id: string): Promise<Job> {
  const job = await backend.jobGet(id);
  if (job === null) throw new Error(`job ${id} not found`);
  return job;
}

/** A refused transition's outcome: what it found instead (null: no such job). */
export function refused(found: JobState | null, reclaimed = false): Refused {
  return { stored: false, found, reclaimed };
}

export function later(ms: number, from = Date.now()): Date {
  return new Date(from + ms);
}
