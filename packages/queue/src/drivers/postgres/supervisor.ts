// Connection supervision. pg-boss emits 'error' and stops being useful when its connection dies;
// here nothing owns a connection for long enough to die with it:
//
//   - One pg.Pool serves our statements and pg-boss's (handed to pg-boss as its `db`), so pg-boss
//     never holds a pool of its own that could end.
//   - `query()` runs a statement; when it fails because the connection was lost (server restart,
//     pg_terminate_backend, refused connect while the server is down) it waits with exponential
//     backoff and runs it again on a fresh connection, until it succeeds, the backend stops, or
//     `reconnectTimeoutMs` passes. Every other error is the caller's.
//   - The pool's 'error' event (an idle connection killed by the server) is reported, never thrown.
//
// Retrying is safe because every statement is one transaction: a connection lost before COMMIT
// rolled it back. A connection lost *during* COMMIT leaves the outcome unknown, so results carry
// `retried: true` and the callers whose statements are not idempotent settle the doubt themselves
// (see `endedWithToken` in sql.ts). Statements sent through a caller's transaction are never retried.
import { createHash } from 'node:crypto';
import { isLostConnection } from '@offload/db';
import pg from 'pg';

export interface QueryResult {
  rows: Array<Record<string, unknown>>;
  rowCount: number;
  /** The statement ran more than once because a connection was lost: an earlier try may have committed. */
  retried: boolean;
}

export type ErrorReporter = (error: Error, context: string) => void;

export interface SupervisedPoolOptions {
  connectionString: string;
  max: number;
  /** Give up on a lost connection after this long (ms). */
  reconnectTimeoutMs: number;
  onError: ErrorReporter;
  applicationName?: string;
}

/** Pooled connections kept open however long they stay idle. */
const WARM_CONNECTIONS = 2;

export class SupervisedPool {
  readonly #pool: pg.Pool;
  readonly #options: SupervisedPoolOptions;
  #stopping = false;
  #wakeSleepers = new Set<() => void>();

  constructor(options: SupervisedPoolOptions) {
    this.#options = options;
    this.#pool = new pg.Pool({
      connectionString: options.connectionString,
      max: options.max,
      application_name: options.applicationName ?? 'offload-queue',
      connectionTimeoutMillis: 5_000,
      keepAlive: true,
      // Kept connections may idle for long: TCP keepalive probes after 10 s idle find a socket
      // a NAT or firewall dropped silently (as the LISTEN client's do, @offload/db listen.ts).
      keepAliveInitialDelayMillis: 10_000,
      // Idle connections are closed after 10 s, but never the last WARM_CONNECTIONS: an idle
      // worker's first claim (and an idle API's first send) would otherwise open a connection and
      // prepare its statements again, ~150-300 ms on a loaded machine instead of a few ms.
      min: Math.min(WARM_CONNECTIONS, options.max),
      idleTimeoutMillis: 10_000,
      // Our hot statements are prepared once per connection (see `prepare`); planned generically,
      // they are not planned again on every call (a custom plan for a one-job claim cost ~2 ms).
      options: '-c plan_cache_mode=force_generic_plan',
    });
    // An idle connection the server killed: the pool drops it and opens another on demand.
    this.#pool.on('error', (error) => options.onError(error, 'idle connection lost'));
  }

  /**
   * Runs one statement (or a multi-statement transaction script), retrying lost connections.
   * `prepare` names the statement so each connection parses and plans it once (hot paths only: a
   * named statement must be a single statement). `types` replaces the driver's type parsers for
   * this statement's result.
   */
  async query(
    text: string,
    values?: readonly unknown[],
    options: { prepare?: boolean; types?: pg.CustomTypesConfig } = {},
  ): Promise<QueryResult> {
    const deadline = Date.now() + this.#options.reconnectTimeoutMs;
    const name = options.prepare === true ? this.#statementName(text) : undefined;
    let retried = false;
    for (let attempt = 0; ; attempt += 1) {
      try {
        const result = await this.#pool.query({
          text,
          values: values as unknown[] | undefined,
          name,
          ...(options.types === undefined ? {} : { types: options.types }),
        });
        return {
          rows: (Array.isArray(result) ? (result.at(-1)?.rows ?? []) : result.rows) as Array<
            Record<string, unknown>
          >,
          rowCount: (Array.isArray(result) ? result.at(-1)?.rowCount : result.rowCount) ?? 0,
          retried,
        };
      } catch (error) {
        if (this.#stopping || !isLostConnection(error) || Date.now() >= deadline) throw error;
        if (attempt === 0) this.#options.onError(error as Error, 'connection lost; retrying');
        retried = true;
        await this.#sleep(Math.min(2_000, 50 * 2 ** Math.min(attempt, 6)));
      }
    }
  }

  /** The raw driver result (multi-statement scripts return one result per statement); for pg-boss. */
  async rawQuery(text: string, values?: unknown[]): Promise<unknown> {
    const deadline = Date.now() + this.#options.reconnectTimeoutMs;
    for (let attempt = 0; ; attempt += 1) {
      try {
        return await this.#pool.query(text, values);
      } catch (error) {
        if (this.#stopping || !isLostConnection(error) || Date.now() >= deadline) throw error;
        await this.#sleep(Math.min(2_000, 50 * 2 ** Math.min(attempt, 6)));
      }
    }
  }

  #names = new Map<string, string>();

  #statementName(text: string): string {
    let name = this.#names.get(text);
    if (name === undefined) {
      name = `offload_${createHash('sha1').update(text).digest('hex').slice(0, 20)}`;
      this.#names.set(text, name);
    }
    return name;
  }

  async end(): Promise<void> {
    this.#stopping = true;
    for (const wake of this.#wakeSleepers) wake();
    await this.#pool.end();
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.#wakeSleepers.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.#wakeSleepers.add(done);
    });
  }
}
