// Per-kind queue figures for /v1/queues, /v1/health and the /metrics gauges, from the backend's
// `jobCounts` (maintained counters, so cheap, but still a round trip): one snapshot serves every
// reader for `maxAgeMs`, and concurrent readers share the fetch in flight, so a burst of
// dashboard polls and scrapes costs one query.
//
// Throughput (completed and failed jobs per minute) is measured here, from the change in the
// completed/failed counts between snapshots over the last `windowMs`. A sampling timer keeps
// the history filled when nobody asks. Pruning removes finished jobs and so lowers the counts:
// a window in which a count went down reports no rate (null) rather than a wrong one.
import type { Queue } from '@offload/queue';

export interface KindStats {
  kind: string;
  /** Jobs waiting: queued and retrying. */
  depth: number;
  queued: number;
  retrying: number;
  /** Waiting jobs whose runAt has passed (could start now) and those still ahead: depth split. */
  ready: number;
  scheduled: number;
  /** `scheduled` stopped counting at the cap (see @offload/queue's SCHEDULED_COUNT_CAP). */
  scheduledCapped: boolean;
  running: number;
  completed: number;
  failed: number;
  cancelled: number;
  /** Age of the oldest job ready to run, in seconds: the queue's lag. */
  oldestAgeSeconds: number | null;
  completedPerMinute: number | null;
  failedPerMinute: number | null;
}

export interface QueueSnapshot {
  measuredAt: string;
  kinds: KindStats[];
}

export interface QueueStatsOptions {
  queue: Queue;
  /** Kinds listed even before they have a job (the catalog). */
  kinds: readonly string[];
  maxAgeMs?: number;
  windowMs?: number;
  now?: () => Date;
}

interface Sample {
  atMs: number;
  totals: Map<string, { completed: number; failed: number }>;
}

export class QueueStats {
  readonly #queue: Queue;
  readonly #kinds: readonly string[];
  readonly #maxAgeMs: number;
  readonly #windowMs: number;
  readonly #now: () => Date;
  #samples: Sample[] = [];
  #latest: { atMs: number; snapshot: QueueSnapshot } | undefined;
  #inFlight: Promise<QueueSnapshot> | undefined;
  #timer: NodeJS.Timeout | undefined;
  readonly #listeners = new Set<(snapshot: QueueSnapshot) => void>();

  constructor(options: QueueStatsOptions) {
    this.#queue = options.queue;
    this.#kinds = options.kinds;
    this.#maxAgeMs = options.maxAgeMs ?? 1000;
    this.#windowMs = options.windowMs ?? 5 * 60_000;
    this.#now = options.now ?? (() => new Date());
  }

  /** The figures, at most `maxAgeMs` old. */
  snapshot(): Promise<QueueSnapshot> {
    const nowMs = this.#now().getTime();
    if (this.#latest !== undefined && nowMs - this.#latest.atMs < this.#maxAgeMs) {
      return Promise.resolve(this.#latest.snapshot);
    }
    this.#inFlight ??= this.#fetch().finally(() => {
      this.#inFlight = undefined;
    });
    return this.#inFlight;
  }

  /** Calls `listener` with every snapshot fetched from now on (the console's minute series). */
  onSnapshot(listener: (snapshot: QueueSnapshot) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Samples every `intervalMs` so throughput is known before the first reader asks. */
  start(intervalMs = 15_000, onError: (error: unknown) => void = () => {}): void {
    if (this.#timer !== undefined) return;
    this.#timer = setInterval(() => {
      this.snapshot().catch(onError);
    }, intervalMs);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  async #fetch(): Promise<QueueSnapshot> {
    const at = this.#now();
    const counts = await this.#queue.counts(at);
    const atMs = at.getTime();
    const byKind = new Map(counts.map((row) => [row.kind, row]));
    const sample: Sample = {
      atMs,
      totals: new Map(counts.map((row) => [row.kind, { completed: row.completed, failed: row.failed }])),
    };
    const base = this.#baseSample(atMs);
    this.#samples.push(sample);

    const kinds = [...new Set([...this.#kinds, ...byKind.keys()])].sort();
    const snapshot: QueueSnapshot = {
      measuredAt: at.toISOString(),
      kinds: kinds.map((kind) => {
        const row = byKind.get(kind);
        const before = base?.totals.get(kind) ?? { completed: 0, failed: 0 };
        const minutes = base === undefined ? 0 : (atMs - base.atMs) / 60_000;
        const rate = (now: number, then: number) =>
          minutes <= 0 || now < then ? null : Math.round(((now - then) / minutes) * 100) / 100;
        return {
          kind,
          depth: (row?.queued ?? 0) + (row?.retrying ?? 0),
          queued: row?.queued ?? 0,
          retrying: row?.retrying ?? 0,
          ready: row?.ready ?? 0,
          scheduled: row?.scheduled ?? 0,
          scheduledCapped: row?.scheduledCapped ?? false,
          running: row?.active ?? 0,
          completed: row?.completed ?? 0,
          failed: row?.failed ?? 0,
          cancelled: row?.cancelled ?? 0,
          oldestAgeSeconds: row?.oldestQueuedAgeSeconds ?? null,
          completedPerMinute: rate(row?.completed ?? 0, before.completed),
          failedPerMinute: rate(row?.failed ?? 0, before.failed),
        };
      }),
    };
    this.#latest = { atMs, snapshot };
    for (const listener of this.#listeners) listener(snapshot);
    return snapshot;
  }

  /** The oldest sample within the window (older ones are dropped), to measure rates against. */
  #baseSample(nowMs: number): Sample | undefined {
    const from = nowMs - this.#windowMs;
    while (this.#samples.length > 0 && this.#samples[0]!.atMs < from) this.#samples.shift();
    return this.#samples[0];
  }
}
