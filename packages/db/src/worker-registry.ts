// The live worker processes, read from `worker_registry`. Each worker keeps its row fresh with a
// heartbeat (apps/worker/src/registry.ts writes it); the API lists them (GET /v1/workers). A row
// not heard from within STALE_AFTER_MS is a dead worker and is left out.
import type { Db } from './knex.ts';

export const WORKER_REGISTRY_TABLE = 'worker_registry';
/** Readers treat a row older than this as a dead worker. */
export const STALE_AFTER_MS = 60_000;

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

/** The live workers: rows heard from within STALE_AFTER_MS of `now`, newest first. */
export async function listLiveWorkers(db: Db, now: Date = new Date()): Promise<LiveWorker[]> {
  const rows: Array<Record<string, unknown>> = await db
    .knex(WORKER_REGISTRY_TABLE)
    .select('id', 'host', 'pid', 'concurrency', 'running', 'kinds', 'started_at', 'last_heartbeat_at')
    .where('last_heartbeat_at', '>=', new Date(now.getTime() - STALE_AFTER_MS).toISOString())
    .orderBy([
      { column: 'started_at', order: 'desc' },
      { column: 'id', order: 'asc' },
    ]);
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

// jsonb arrives parsed from PostgreSQL; SQLite stores the JSON text.
function parseKinds(value: unknown): string[] {
  const parsed: unknown = typeof value === 'string' ? JSON.parse(value) : value;
  return Array.isArray(parsed) ? parsed.map(String) : [];
}
