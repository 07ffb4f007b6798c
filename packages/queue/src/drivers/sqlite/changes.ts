// What one transaction did to the queue besides the job rows themselves: the moves of the
// per-(kind, state) counters and the events to append. Collected while the transaction runs, then
// written by it in two statements (sql.ADD_COUNTS once, sql.APPEND_EVENT per kind and state), so a
// batch of 500 claimed jobs costs two more statements, not a thousand.
import type { JobState } from '../../types.ts';

export interface EventDraft {
  kind: string;
  state: JobState;
  jobIds: string[];
  /** JSON text of a progress update, else null. */
  progress: string | null;
  /** When the jobs are due (wake-ups for queued and retrying jobs). */
  runAt: string;
  at: string;
}

export class Changes {
  readonly #counts = new Map<string, { kind: string; state: string; delta: number }>();
  readonly #events = new Map<string, EventDraft>();

  /** `n` jobs of `kind` moved from `from` (null: new) to `to` (null: deleted). */
  move(kind: string, from: JobState | null, to: JobState | null, n = 1): this {
    if (from === to || n === 0) return this;
    if (from !== null) this.#add(kind, from, -n);
    if (to !== null) this.#add(kind, to, n);
    return this;
  }

  /** Job `id` of `kind` entered `state` (grouped with others of the same kind, state and due time). */
  event(kind: string, state: JobState, id: string, runAt: string, at: string): this {
    const key = `${kind}\u0000${state}\u0000${runAt}`;
    const draft = this.#events.get(key);
    if (draft === undefined) this.#events.set(key, { kind, state, jobIds: [id], progress: null, runAt, at });
    else draft.jobIds.push(id);
    return this;
  }

  /** A progress update: an event of its own. */
  progress(kind: string, id: string, progress: string, runAt: string, at: string): this {
    this.#events.set(`progress\u0000${this.#events.size}`, {
      kind,
      state: 'active',
      jobIds: [id],
      progress,
      runAt,
      at,
    });
    return this;
  }

  /** sql.ADD_COUNTS's parameter, or null when no counter moved. */
  countsJson(): string | null {
    const deltas = [...this.#counts.values()]
      .filter((c) => c.delta !== 0)
      .map((c) => [c.kind, c.state, c.delta]);
    return deltas.length === 0 ? null : JSON.stringify(deltas);
  }

  events(): EventDraft[] {
    return [...this.#events.values()];
  }

  #add(kind: string, state: string, delta: number): void {
    const key = `${kind}\u0000${state}`;
    const count = this.#counts.get(key);
    if (count === undefined) this.#counts.set(key, { kind, state, delta });
    else count.delta += delta;
  }
}
