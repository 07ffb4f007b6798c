// Opening the file and living with SQLite's single writer.
//
// better-sqlite3 is synchronous: while SQLite's busy handler waits for another connection's write
// lock, this process's event loop waits too. A long wait is worse than slow here, it can deadlock:
// in an API process, a caller's knex transaction on the same file may hold the write lock across
// an `await`, and it can only finish if the event loop turns. So the busy handler waits only a few
// milliseconds (enough for another process's claim or completion to commit), and `retryBusy`
// waits longer off the event loop, with backoff, until the operation's own deadline.

import { isContention } from '@offload/db';
import Database from 'better-sqlite3';

/** SQLite's own wait for a lock, per attempt (the event loop is blocked meanwhile). */
const SYNC_BUSY_TIMEOUT_MS = 10;

export function openDatabase(path: string): Database.Database {
  const db = new Database(path, { timeout: SYNC_BUSY_TIMEOUT_MS });
  try {
    // Several processes share the file: readers never block the writer in WAL, and NORMAL
    // synchronisation is durable across a process crash (a power cut may lose the last commits).
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    return db;
  } catch (error) {
    db.close();
    throw error;
  }
}

/** Another connection holds the file's write lock (@offload/db's one classifier: contention). */
export const isBusy = isContention;

/**
 * Runs `fn` (a synchronous statement or transaction) and, while the database is busy, runs it
 * again after a short pause that lets this process's other work (a caller's transaction) move,
 * until `timeoutMs` have passed.
 */
export async function retryBusy<T>(fn: () => T, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (let attempt = 0; ; attempt += 1) {
    try {
      return fn();
    } catch (error) {
      if (!isBusy(error) || Date.now() >= deadline) throw error;
    }
    // 1, 2, 4 … 50 ms, jittered so that waiting processes do not retry in step.
    const pause = Math.min(50, 2 ** Math.min(attempt, 6)) * (0.5 + Math.random() / 2);
    await new Promise((resolve) => setTimeout(resolve, pause));
  }
}
