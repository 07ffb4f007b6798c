// The live worker processes, read from `worker_registry`, which each worker keeps fresh with a
// heartbeat (apps/worker/src/registry.ts writes it). A row not heard from within STALE_AFTER_MS
// is a dead worker and is left out. Until the table's migration exists the list is empty.
import type { Db } from '@offload/db';

export const STALE_AFTER_MS = 60_000;
const TABLE = 'worker_registry';

export interface LiveWorker {
  id: string;
  host: string;
  pid: number;
  concurrency: number;
  running: number;
  kinds: string[];
  startedAt: string;
  lastHeartbeatAt: string;
}

export async function listLiveWorkers(db: Db, now: Date = new Date()): Promise<LiveWorker[]> {
  let rows: Array<Record<string, unknown>>;
  try {
    rows = await db
      .knex(TABLE)
      .select('id', 'host', 'pid', 'concurrency', 'running', 'kinds', 'started_at', 'last_heartbeat_at')
      .where('last_heartbeat_at', '>=', new Date(now.getTime() - STALE_AFTER_MS).toISOString())
      .orderBy([
        { column: 'started_at', order: 'desc' },
        { column: 'id', order: 'asc' },
      ]);
  } catch (error) {
    if (isMissingTable(error)) return [];
    throw error;
  }
  return rows.map((row) => ({
    id: String(row.id),
    host: String(row.host),
    pid: Number(row.pid),
    concurrency: Number(row.concurrency),
    running: Number(row.running),
    kinds: parseKinds(row.kinds),
    startedAt: String(row.started_at),
    lastHeartbeatAt: String(row.last_heartbeat_at),
  }));
}

function parseKinds(value: unknown): string[] {
  const parsed: unknown = typeof value === 'string' ? JSON.parse(value) : value;
  return Array.isArray(parsed) ? parsed.map(String) : [];
}

// SQLite: "no such table: worker_registry"; PostgreSQL: undefined_table (42P01).
function isMissingTable(error: unknown): boolean {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  return code === '42P01' || (typeof message === 'string' && message.includes(`no such table: ${TABLE}`));
}
