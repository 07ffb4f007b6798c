// This process's subscribers to wake-ups and job events, fed by one LISTEN connection
// (@offload/db's PgListener, the one LISTEN client with its half-open-connection heartbeat, shared
// with the cache), which LISTENs on a channel only while someone here subscribes to it.
//
// Wake-ups (pg-boss's channel): `kind` means a job of that kind is ready now, `kind@epochMs` that
// one becomes ready then (delayed sends, retries after their backoff), which arms one timer per
// kind for the earliest such instant, so idle workers start them without polling. When the LISTEN
// connection is replaced every subscriber is woken once: notifications sent meanwhile were lost.
//
// Events (our channel): JSON arrays of `[id, kind, pg-boss state, epoch ms, progress, truncated]`;
// a progress too large for a notification is read back before its event is handed on.
import { PgListener } from '@offload/db';
import type { JobEvent, JsonObject, Unsubscribe } from '../../types.ts';
import { toState } from './rows.ts';
import type { ErrorReporter } from './supervisor.ts';

export interface SubscriptionsOptions {
  connectionString: string;
  wakeChannel: string;
  eventsChannel: string;
  /** Reads a job's progress back, for an event whose progress did not fit its notification. */
  readProgress: (id: string) => Promise<JsonObject | null>;
  onError: ErrorReporter;
}

interface WakeSubscription {
  kinds: ReadonlySet<string>;
  listener: () => void;
}

type RawEvent = [
  id: string,
  kind: string,
  state: string,
  atMs: number,
  progress: JsonObject | null,
  truncated: boolean,
];

export class Subscriptions {
  readonly #options: SubscriptionsOptions;
  readonly #listener: PgListener;
  readonly #wakeSubscriptions = new Set<WakeSubscription>();
  readonly #eventListeners = new Set<(event: JobEvent) => void>();
  readonly #wakeTimers = new Map<string, { at: number; timer: NodeJS.Timeout }>();

  constructor(options: SubscriptionsOptions) {
    this.#options = options;
    this.#listener = new PgListener({
      connectionString: options.connectionString,
      applicationName: 'offload-queue-listen',
      onNotification: (channel, payload) => {
        if (channel === options.wakeChannel) this.#onWake(payload);
        else if (channel === options.eventsChannel) this.#onEvents(payload);
      },
      // Wake-ups sent while the connection was down are lost: every waiting worker re-checks.
      onConnected: (reconnected) => {
        if (!reconnected) return;
        for (const subscription of this.#wakeSubscriptions) this.#call(subscription.listener);
      },
      onLost: (error) => options.onError(error, 'LISTEN connection lost; reconnecting'),
    });
  }

  async onJobsAvailable(kinds: readonly string[], listener: () => void): Promise<Unsubscribe> {
    const subscription: WakeSubscription = { kinds: new Set(kinds), listener };
    this.#wakeSubscriptions.add(subscription);
    return this.#subscribe(this.#options.wakeChannel, () => this.#wakeSubscriptions.delete(subscription));
  }

  async onJobEvent(listener: (event: JobEvent) => void): Promise<Unsubscribe> {
    this.#eventListeners.add(listener);
    return this.#subscribe(this.#options.eventsChannel, () => this.#eventListeners.delete(listener));
  }

  async close(): Promise<void> {
    for (const { timer } of this.#wakeTimers.values()) clearTimeout(timer);
    this.#wakeTimers.clear();
    this.#wakeSubscriptions.clear();
    this.#eventListeners.clear();
    await this.#listener.close();
  }

  async #subscribe(channel: string, remove: () => void): Promise<Unsubscribe> {
    // The database is unreachable right now: the subscription stays, and is LISTENed once it is back.
    await this.#listener.want(channel).catch((error: unknown) => {
      this.#options.onError(
        error instanceof Error ? error : new Error(String(error)),
        'LISTEN failed; retrying',
      );
    });
    let active = true;
    return async () => {
      if (!active) return;
      active = false;
      remove();
      await this.#listener.unwant(channel);
    };
  }

  #onWake(payload: string): void {
    const at = payload.lastIndexOf('@');
    const kind = at === -1 ? payload : payload.slice(0, at);
    const readyAt = at === -1 ? 0 : Number(payload.slice(at + 1));
    const delay = readyAt - Date.now();
    if (!Number.isFinite(delay) || delay <= 0) {
      this.#wake(kind);
      return;
    }
    if (![...this.#wakeSubscriptions].some((s) => s.kinds.has(kind))) return;
    const pending = this.#wakeTimers.get(kind);
    if (pending !== undefined && pending.at <= readyAt) return;
    if (pending !== undefined) clearTimeout(pending.timer);
    const timer = setTimeout(
      () => {
        this.#wakeTimers.delete(kind);
        this.#wake(kind);
      },
      Math.min(delay + 1, 2 ** 31 - 1),
    );
    timer.unref();
    this.#wakeTimers.set(kind, { at: readyAt, timer });
  }

  #wake(kind: string): void {
    for (const subscription of this.#wakeSubscriptions) {
      if (subscription.kinds.has(kind)) this.#call(subscription.listener);
    }
  }

  #onEvents(payload: string): void {
    let items: RawEvent[];
    try {
      items = JSON.parse(payload) as RawEvent[];
    } catch (error) {
      this.#options.onError(error as Error, 'malformed job event payload');
      return;
    }
    for (const [id, kind, bossState, atMs, progress, truncated] of items) {
      const event: JobEvent = {
        id,
        kind,
        state: toState(bossState),
        progress: progress ?? null,
        at: new Date(atMs).toISOString(),
      };
      if (!truncated) {
        this.#emit(event);
        continue;
      }
      this.#options.readProgress(id).then(
        (read) => this.#emit({ ...event, progress: read }),
        (error: unknown) => this.#options.onError(error as Error, 'reading back a job event'),
      );
    }
  }

  #emit(event: JobEvent): void {
    for (const listener of this.#eventListeners) this.#call(() => listener(event));
  }

  #call(fn: () => void): void {
    try {
      fn();
    } catch (error) {
      this.#options.onError(error as Error, 'queue listener threw');
    }
  }
}
