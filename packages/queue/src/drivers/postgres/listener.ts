// The LISTEN side of wake-ups and job events: one dedicated pg.Client per backend (a pooled
// connection cannot hold a LISTEN), subscribed to the channels somebody in this process wants.
//
// States: idle (no channel wanted, no connection) → connecting → listening ⇄ reconnecting → closed.
//   - `want(channel)` / `unwant(channel)` count subscribers per channel; the first want opens the
//     connection (or adds a LISTEN to it), the last unwant drops the LISTEN.
//   - A connection that errors or ends, or whose heartbeat (`SELECT 1` every 10 s) fails, is
//     replaced after a backoff (100 ms doubling to 5 s); every wanted channel is LISTENed again and
//     `onReconnect` fires, because notifications sent meanwhile are lost (callers re-check instead).
//   - `close()` ends it for good.
import pg from 'pg';
import type { ErrorReporter } from './supervisor.ts';

export interface ListenerOptions {
  connectionString: string;
  onNotification: (channel: string, payload: string) => void;
  /** After a lost connection was replaced and LISTENs restored. */
  onReconnect: () => void;
  onError: ErrorReporter;
}

const HEARTBEAT_MS = 10_000;
const HEARTBEAT_TIMEOUT_MS = 5_000;

export class NotificationListener {
  readonly #options: ListenerOptions;
  readonly #wanted = new Map<string, number>();
  #client: pg.Client | null = null;
  #connecting: Promise<void> | null = null;
  #reconnectTimer: NodeJS.Timeout | null = null;
  #heartbeatTimer: NodeJS.Timeout | null = null;
  #attempt = 0;
  #closed = false;

  constructor(options: ListenerOptions) {
    this.#options = options;
  }

  /** Subscribes this process to `channel`; resolves once the LISTEN is in place. */
  async want(channel: string): Promise<void> {
    if (this.#closed) throw new Error('listener is closed');
    const count = this.#wanted.get(channel) ?? 0;
    this.#wanted.set(channel, count + 1);
    if (count > 0 && this.#client !== null) return;
    try {
      await this.#ensureConnected();
      if (count === 0 && this.#client !== null) await this.#client.query(`LISTEN ${quote(channel)}`);
    } catch (error) {
      // The database is unreachable right now: keep the subscription and LISTEN once it is back.
      this.#options.onError(error as Error, 'LISTEN failed; retrying');
      this.#scheduleReconnect();
    }
  }

  async unwant(channel: string): Promise<void> {
    const count = this.#wanted.get(channel) ?? 0;
    if (count > 1) {
      this.#wanted.set(channel, count - 1);
      return;
    }
    this.#wanted.delete(channel);
    if (this.#client !== null) {
      await this.#client.query(`UNLISTEN ${quote(channel)}`).catch(() => {});
    }
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
      application_name: 'offload-queue-listen',
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
      await client.end().catch(() => {});
      return;
    }
    this.#client = client;
    this.#attempt = 0;
    this.#scheduleHeartbeat(client);
  }

  #lost(client: pg.Client, error: Error): void {
    if (this.#closed || this.#client !== client) return;
    this.#client = null;
    if (this.#heartbeatTimer !== null) clearTimeout(this.#heartbeatTimer);
    client.removeAllListeners();
    client.on('error', () => {});
    client.end().catch(() => {});
    this.#options.onError(error, 'LISTEN connection lost; reconnecting');
    this.#scheduleReconnect();
  }

  #scheduleReconnect(): void {
    if (this.#closed || this.#reconnectTimer !== null) return;
    const backoff = Math.min(5_000, 100 * 2 ** Math.min(this.#attempt, 6));
    this.#attempt += 1;
    this.#reconnectTimer = setTimeout(() => {
      this.#reconnectTimer = null;
      this.#ensureConnected().then(
        () => {
          if (!this.#closed) this.#options.onReconnect();
        },
        () => this.#scheduleReconnect(),
      );
    }, backoff);
    this.#reconnectTimer.unref();
  }

  #scheduleHeartbeat(client: pg.Client): void {
    this.#heartbeatTimer = setTimeout(() => {
      if (this.#client !== client) return;
      let timeout: NodeJS.Timeout | undefined;
      const deadline = new Promise<never>((_, reject) => {
        timeout = setTimeout(() => reject(new Error('LISTEN heartbeat timed out')), HEARTBEAT_TIMEOUT_MS);
      });
      Promise.race([client.query('SELECT 1'), deadline])
        .then(
          () => this.#scheduleHeartbeat(client),
          (error: Error) => this.#lost(client, error),
        )
        .finally(() => clearTimeout(timeout));
    }, HEARTBEAT_MS);
    this.#heartbeatTimer.unref();
  }
}

function quote(channel: string): string {
  return `"${channel.replaceAll('"', '""')}"`;
}
