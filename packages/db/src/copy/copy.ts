// `db copy`: moves an installation's data from one database to another, SQLite → PostgreSQL (the
// migration) or PostgreSQL → SQLite (the way back, or a snapshot to a laptop).
//
//   1. refuse   — the source has a live worker (a fresh heartbeat in worker_registry), or the
//                 target already holds data, checked before anything is written to it (unless
//                 --resume, which skips the tables a previous run finished), or the two databases
//                 are at different migrations;
//   2. schema   — the target is migrated by our own migrations, and its queue set up by the
//                 queue's own installer (`prepareTarget`): the copy moves data only;
//   3. tables   — each application table, parents first, streamed in batches from one read-only
//                 snapshot of the source into one transaction per table on the target (COPY on
//                 PostgreSQL), so an interruption leaves whole tables and a resume recounts them;
//   4. queue    — pending jobs (queued, retrying; active ones whose lease can only expire become
//                 retrying) and schedules, through queue-tables.ts; finished jobs with withHistory;
//   5. sequences  — past the copied ids, and past the ids the source handed out to rows since deleted;
//   6. verify   — verify.ts: rows and checksums per table, foreign keys.
import { existsSync } from 'node:fs';
import { parseDatabaseUrl, redactUrl } from '@offload/config';
import { createDb } from '../knex.ts';
import { migrateLatest } from '../migrate.ts';
import { STALE_AFTER_MS, WORKER_REGISTRY_TABLE } from '../worker-registry.ts';
import { type ProgressSink, silentProgress } from './progress.ts';
import { QUEUE_SETS, type QueueSet } from './queue-tables.ts';
import {
  opening,
  openReader,
  openWriter,
  quoteIdent,
  type Readable,
  type TableInfo,
  type Writable,
} from './side.ts';
import { DEFAULT_BATCH_SIZE, type VerificationReport, verifyDatabases } from './verify.ts';

export interface CopyOptions {
  from: string;
  to: string;
  /** Copy completed, failed and cancelled jobs too. */
  withHistory?: boolean;
  /** Continue an interrupted copy: tables already whole on the target are skipped. */
  resume?: boolean;
  batchSize?: number;
  /** Sets up the queue's own tables on the target (the queue package's installer). */
  prepareTarget?: (databaseUrl: string) => Promise<void>;
  progress?: ProgressSink;
  /** Aborts between batches; the table being copied is rolled back. */
  signal?: AbortSignal;
  /** The clock the live-worker check reads. */
  now?: () => Date;
}

export interface CopiedTable {
  name: string;
  rows: number;
  ms: number;
  /** Already whole on the target (a resumed copy). */
  skipped: boolean;
}

export interface CopyReport {
  tables: CopiedTable[];
  /** What the operator must know that the verification cannot say (uploads whose bytes stay behind). */
  notes: string[];
  rows: number;
  ms: number;
  verification: VerificationReport;
}

/** The copy will not start; the message says why and what to do. */
export class CopyRefusedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CopyRefusedError';
  }
}

interface Unit {
  name: string;
  count(side: Readable): Promise<number>;
  copy(target: Writable, onRows: (rows: number) => void): Promise<number>;
}

export async function copyDatabase(options: CopyOptions): Promise<CopyReport> {
  const started = performance.now();
  const from = parseDatabaseUrl(options.from, '--from');
  const to = parseDatabaseUrl(options.to, '--to');
  if ((from.kind === 'sqlite' ? from.path : from.url) === (to.kind === 'sqlite' ? to.path : to.url)) {
    throw new CopyRefusedError('--from and --to name the same database');
  }
  const batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE;
  const withHistory = options.withHistory ?? false;
  const progress = options.progress ?? silentProgress;

  const source = await openReader(options.from, '--from');
  const tables: CopiedTable[] = [];
  const notes: string[] = [];
  try {
    await refuseLiveWorkers(source, options.now?.() ?? new Date());
    if (!options.resume) await refuseOccupiedTarget(options.to);
    await opening('--to', options.to, async () => {
      const targetDb = createDb({ databaseUrl: options.to, poolMax: 2 });
      try {
        await migrateLatest(targetDb);
      } finally {
        await targetDb.destroy();
      }
    });
    await options.prepareTarget?.(options.to);
    const target = await openWriter(options.to, '--to');
    try {
      const sourceMigrations = (await source.migrations()).join(',');
      if (sourceMigrations !== (await target.migrations()).join(',')) {
        throw new CopyRefusedError(
          `the source is not at the migrations this code has: run \`npm run migrate\` against ${redactUrl(options.from)} (with an API or worker of this version stopped), then copy again`,
        );
      }
      const targetTables = new Map((await target.tables()).map((t) => [t.name, t]));
      const units: Unit[] = [];
      for (const table of await source.tables()) {
        const own = targetTables.get(table.name);
        if (own === undefined) throw new CopyRefusedError(`the target has no table ${table.name}`);
        units.push(tableUnit(source, own, batchSize, options.signal));
      }
      for (const set of QUEUE_SETS)
        units.push(queueUnit(source, set, withHistory, batchSize, options.signal));

      const plan: Array<{ unit: Unit; rows: number; skip: boolean }> = [];
      const occupied: string[] = [];
      for (const unit of units) {
        const rows = await unit.count(source);
        const present = await unit.count(target);
        if (present > 0 && !(options.resume && present === rows)) occupied.push(unit.name);
        plan.push({ unit, rows, skip: options.resume === true && present === rows && present > 0 });
      }
      if (occupied.length > 0) {
        throw options.resume
          ? new CopyRefusedError(
              `cannot resume: ${occupied.join(', ')} on the target hold rows that are not a finished copy of the source's; empty the target (drop and create the database, or delete the SQLite file) and copy again without --resume`,
            )
          : occupiedError(occupied);
      }
      progress.start(plan.reduce((sum, p) => sum + (p.skip ? 0 : p.rows), 0));
      for (const { unit, rows, skip } of plan) {
        if (skip) {
          tables.push({ name: unit.name, rows, ms: 0, skipped: true });
          continue;
        }
        progress.table(unit.name, rows);
        const t0 = performance.now();
        const copied = await unit.copy(target, (n) => progress.rows(n));
        tables.push({ name: unit.name, rows: copied, ms: performance.now() - t0, skipped: false });
      }
      const targetList = [...targetTables.values()];
      await target.resetSequences(targetList, await source.idsHandedOut(targetList));
      const stranded = await uploadsWithBytesElsewhere(source, to.kind);
      if (stranded > 0) {
        notes.push(
          `${stranded} upload${stranded === 1 ? '' : 's'} copied as rows only: the embedded shape keeps an upload's bytes in files beside the SQLite database, the scaled shape in upload_chunks, and the copy moves rows. An import of ${stranded === 1 ? 'it' : 'them'} on the target fails: let imports finish before copying, or upload the files again.`,
        );
      }
      progress.end();
    } finally {
      await target.close();
    }
  } finally {
    await source.close();
  }
  const verification = await verifyDatabases({
    from: options.from,
    to: options.to,
    withHistory,
    batchSize,
  });
  return {
    tables,
    notes,
    rows: tables.reduce((sum, t) => sum + (t.skipped ? 0 : t.rows), 0),
    ms: performance.now() - started,
    verification,
  };
}

function tableUnit(source: Readable, table: TableInfo, batchSize: number, signal?: AbortSignal): Unit {
  const sql = `SELECT ${table.columns.map((c) => quoteIdent(c.name)).join(', ')} FROM ${quoteIdent(table.name)}`;
  return {
    name: table.name,
    async count(side) {
      return Number((await side.all(`SELECT count(*) AS n FROM ${quoteIdent(table.name)}`))[0]!['n']);
    },
    copy(target, onRows) {
      return target.transaction((tx) =>
        tx.load(table, abortable(source.batches(sql, [], batchSize), signal), onRows),
      );
    },
  };
}

function queueUnit(
  source: Readable,
  set: QueueSet,
  withHistory: boolean,
  batchSize: number,
  signal?: AbortSignal,
): Unit {
  return {
    name: set.name,
    count: (side) => set.count(side, withHistory),
    async copy(target, onRows) {
      if ((await set.count(source, withHistory)) > 0 && !(await set.installed(target))) {
        throw new CopyRefusedError(
          `the target has no queue tables for ${set.name}: copy with \`npm run db -- copy\`, which sets them up`,
        );
      }
      return target.transaction(async (tx) => {
        let total = 0;
        for await (const rows of abortable(set.read(source, withHistory, batchSize), signal)) {
          await set.write(tx, target.dialect, rows);
          total += rows.length;
          onRows(rows.length);
        }
        if (await set.installed(target)) await set.finish(tx, target.dialect);
        return total;
      });
    },
  };
}

async function* abortable<T>(batches: AsyncIterable<T>, signal?: AbortSignal): AsyncIterable<T> {
  for await (const batch of batches) {
    signal?.throwIfAborted();
    yield batch;
  }
}

const occupiedError = (tables: readonly string[]) =>
  new CopyRefusedError(
    `the target already holds data in ${tables.join(', ')}: copy into an empty database, or pass --resume to continue an interrupted copy`,
  );

/**
 * Before anything is written to the target (our migrations, the queue's installer): none of its
 * tables may hold a row, so a mistyped --to (another application's database, or the production
 * one) is refused untouched. A database just created, or migrated and never started on, passes.
 */
async function refuseOccupiedTarget(databaseUrl: string): Promise<void> {
  const to = parseDatabaseUrl(databaseUrl, '--to');
  if (to.kind === 'sqlite' && !existsSync(to.path)) return;
  const target = await openReader(databaseUrl, '--to');
  try {
    const occupied: string[] = [];
    for (const table of await target.tables()) {
      const rows = await target.all(`SELECT 1 AS one FROM ${quoteIdent(table.name)} LIMIT 1`);
      if (rows.length > 0) occupied.push(table.name);
    }
    if (occupied.length > 0) throw occupiedError(occupied);
  } finally {
    await target.close();
  }
}

async function refuseLiveWorkers(source: Readable, now: Date): Promise<void> {
  if (!(await source.hasTable(WORKER_REGISTRY_TABLE))) return;
  const since = new Date(now.getTime() - STALE_AFTER_MS).toISOString();
  const live = await source.all(
    `SELECT host, pid FROM ${WORKER_REGISTRY_TABLE} WHERE last_heartbeat_at >= ${source.dialect === 'sqlite' ? '?' : '$1'}`,
    [since],
  );
  if (live.length > 0) {
    const list = live.map((w) => `${w['host']} pid ${w['pid']}`).join(', ');
    throw new CopyRefusedError(
      `${live.length} worker${live.length === 1 ? ' is' : 's are'} alive on the source (${list}): stop every worker (and the API, so no job is added meanwhile), wait ${STALE_AFTER_MS / 1000} s for a killed worker's heartbeat to go stale, then copy again`,
    );
  }
}

/**
 * Uploads whose bytes the target's store will not find: SQLite's store keeps them in files (its
 * upload_chunks stays empty), PostgreSQL's in upload_chunks. Completed uploads only: an
 * incomplete one is purged on either side.
 */
async function uploadsWithBytesElsewhere(source: Readable, target: Readable['dialect']): Promise<number> {
  if (source.dialect === target || !(await source.hasTable('uploads'))) return 0;
  const rows = await source.all('SELECT count(*) AS n FROM uploads WHERE completed_at IS NOT NULL');
  return Number(rows[0]!['n']);
}
