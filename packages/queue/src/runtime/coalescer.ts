// Group commit for per-job calls: items pushed in the same turn of the event loop (and while a
// batch is in flight) go to the database together, as one statement or one transaction. Workers
// settle jobs one at a time, but a drain of no-op jobs settles thousands a second; API requests
// send one job each, but concurrent requests send many. One write per batch is what keeps the
// PostgreSQL drain at least as fast as pg-boss's own batch completion, and what lets concurrent
// sends share a commit instead of queueing for one each.
export interface CoalescerOptions {
  /** Items per batch at most. */
  maxBatch: number;
  /** Batches written at once at most; the rest wait (and grow) meanwhile. */
  maxInFlight: number;
  /**
   * Weight per batch at most (pushes say their item's weight, e.g. its JSON length), so that
   * large items cannot make one write of hundreds of megabytes. A heavier item goes alone.
   */
  maxWeight?: number;
}

export class Coalescer<I, O> {
  readonly #run: (items: I[]) => Promise<O[]>;
  readonly #maxBatch: number;
  readonly #maxInFlight: number;
  readonly #maxWeight: number;
  #queue: Array<{ item: I; weight: number; resolve: (value: O) => void; reject: (error: unknown) => void }> =
    [];
  #inFlight = 0;
  #scheduled = false;
  #idle: Array<() => void> = [];

  constructor(run: (items: I[]) => Promise<O[]>, options: CoalescerOptions) {
    this.#run = run;
    this.#maxBatch = options.maxBatch;
    this.#maxInFlight = options.maxInFlight;
    this.#maxWeight = options.maxWeight ?? Number.POSITIVE_INFINITY;
  }

  push(item: I, weight = 1): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.#queue.push({ item, weight, resolve, reject });
      if (!this.#scheduled) {
        this.#scheduled = true;
        setImmediate(() => {
          this.#scheduled = false;
          this.#flush();
        });
      }
    });
  }

  /** Resolves once nothing is queued or in flight. */
  drained(): Promise<void> {
    if (this.#queue.length === 0 && this.#inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  #flush(): void {
    while (this.#queue.length > 0 && this.#inFlight < this.#maxInFlight) {
      let size = 0;
      let weight = 0;
      while (size < this.#queue.length && size < this.#maxBatch) {
        weight += this.#queue[size]!.weight;
        if (size > 0 && weight > this.#maxWeight) break;
        size += 1;
      }
      const batch = this.#queue.splice(0, size);
      this.#inFlight += 1;
      this.#run(batch.map((entry) => entry.item))
        .then(
          (results) => {
            for (const [i, entry] of batch.entries()) entry.resolve(results[i] as O);
          },
          (error: unknown) => {
            for (const entry of batch) entry.reject(error);
          },
        )
        .finally(() => {
          this.#inFlight -= 1;
          this.#flush();
          if (this.#queue.length === 0 && this.#inFlight === 0) {
            for (const resolve of this.#idle.splice(0)) resolve();
          }
        });
    }
  }
}

/** An item's own outcome inside a batch that may succeed for some items and fail for others. */
export type Settled<T> = { ok: true; value: T } | { ok: false; error: unknown };

/** The value of a settled item, or its error thrown. */
export function unwrap<T>(settled: Settled<T>): T {
  if (!settled.ok) throw settled.error;
  return settled.value;
}

/**
 * Runs `many` for a batch of items. When it fails with an error that `wroteNothing` says left no
 * item written (one item the database refused, rolling the batch's write back whole), each item
 * is written again on its own, so the error reaches only its own caller; any other error fails
 * them all, as it would have failed each alone.
 */
export async function settleTogether<I, O>(
  items: I[],
  many: (items: I[]) => Promise<O[]>,
  wroteNothing: (error: unknown) => boolean,
): Promise<Array<Settled<O>>> {
  try {
    return (await many(items)).map((value) => ({ ok: true, value }));
  } catch (error) {
    if (items.length === 1 || !wroteNothing(error)) return items.map(() => ({ ok: false, error }));
    return Promise.all(
      items.map((item) =>
        many([item]).then(
          ([value]) => ({ ok: true as const, value: value as O }),
          (own: unknown) => ({ ok: false as const, error: own }),
        ),
      ),
    );
  }
}
