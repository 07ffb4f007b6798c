import { AsyncLocalStorage } from 'node:async_hooks';
import type { Knex } from 'knex';

/** Queries issued inside one context (one request, one job step) and their total time. */
export interface QueryStats {
  count: number;
  totalMs: number;
}

export type QueryListener = (ms: number, sql: string) => void;

const contexts = new AsyncLocalStorage<QueryStats>();
const listeners = new Set<QueryListener>();

/**
 * Runs `fn` in a fresh context that counts and times every query it issues, on any Db. A nested
 * context counts only its own queries: the outer one does not see them.
 */
export async function withQueryStats<T>(fn: () => T | Promise<T>): Promise<{ result: T; stats: QueryStats }> {
  const stats: QueryStats = { count: 0, totalMs: 0 };
  const result = await contexts.run(stats, fn);
  return { result, stats: { ...stats } };
}

/**
 * Runs `fn` synchronously in a context that counts and times every query it issues (and what it
 * schedules) into `stats`, live. For a caller that keeps going after `fn` returns (an HTTP
 * request's middleware chain): no promise is made per call.
 */
export function countQueries<T>(stats: QueryStats, fn: () => T): T {
  return contexts.run(stats, fn);
}

/** The live stats of the context the caller runs in, e.g. to write a Server-Timing header. */
export function currentQueryStats(): Readonly<QueryStats> | undefined {
  return contexts.getStore();
}

/** Sees every query of every Db, in a context or not (for a latency histogram). Returns an unsubscribe. */
export function onQuery(listener: QueryListener): () => void {
  listeners.add(listener);
  return () => {
    listeners.delete(listener);
  };
}

interface QueryEventData {
  __knexQueryUid?: string;
  sql?: string;
}

interface Pending {
  startedAt: number;
  stats: QueryStats | undefined;
  sql: string;
}

// Streamed queries emit `query` but never `query-response`; bound what they leave behind.
const MAX_PENDING = 10_000;

/** Hooks a knex instance's query events; called once by createDb. Returns a detach function. */
export function instrument(knex: Knex): () => void {
  const pending = new Map<string, Pending>();

  // Transaction control (BEGIN/COMMIT) is emitted without a uid and never answered: it is not
  // counted, so a count is the number of statements the code issued.
  const onStart = (data: QueryEventData) => {
    const uid = data.__knexQueryUid;
    if (uid === undefined) return;
    // The event is emitted synchronously from the caller's async context, so the store is the
    // caller's, even when several contexts share the pool.
    const stats = contexts.getStore();
    if (stats !== undefined) stats.count += 1;
    pending.set(uid, { startedAt: performance.now(), stats, sql: data.sql ?? '' });
    if (pending.size > MAX_PENDING) pending.delete(pending.keys().next().value!);
  };

  const onEnd = (data: QueryEventData) => {
    const uid = data.__knexQueryUid;
    const started = uid === undefined ? undefined : pending.get(uid);
    if (started === undefined) return;
    pending.delete(uid!);
    const ms = performance.now() - started.startedAt;
    if (started.stats !== undefined) started.stats.totalMs += ms;
    for (const listener of listeners) {
      try {
        listener(ms, started.sql);
      } catch {
        // A metrics hook must never fail the query it observes.
      }
    }
  };
  const onResponse = (_response: unknown, data: QueryEventData) => onEnd(data);
  const onError = (_error: unknown, data: QueryEventData) => onEnd(data);

  knex.on('query', onStart);
  knex.on('query-response', onResponse);
  knex.on('query-error', onError);
  return () => {
    knex.removeListener('query', onStart);
    knex.removeListener('query-response', onResponse);
    knex.removeListener('query-error', onError);
  };
}
