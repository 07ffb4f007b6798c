// The PostgreSQL side of cross-process invalidation: one dedicated connection (never a pooled
// one, which the pool would hand to a query and lose the LISTEN) that listens on CACHE_CHANNEL
// and hands each `<family>:<version>` notification to the cache.
//
//   connecting   open a client, LISTEN, then call onConnected (the cache re-reads every family's
//                version there: notifications sent while no one listened are lost, versions are not)
//   listening    notifications go to onNotification
//   lost         the connection errored or ended: onDisconnected, then reconnect after a backoff
//                (100 ms doubling up to 5 s) until it works again or stop() is called
//   stopped      stop() ends the client; nothing reconnects
import { CACHE_CHANNEL, parseCacheNotification } from '@offload/db';
import pg from 'pg';

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
  readonly #options: CacheListenerOptions;
  #client: pg.Client | undefined;
  #stopped = false;
  #backoffMs: number;
  #timer: NodeJS.Timeout | undefined;
  #connected = false;
  #reconnects = 0;

  constructor(options: CacheListenerOptions) {
    this.#options = options;
    this.#backoffMs = options.minBackoffMs ?? 100;
  }

  get connected(): boolean {
    return this.#connected;
  }

  /** How many times the connection was re-established after a loss. */
  get reconnects(): number {
    return this.#reconnects;
  }

  /** Connects and listens; rejects only if the first attempt fails (later losses reconnect). */
  async start(): Promise<void> {
    await this.#connect();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    const client = this.#client;
    this.#client = undefined;
    this.#connected = false;
    if (client !== undefined) await client.end().catch(() => {});
  }

  async #connect(): Promise<void> {
    const client = new pg.Client({
      connectionString: this.#options.connectionString,
      application_name: this.#options.applicationName ?? CACHE_LISTENER_APPLICATION_NAME,
      keepAlive: true,
    });
    let lost = false;
    const onLost = (error: unknown) => {
      if (lost) return;
      lost = true;
      if (this.#client === client) this.#client = undefined;
      const wasConnected = this.#connected;
      this.#connected = false;
      client.removeAllListeners('notification');
      client.end().catch(() => {});
      if (this.#stopped) return;
      if (wasConnected) this.#options.onDisconnected(error);
      this.#scheduleReconnect();
    };
    client.on('error', onLost);
    client.on('end', () => onLost(new Error('cache listener connection ended')));
    client.on('notification', (message) => {
      if (message.channel !== CACHE_CHANNEL || message.payload === undefined) return;
      const parsed = parseCacheNotification(message.payload);
      if (parsed !== null) this.#options.onNotification(parsed.family, parsed.version);
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${CACHE_CHANNEL}`);
    } catch (error) {
      onLost(error);
      throw error;
    }
    if (this.#stopped) {
      await client.end().catch(() => {});
      return;
    }
    this.#client = client;
    this.#connected = true;
    this.#backoffMs = this.#options.minBackoffMs ?? 100;
    await this.#options.onConnected();
  }

  #scheduleReconnect(): void {
    if (this.#stopped || this.#timer !== undefined) return;
    const delay = this.#backoffMs;
    this.#backoffMs = Math.min(this.#backoffMs * 2, this.#options.maxBackoffMs ?? 5000);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#connect().then(
        () => {
          this.#reconnects += 1;
        },
        () => {
          // #connect's onLost already scheduled the next attempt.
        },
      );
    }, delay);
    this.#timer.unref();
  }
}
