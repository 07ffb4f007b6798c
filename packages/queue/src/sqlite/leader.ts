// Leader election by lease: a row in queue_leader per task, held by one process until it expires.
//
// States of one process: follower → (the row is free or expired: the guarded upsert changes it)
// → leader, renewing the lease on each tick → follower again when a renewal fails (another
// process took over after our lease lapsed, e.g. we were stalled) or after `resign()` at stop,
// which deletes our row so that the next process need not wait out the lease.
//
// A leader that stalls past its lease may briefly overlap the next one; whatever it leads must
// be safe under that overlap (cron ticks are: see cron.ts).
import type Database from 'better-sqlite3';
import * as sql from './sql.ts';

export class LeaderLease {
  readonly name: string;
  readonly holder: string;
  readonly #leaseMs: number;
  readonly #acquire: Database.Statement<[string, string, string, string]>;
  readonly #resign: Database.Statement<[string, string]>;

  constructor(db: Database.Database, options: { name: string; holder: string; leaseMs: number }) {
    this.name = options.name;
    this.holder = options.holder;
    this.#leaseMs = options.leaseMs;
    this.#acquire = db.prepare(sql.LEADER_ACQUIRE);
    this.#resign = db.prepare(sql.LEADER_RESIGN);
  }

  /** Takes or renews the lease: true while this process leads. */
  acquire(now: Date): boolean {
    const expiresAt = new Date(now.getTime() + this.#leaseMs).toISOString();
    return this.#acquire.run(this.name, this.holder, expiresAt, now.toISOString()).changes === 1;
  }

  resign(): void {
    this.#resign.run(this.name, this.holder);
  }
}
