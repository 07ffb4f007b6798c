// The PostgreSQL side of cross-process invalidation: @offload/db's PgListener (the one LISTEN
// client, shared with the queue: a dedicated connection, reconnects with backoff, and a heartbeat
// that finds a half-open connection) on CACHE_CHANNEL, handing each `<family>:<version>`
// notification to the cache.
//
//   connecting   open the connection, LISTEN, then call onConnected (the cache re-reads every
//                family's version there: notifications sent while no one listened are lost,
//                versions are not)
//   listening    notifications go to onNotification
//   lost         the connection errored, ended or stopped answering its heartbeat: onDisconnected,
//                then reconnect after a backoff (100 ms doubling up to 5 s) until it works again
//   stopped      stop() ends it; nothing reconnects
import { CACHE_CHANNEL, PgListener, parseCacheNotification } from '@offload/db';

export interface CacheListenerOptions {
  /** The PostgreSQL database to listen on. */
  connectionString: string;
  onNotification(family: string, version: number): void;
  /** Listening (again): anything sent while disconnected was missed. */
  onConnected(): void | Promise<void>;
  onDisconnected(error: unknown): void;
  /** Shown in pg_stat_activity, so operators (and tests) can find the connection. */
  applicationName?: string;
  minBackoffMs?: number;
  maxBackoffMs?: number;
}

export const CACHE_LISTENER_APPLICATION_NAME = 'offload-cache-listener';

export class CacheListener {
  readonly #listener: PgListener;

  constructor(options: CacheListenerOptions) {
    this.#listener = new PgListener({
      connectionString: options.connectionString,
      applicationName: options.applicationName ?? CACHE_LISTENER_APPLICATION_NAME,
      ...(options.minBackoffMs === undefined ? {} : { minBackoffMs: options.minBackoffMs }),
      ...(options.maxBackoffMs === undefined ? {} : { maxBackoffMs: options.maxBackoffMs }),
      onNotification: (channel, payload) => {
        if (channel !== CACHE_CHANNEL) return;
        const parsed = parseCacheNotification(payload);
        if (parsed !== null) options.onNotification(parsed.family, parsed.version);
      },
      onConnected: () => options.onConnected(),
      onLost: (error) => options.onDisconnected(error),
    });
  }

  get connected(): boolean {
    return this.#listener.connected;
  }

  /** How many times the connection was re-established after a loss. */
  get reconnects(): number {
    return this.#listener.reconnects;
  }

  /** Connects and listens; rejects only if the first attempt fails (later losses reconnect). */
  async start(): Promise<void> {
    await this.#listener.want(CACHE_CHANNEL);
  }

  async stop(): Promise<void> {
    await this.#listener.close();
  }
}
