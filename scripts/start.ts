// `npm start`: the embedded default in one command.
//
//   prepare    migrate the database; on an empty one (the first run) seed a demo inventory as of
//              today (histories and metric points end today);
//   worker     start one worker process;
//   first run  send analyze.health and rebuild.compliance, then rebuild.kpi (its snapshots count
//              health), and wait for them, so every read answers at the first try;
//   api        start one API process: once /readyz answers, the reports are there;
//   Ctrl-C     the children run in process groups of their own, so the terminal's SIGINT reaches
//              only this script (and its parents, which pass it on): every signal of one press
//              arriving within SAME_PRESS_MS is one request, passed on as one SIGTERM; the worker
//              drains its running jobs (or releases them) and exits. A second press, later, is
//              passed on again and makes both exit at once.
// If either child dies, the other is stopped too.
import type { ChildProcess } from 'node:child_process';
import { ConfigError, loadConfig } from '@offload/config';
import { createDb, migrateLatest } from '@offload/db';
import { seedDatabase } from '@offload/db/seed';
import { analyzeHealth, type JobKind, rebuildCompliance, rebuildKpi } from '@offload/jobs';
import { createQueueBackend, type Job, Queue } from '@offload/queue';
import { API_ENTRY, startChild, WORKER_ENTRY } from './processes.ts';

const DEMO_MODELS = 200;
// A terminal's Ctrl-C reaches npm, its shell, the toolchain and this script, and some of them
// pass it on: what arrives within this time of the first signal is the same press.
const SAME_PRESS_MS = 1000;
// The first-run jobs take seconds; past this the API starts anyway and the reads catch up.
const FIRST_RUN_TIMEOUT_MS = 120_000;

const say = (line: string): void => void process.stderr.write(`[start] ${line}\n`);

/** Migrates; on an empty database seeds the demo inventory. True on that first run. */
async function prepareDatabase(databaseUrl: string, poolMax: number): Promise<boolean> {
  const db = createDb({ databaseUrl, poolMax });
  try {
    await migrateLatest(db);
    const [{ count }] = await db.knex('models').count<Array<{ count: number | string }>>({ count: '*' });
    if (Number(count) !== 0) return false;
    const today = new Date().toISOString().slice(0, 10);
    say(`first run: seeding a demo inventory of ${DEMO_MODELS} models as of ${today}`);
    await seedDatabase(db, { models: DEMO_MODELS, anchor: today, quiet: true });
    return true;
  } finally {
    await db.destroy();
  }
}

/** Sends the jobs that compute every report once, in the order their results depend on. */
async function computeReports(databaseUrl: string, stopped: () => boolean): Promise<void> {
  const backend = await createQueueBackend(databaseUrl);
  await backend.start({ maintenance: false });
  const queue = new Queue(backend);
  const run = async (kinds: Array<JobKind>): Promise<void> => {
    const jobs = await Promise.all(
      kinds.map(async (kind) => {
        const { job } = await queue.send(kind.name, {}, { ...kind.defaults, owner: 'start' });
        return job;
      }),
    );
    await Promise.all(jobs.map((job) => finished(queue, job, stopped)));
  };
  try {
    say('first run: computing health, compliance and KPI reports');
    await run([analyzeHealth, rebuildCompliance]);
    await run([rebuildKpi]);
    say('first run: reports computed');
  } finally {
    await backend.stop();
  }
}

/** Waits for `job` to end (polled: this script holds no event subscription), then says how. */
async function finished(queue: Queue, job: Job, stopped: () => boolean): Promise<void> {
  const deadline = Date.now() + FIRST_RUN_TIMEOUT_MS;
  for (;;) {
    const now = await queue.get(job.id);
    if (now === null || now.state === 'completed') return;
    if (now.state === 'failed' || now.state === 'cancelled') {
      say(`first run: ${job.kind} ${now.state}: ${now.error?.message ?? 'no reason given'}`);
      return;
    }
    if (stopped()) return;
    if (Date.now() > deadline) {
      say(`first run: ${job.kind} still ${now.state}; starting the API anyway`);
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function main(): Promise<void> {
  const config = loadConfig();
  const firstRun = await prepareDatabase(config.databaseUrl, config.databasePoolMax);

  const children = new Map<string, ChildProcess>();
  const exits: Array<Promise<void>> = [];
  let exitCode = 0;
  let stopping = false;
  let lastPress = 0;
  const stopAll = (): void => {
    for (const child of children.values()) if (child.exitCode === null) child.kill('SIGTERM');
  };
  const onSignal = (): void => {
    const now = Date.now();
    if (now - lastPress < SAME_PRESS_MS) return;
    if (stopping) say('second Ctrl-C: stopping at once');
    else say('stopping: the worker finishes or releases its running jobs (Ctrl-C again to stop at once)');
    lastPress = now;
    stopping = true;
    stopAll();
    if (children.size === 0) process.exit(130);
  };
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, onSignal);

  const start = (name: string, entry: string): void => {
    // A process group of its own: the terminal's Ctrl-C is this script's to pass on, once.
    const child = startChild(name, entry, { detached: true });
    children.set(name, child);
    exits.push(
      new Promise<void>((resolve) => {
        child.on('exit', (code, signal) => {
          if (!stopping) {
            say(`${name} exited (${code ?? signal}); stopping the rest`);
            exitCode = code || 1;
            stopping = true;
            stopAll();
          }
          resolve();
        });
      }),
    );
  };

  start('worker', WORKER_ENTRY);
  if (firstRun && !stopping) {
    await computeReports(config.databaseUrl, () => stopping).catch((error: unknown) => {
      say(`first run: computing the reports failed (${String(error)}); the schedules will`);
    });
  }
  if (!stopping) start('api', API_ENTRY);
  await Promise.all(exits);
  process.exit(exitCode);
}

main().catch((error: unknown) => {
  const message = error instanceof ConfigError ? `configuration error: ${error.message}` : String(error);
  say(message);
  process.exit(1);
});
