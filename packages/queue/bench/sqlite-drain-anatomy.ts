// Where the SQLite backend's drain time goes, between the batched minimal loop (the ceiling of any
// queue on a SQLite file) and our backend under a Worker: the figures behind docs/queue.md's
// "Throughput on SQLite". Not part of `npm run bench`; run it when changing the hot path:
//
//   node packages/queue/bench/sqlite-drain-anatomy.ts [--jobs 50000]
//
// Every step drains the same number of pre-inserted no-op jobs, 500 per claim, on a fresh file:
//   1. the batched minimal loop (three narrow columns);
//   2. the same with 300-byte rows, about our row's width;
//   3. … and a random lease token written per claimed row;
//   4. our claim and complete transactions (transactions.ts) called directly, no Worker, with the
//      time per job of each statement and commit;
//   5. our backend under a Worker of 1,000 slots (queue-bench.ts's drain).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import { openDatabase } from '../src/drivers/sqlite/connection.ts';
import { prepareStatements } from '../src/drivers/sqlite/transactions.ts';
import { createQueueBackend, Queue } from '../src/index.ts';
import { DEFAULT_LEASE_SECONDS } from '../src/runtime/insert.ts';
import { ourDrainRate } from './queue-bench.ts';

const CLAIM_BATCH = 500;
const KIND = 'bench.noop';

/** Steps 1-3: the minimal loop with `padBytes` of filler per row, optionally writing a token per claim. */
function minimalLoop(path: string, jobs: number, padBytes: number, token: boolean): number {
  const db = new Database(path);
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.exec(`
      CREATE TABLE jobs (id INTEGER PRIMARY KEY, state INTEGER NOT NULL DEFAULT 0, payload TEXT NOT NULL,
                         pad TEXT, token TEXT);
      CREATE INDEX jobs_queued ON jobs (id) WHERE state = 0;`);
    const insert = db.prepare<[string, string]>('INSERT INTO jobs (payload, pad) VALUES (?, ?)');
    db.transaction(() => {
      for (let i = 0; i < jobs; i += 1) insert.run(JSON.stringify({ n: i }), 'x'.repeat(padBytes));
    }).immediate();
    const set = token ? `state = 1, token = id || '.' || lower(hex(randomblob(8)))` : 'state = 1';
    const claim = db.prepare<[number], { id: number; payload: string }>(`
      UPDATE jobs SET ${set} WHERE id IN (SELECT id FROM jobs WHERE state = 0 ORDER BY id LIMIT ?)
      RETURNING id, payload`);
    const finish = db.prepare<[string]>(
      'UPDATE jobs SET state = 2 WHERE id IN (SELECT value FROM json_each(?))',
    );
    const claimBatch = db.transaction((size: number) => claim.all(size));
    const finishBatch = db.transaction((ids: string) => finish.run(ids));
    const began = performance.now();
    let done = 0;
    for (;;) {
      const claimed = claimBatch.immediate(CLAIM_BATCH);
      if (claimed.length === 0) break;
      finishBatch.immediate(JSON.stringify(claimed.map((job) => job.id)));
      done += claimed.length;
    }
    return (done / (performance.now() - began)) * 1000;
  } finally {
    db.close();
  }
}

async function fillQueue(path: string, jobs: number): Promise<void> {
  const backend = await createQueueBackend(`sqlite:${path}`);
  await backend.start({ maintenance: false });
  try {
    const queue = new Queue(backend);
    for (let sent = 0; sent < jobs; sent += 1000) {
      const size = Math.min(1000, jobs - sent);
      await queue.sendMany(
        Array.from({ length: size }, (_, i) => ({ kind: KIND, payload: { n: sent + i } })),
      );
    }
  } finally {
    await backend.stop();
  }
}

/** Step 4: the backend's statements in its transactions' order, each timed, no Worker. */
async function ourStatements(path: string, jobs: number) {
  await fillQueue(path, jobs);
  const db = openDatabase(path);
  try {
    const s = prepareStatements(db);
    const begin = db.prepare('BEGIN IMMEDIATE');
    const commit = db.prepare('COMMIT');
    const micros: Record<string, number> = {};
    const timed = <T>(step: string, run: () => T): T => {
      const start = performance.now();
      const result = run();
      micros[step] = (micros[step] ?? 0) + (performance.now() - start) * 1000;
      return result;
    };
    const began = performance.now();
    let done = 0;
    for (;;) {
      const now = new Date().toISOString();
      const expiry = new Date(Date.now() + DEFAULT_LEASE_SECONDS * 1000).toISOString();
      begin.run();
      const chosen = timed('choose candidates', () => s.candidates.all(KIND, now, CLAIM_BATCH));
      if (chosen.length === 0) {
        commit.run();
        break;
      }
      const jobNos = JSON.stringify(chosen.map((c) => c.job_no));
      const rows = timed('claim UPDATE', () => s.claim.all(now, DEFAULT_LEASE_SECONDS, expiry, now, jobNos));
      const ids = JSON.stringify(rows.map((row) => row.id));
      timed('counters and event', () => {
        s.addCounts.run(
          JSON.stringify([
            [KIND, 'queued', -rows.length],
            [KIND, 'active', rows.length],
          ]),
        );
        s.appendEvent.get(KIND, 'active', ids, null, now, now);
      });
      timed('commits', () => commit.run());
      const at = new Date().toISOString();
      begin.run();
      const pairs = JSON.stringify(rows.map((row) => `${row.id} ${row.lease_token}`));
      const completed = timed('complete UPDATE', () => s.completeWithoutResult.all(at, jobNos, pairs));
      timed('counters and event', () => {
        s.addCounts.run(
          JSON.stringify([
            [KIND, 'active', -completed.length],
            [KIND, 'completed', completed.length],
          ]),
        );
        s.appendEvent.get(KIND, 'completed', ids, null, at, at);
      });
      timed('commits', () => commit.run());
      done += completed.length;
    }
    const perJob = Object.fromEntries(Object.entries(micros).map(([step, us]) => [step, us / done]));
    return { jobsPerSecond: (done / (performance.now() - began)) * 1000, perJob };
  } finally {
    db.close();
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { jobs: { type: 'string', default: '50000' } } });
  const jobs = Number(values.jobs);
  if (!Number.isInteger(jobs) || jobs < 1)
    throw new Error(`--jobs must be a positive integer (got ${values.jobs})`);
  const dir = mkdtempSync(join(tmpdir(), 'offload-anatomy-'));
  let files = 0;
  const fresh = () => {
    files += 1;
    return join(dir, `step-${files}.db`);
  };
  try {
    const rows: Array<[string, number]> = [
      ['batched minimal loop (rows of ~17 bytes)', minimalLoop(fresh(), jobs, 0, false)],
      ['… with 300-byte rows', minimalLoop(fresh(), jobs, 300, false)],
      ['… and a random lease token per claimed row', minimalLoop(fresh(), jobs, 300, true)],
    ];
    const statements = await ourStatements(fresh(), jobs);
    rows.push(['our claim and complete transactions, no Worker', statements.jobsPerSecond]);
    const worker = await ourDrainRate(`sqlite:${fresh()}`, jobs, 1000);
    rows.push(['our backend under a Worker of 1,000 slots', worker.jobsPerSecond]);
    for (const [step, rate] of rows)
      console.log(`${step.padEnd(50)} ${Math.round(rate).toLocaleString('en-US').padStart(9)} jobs/s`);
    console.log('\nour statements, µs per job:');
    for (const [step, us] of Object.entries(statements.perJob))
      console.log(`  ${step.padEnd(20)} ${us.toFixed(2)}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
