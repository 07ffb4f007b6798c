// Idempotency-Key claims. The first request with a key claims it for its owner together with a
// fingerprint of what it asked for (kind, payload, priority, run at); a later request with the
// same key must carry the same fingerprint. Once its job is sent, the claim records the job's id,
// so a replay is answered with that job before anything is checked against the present state
// (an import's upload is gone once imported) and without asking the queue, which would insert
// anew once the job was pruned. Claims are keyed by (owner, key): one owner never reads
// another's. The queue de-duplicates by (kind, key) only, so this record is also what refuses
// the same key reused for another kind. A claim expires after the retention period (24 hours by
// default), after which the key may be used afresh.
import { type Db, queryRows } from '@offload/db';

export const DEFAULT_IDEMPOTENCY_RETENTION_MS = 24 * 60 * 60 * 1000;
const PURGE_INTERVAL_MS = 10 * 60 * 1000;

// An expired claim is taken over in the same statement (forgetting its job); a live one is left
// alone, and then RETURNING yields no row and the holder's claim is read back.
const CLAIM = `INSERT INTO idempotency_keys (owner, key, fingerprint, created_at)
VALUES (?, ?, ?, ?)
ON CONFLICT (owner, key) DO UPDATE
   SET fingerprint = excluded.fingerprint, created_at = excluded.created_at, job_id = NULL
 WHERE idempotency_keys.created_at < ?
RETURNING fingerprint, job_id`;

/** A live claim: the fingerprint that holds the key, and the job it created once sent. */
export interface IdempotencyClaim {
  fingerprint: string;
  jobId: string | null;
}

interface ClaimRow {
  fingerprint: string;
  job_id: string | null;
}

export class IdempotencyKeys {
  readonly #db: Db;
  readonly #retentionMs: number;
  #timer: NodeJS.Timeout | undefined;

  constructor(db: Db, retentionMs: number = DEFAULT_IDEMPOTENCY_RETENTION_MS) {
    this.#db = db;
    this.#retentionMs = retentionMs;
  }

  /**
   * Claims `key` for `owner` with `fingerprint` unless a live claim holds it. Returns the claim
   * the key now holds: this request's (no job yet), or the earlier request's.
   */
  async claim(
    owner: string,
    key: string,
    fingerprint: string,
    now: Date = new Date(),
  ): Promise<IdempotencyClaim> {
    const rows = await queryRows<ClaimRow>(this.#db.knex, CLAIM, [
      owner,
      key,
      fingerprint,
      now.toISOString(),
      this.#expiredBefore(now),
    ]);
    if (rows.length > 0) return toClaim(rows[0]!);
    const held = await this.find(owner, key, now);
    // Purged between the two statements: nobody holds it now, so this request may.
    return held ?? this.claim(owner, key, fingerprint, now);
  }

  /** The live claim of `key` by `owner`, without claiming it; null when there is none. */
  async find(owner: string, key: string, now: Date = new Date()): Promise<IdempotencyClaim | null> {
    const row = await this.#db
      .knex('idempotency_keys')
      .where({ owner, key })
      .andWhere('created_at', '>=', this.#expiredBefore(now))
      .first<ClaimRow | undefined>('fingerprint', 'job_id');
    return row === undefined ? null : toClaim(row);
  }

  /**
   * Records the job the claim's request sent. Only a claim still held with `fingerprint` and no
   * job yet takes it: one taken over after expiring belongs to another request.
   */
  async recordJob(owner: string, key: string, fingerprint: string, jobId: string): Promise<void> {
    await this.#db
      .knex('idempotency_keys')
      .where({ owner, key, fingerprint })
      .whereNull('job_id')
      .update({ job_id: jobId });
  }

  /** Deletes expired claims; returns how many. */
  async purgeExpired(now: Date = new Date()): Promise<number> {
    return this.#db.knex('idempotency_keys').where('created_at', '<', this.#expiredBefore(now)).delete();
  }

  #expiredBefore(now: Date): string {
    return new Date(now.getTime() - this.#retentionMs).toISOString();
  }

  /** Purges expired claims every ten minutes until stopped; failures wait for the next round. */
  startPurging(onError: (error: unknown) => void): void {
    this.#timer ??= setInterval(() => this.purgeExpired().catch(onError), PURGE_INTERVAL_MS);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }
}

function toClaim(row: ClaimRow): IdempotencyClaim {
  return { fingerprint: String(row.fingerprint), jobId: row.job_id === null ? null : String(row.job_id) };
}
