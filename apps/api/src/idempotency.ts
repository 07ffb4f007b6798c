// Idempotency-Key claims. The first request with a key claims it for its owner together with a
// fingerprint of what it asked for (kind, payload, priority, run at); a later request with the
// same key must carry the same fingerprint. The queue de-duplicates by (kind, key) only, so this
// record is what refuses the same key reused for another kind. A claim expires after the
// retention period (24 hours by default), after which the key may be used afresh.
import { type Db, queryRows } from '@offload/db';

export const DEFAULT_IDEMPOTENCY_RETENTION_MS = 24 * 60 * 60 * 1000;
const PURGE_INTERVAL_MS = 10 * 60 * 1000;

// An expired claim is taken over in the same statement; a live one is left alone, and then
// RETURNING yields no row and the holder's fingerprint is read back.
const CLAIM = `INSERT INTO idempotency_keys (owner, key, fingerprint, created_at)
VALUES (?, ?, ?, ?)
ON CONFLICT (owner, key) DO UPDATE
   SET fingerprint = excluded.fingerprint, created_at = excluded.created_at
 WHERE idempotency_keys.created_at < ?
RETURNING fingerprint`;

export class IdempotencyKeys {
  readonly #db: Db;
  readonly #retentionMs: number;
  #timer: NodeJS.Timeout | undefined;

  constructor(db: Db, retentionMs: number = DEFAULT_IDEMPOTENCY_RETENTION_MS) {
    this.#db = db;
    this.#retentionMs = retentionMs;
  }

  /**
   * Claims `key` for `owner` with `fingerprint` unless a live claim holds it. Returns the
   * fingerprint the key now holds: `fingerprint` itself, or the earlier request's.
   */
  async claim(owner: string, key: string, fingerprint: string, now: Date = new Date()): Promise<string> {
    const createdAt = now.toISOString();
    const expiredBefore = new Date(now.getTime() - this.#retentionMs).toISOString();
    const rows = await queryRows<{ fingerprint: string }>(this.#db.knex, CLAIM, [
      owner,
      key,
      fingerprint,
      createdAt,
      expiredBefore,
    ]);
    if (rows.length > 0) return rows[0]!.fingerprint;
    const held = await this.#db.knex('idempotency_keys').where({ owner, key }).first('fingerprint');
    // Purged between the two statements: nobody holds it now, so this request may.
    return held === undefined ? this.claim(owner, key, fingerprint, now) : String(held.fingerprint);
  }

  /** Deletes expired claims; returns how many. */
  async purgeExpired(now: Date = new Date()): Promise<number> {
    const expiredBefore = new Date(now.getTime() - this.#retentionMs).toISOString();
    return this.#db.knex('idempotency_keys').where('created_at', '<', expiredBefore).delete();
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
