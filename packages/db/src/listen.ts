// The one LISTEN client (PostgreSQL), used by the queue (wake-ups and job events) and the cache
// (cross-process invalidation): a dedicated pg.Client (a pooled connection cannot hold a LISTEN),
// subscribed to the channels somebody in this process wants.
//
// States: idle (no channel wanted, no connection) → connecting → listening ⇄ reconnecting → closed.
//   - `want(channel)` / `unwant(channel)` count subscribers per channel; the first want opens the
//     connection (or adds a LISTEN to it), the last unwant drops the LISTEN. A want whose
//     connection attempt fails rejects, but keeps the subscription: it is LISTENed once a
//     reconnect succeeds.
//   - A connection that errors or ends, or whose heartbeat (`SELECT 1` every 10 s, 5 s to answer)
//     fails, is replaced after a backoff (100 ms doubling to 5 s). The heartbeat is what finds a
//     half-open connection (the server or a middlebox gone without a FIN): such a socket never
//     errors by itself, and its LISTEN would silently hear nothing. After every (re)connect each
//     wanted channel is LISTENed again and `onConnected` runs, because notifications sent while
//     no one listened are lost (callers re-read instead).
//   - `close()` ends it for good.
import pg from 'pg';

export interface PgListenerOptions {
  connectionString: string;
  /** Shown in pg_stat_activity, so operators (and tests) can find the connection. */
  applicationName: string;
  onNotification(channel: string, payload: string): void;
  /** Listening on every wanted channel, the first time (`reconnected` false) or again. */
  onConnected?(reconnected: boolean): void | Promise<void>;
  /** The connection was lost; it is being replaced (failed attempts are not reported again). */
  onLost?(error: Error): void;
  minBackoffMs?: number;
  maxBackoffMs?: number;
  heartbeatMs?: number;
  heartbeatTimeoutMs?: number;
}

export class PgListener {
  readonly #options: PgListenerOptions;
  readonly #wanted = new Map<string, number>();
  #client: pg.Client | null = null;
  #connecting: Promise<void> | null = null;
  #reconnectTimer: NodeJS.Timeout | null = null;
  #heartbeatTimer: NodeJS.Timeout | null = null;
  #attempt = 0;
  #everConnected = false;
  #reconnects = 0;
  #closed = false;

  constructor(options: PgListenerOptions) {
    this.#options = options;
  }

  get connected(): boolean {
    return this.#client !== null;
  }

  /** How many times the connection was re-established after a loss. */
  get reconnects(): number {
    return this.#reconnects;
  }

  /** Subscribes this process to `channel`; resolves once the LISTEN is in place. */
  async want(channel: string): Promise<void> {
    if (this.#closed) throw new Error('listener is closed');
    const count = this.#wanted.get(channel) ?? 0;
    this.#wanted.set(channel, count + 1);
    if (count > 0 && this.#client !== null) return;
    try {
      await this.#ensureConnected();
      // A connection opened before this channel was wanted has not LISTENed to it (a second
      // LISTEN of the same channel is harmless).
      if (count === 0 && this.#client !== null) await this.#client.query(`LISTEN ${quote(channel)}`);
    } catch (error) {
      this.#scheduleReconnect();
      throw error;
    }
  }

  async unwant(channel: string): Promise<void> {
    const count = this.#wanted.get(channel) ?? 0;
    if (count > 1) {
      this.#wanted.set(channel, count - 1);
      return;
    }
    this.#wanted.delete(channel);
    if (this.#client !== null) await this.#client.query(`UNLISTEN ${quote(channel)}`).catch(() => {});
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#reconnectTimer !== null) clearTimeout(this.#reconnectTimer);
    if (this.#heartbeatTimer !== null) clearTimeout(this.#heartbeatTimer);
    await this.#connecting?.catch(() => {});
    const client = this.#client;
    this.#client = null;
    if (client !== null) {
      client.removeAllListeners();
      client.on('error', () => {});
      await client.end().catch(() => {});
    }
  }

  #ensureConnected(): Promise<void> {
    if (this.#client !== null) return Promise.resolve();
    this.#connecting ??= this.#connect().finally(() => {
      this.#connecting = null;
    });
    return this.#connecting;
  }

  async #connect(): Promise<void> {
    const client = new pg.Client({
      connectionString: this.#options.connectionString,
      application_name: this.#options.applicationName,
      keepAlive: true,
      keepAliveInitialDelayMillis: 10_000,
      connectionTimeoutMillis: 5_000,
    });
    client.on('error', (error) => this.#lost(client, error));
    client.on('end', () => this.#lost(client, new Error('LISTEN connection ended')));
    client.on('notification', (message) => {
      if (message.payload !== undefined) this.#options.onNotification(message.channel, message.payload);
    });
    try {
      await client.connect();
      for (const channel of this.#wanted.keys()) await client.query(`LISTEN ${quote(channel)}`);
    } catch (error) {
      client.removeAllListeners();
      client.on('error', () => {});
      await client.end().catch(() => {});
      throw error;
    }
    if (this.#closed) {
      client.removeAllListeners();
      client.on('error', () => {});
      await client.end().catch(() => {});
      return;
    }
    this.#client = client;
    this.#attempt = 0;
    const reconnected = this.#everConnected;
    this.#everConnected = true;
    if (reconnected) this.#reconnects += 1;
    this.#scheduleHeartbeat(client);
    await this.#options.onConnected?.(reconnected);
  }

  #lost(client: pg.Client, error: Error): void {
    if (this.#closed || this.#client !== client) return;
    this.#client = null;
    if (this.#heartbeatTimer !== null) clearTimeout(this.#heartbeatTimer);
    client.removeAllListeners();
    client.on('error', () => {});
    client.end().catch(() => {});
    this.#options.onLost?.(error);
    this.#scheduleReconnect();
  }

  #scheduleReconnect(): void {
    if (this.#closed || this.#reconnectTimer !== null) return;
    const min = this.#options.minBackoffMs ?? 100;
    const backoff = Math.min(this.#options.maxBackoffMs ?? 5_000, min * 2 ** Math.min(this.#attempt, 10));
    this.#attempt += 1;
    this.#reconnectTimer = setTimeout(() => {
      this.#reconnectTimer = null;
      // Still down: try again later (the loss was reported once, when it happened).
      this.#ensureConnected().catch(() => this.#scheduleReconnect());
    }, backoff);
    this.#reconnectTimer.unref();
  }

  #scheduleHeartbeat(client: pg.Client): void {
    this.#heartbeatTimer = setTimeout(() => {
      if (this.#client !== client) return;
      let timeout: NodeJS.Timeout | undefined;
      const deadline = new Promise<never>((_, reject) => {
        timeout = setTimeout(
          () => reject(new Error('LISTEN heartbeat timed out')),
          this.#options.heartbeatTimeoutMs ?? 5_000,
        );
      });
      Promise.race([client.query('SELECT 1'), deadline])
        .then(
          () => this.#scheduleHeartbeat(client),
          (error: Error) => this.#lost(client, error),
        )
        .finally(() => clearTimeout(timeout));
    }, this.#options.heartbeatMs ?? 10_000);
    this.#heartbeatTimer.unref();
  }
}

function quote(channel: string): string {
  return `"${channel.replaceAll('"', '""')}"`;
}
