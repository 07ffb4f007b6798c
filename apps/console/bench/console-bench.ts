// The console with a big queue: with --jobs (default 1,000,000) retained jobs, how long the
// overview's statistics and the first jobs page take to answer, and how long Chromium takes to
// render each page from navigation until its table shows rows. On SQLite and PostgreSQL, each on
// a throwaway database.
//
//   node apps/console/bench/console-bench.ts [--jobs N] [--only sqlite|postgres] [--samples N] [--out file]
//   (or `npm run bench -- --only console [--jobs N] [--backend sqlite|postgres]`)
//
// Server time is measured by the client on the loopback interface, so it is an upper bound of
// what the server spent. The overview's figure is one statistics read as the stream's ticker does
// it (the queue's maintained counters, uncached); the jobs page's is GET /v1/jobs?limit=20, the
// console's first page, with no filter (the largest list), newest first.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { createDb, migrateLatest } from '@offload/db';
import { createLogger } from '@offload/observability';
import { createQueueBackend, Queue } from '@offload/queue';
import { buildConsole } from '../../../scripts/console-build.ts';
import {
  type Backend,
  benchPostgresUrl,
  closeServer,
  listen,
  log,
  urlOf,
  withDatabase,
} from '../../api/bench/harness.ts';
import { createApiKey } from '../../api/src/api-keys.ts';
import { createApp } from '../../api/src/app.ts';
import { createApiServices } from '../../api/src/services.ts';
import { launchChromium } from '../test/chromium.ts';

const KINDS = [
  'system.echo',
  'rebuild.kpi',
  'rebuild.compliance',
  'analyze.health',
  'collect.metrics',
  'import.csv',
];
const BATCH = 5000;
const SERVER_TARGET_MS = 200;
const RENDER_TARGET_MS = 1000;

interface Options {
  jobs: number;
  samples: number;
  backends: Backend[];
}

interface Figures {
  backend: Backend;
  seedSeconds: number;
  statsMs: number[];
  jobsPageMs: number[];
  overviewRenderMs: number[];
  jobsRenderMs: number[];
}

const percentile = (values: number[], p: number): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
};

async function timed(run: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await run();
  return performance.now() - started;
}

async function benchBackend(backend: Backend, options: Options): Promise<Figures> {
  return withDatabase(backend, benchPostgresUrl(), 'console', async (databaseUrl) => {
    const db = createDb({ databaseUrl, poolMax: 10 });
    await migrateLatest(db);
    const queueBackend = await createQueueBackend(databaseUrl);
    await queueBackend.start({ maintenance: false });
    const queue = new Queue(queueBackend);
    try {
      log(`[${backend}] seeding ${options.jobs.toLocaleString('en-US')} jobs`);
      const seedStarted = performance.now();
      const now = Date.now();
      for (let done = 0; done < options.jobs; done += BATCH) {
        const size = Math.min(BATCH, options.jobs - done);
        await queue.sendMany(
          Array.from({ length: size }, (_, i) => ({
            kind: KINDS[(done + i) % KINDS.length]!,
            payload: { sleepMs: 0 },
            owner: `owner-${(done + i) % 50}`,
            // One job in ten waits for a future time, as scheduled work does.
            ...((done + i) % 10 === 0 ? { runAt: new Date(now + 86_400_000).toISOString() } : {}),
          })),
        );
        if ((done / BATCH) % 40 === 0) log(`[${backend}]   ${(done + size).toLocaleString('en-US')}`);
      }
      const seedSeconds = (performance.now() - seedStarted) / 1000;
      log(`[${backend}] seeded in ${seedSeconds.toFixed(1)} s`);

      const services = createApiServices({
        db,
        queue,
        logger: createLogger({ level: 'silent', service: 'console-bench' }),
        cursorSecret: 'console-bench-cursor-secret',
        settings: { rateLimitPerSecond: 0 },
        options: { slowRequestMs: 60_000, version: 'bench', startedAt: Date.now() },
      });
      const server = await listen(createApp(services));
      const { key } = await createApiKey(db, { name: 'bench', owner: 'bench', scopes: ['admin'] });
      const headers = { authorization: `Bearer ${key}` };
      const browser = await launchChromium();
      try {
        // Warm-up: the first reads fill caches and plans, as a running system has them.
        await queue.counts(new Date());
        await (await fetch(urlOf(server, '/v1/jobs?limit=20'), { headers })).text();

        const statsMs: number[] = [];
        const jobsPageMs: number[] = [];
        for (let i = 0; i < options.samples; i += 1) {
          statsMs.push(await timed(() => queue.counts(new Date())));
          jobsPageMs.push(
            await timed(async () => {
              const response = await fetch(urlOf(server, '/v1/jobs?limit=20'), { headers });
              if (!response.ok) throw new Error(`/v1/jobs answered ${response.status}`);
              await response.json();
            }),
          );
        }

        const render = async (hash: string, table: string): Promise<number> => {
          const context = await browser.newContext();
          try {
            // Signed in already, as a tab that reloads: the key is in sessionStorage.
            await context.addInitScript((value) => sessionStorage.setItem('offload.console.key', value), key);
            const page = await context.newPage();
            await page.goto(urlOf(server, `/console/${hash}`));
            await page
              .getByRole('table', { name: table })
              .getByRole('row')
              .nth(1)
              .waitFor({ timeout: 60_000 });
            return await page.evaluate(() => performance.now());
          } finally {
            await context.close();
          }
        };
        const overviewRenderMs: number[] = [];
        const jobsRenderMs: number[] = [];
        const renders = Math.max(3, Math.ceil(options.samples / 5));
        await render('#/overview', 'Queues');
        for (let i = 0; i < renders; i += 1) {
          overviewRenderMs.push(await render('#/overview', 'Queues'));
          jobsRenderMs.push(await render('#/jobs', 'Jobs'));
        }
        return { backend, seedSeconds, statsMs, jobsPageMs, overviewRenderMs, jobsRenderMs };
      } finally {
        await browser.close();
        await closeServer(server);
        services.close();
      }
    } finally {
      await queueBackend.stop();
      await db.destroy();
    }
  });
}

function report(options: Options, results: Figures[]): string {
  const ms = (value: number) => `${value.toFixed(1)} ms`;
  const verdict = (values: number[], target: number) => (percentile(values, 95) < target ? 'yes' : '**no**');
  const lines = [
    '# Console benchmark',
    '',
    `${options.jobs.toLocaleString('en-US')} retained jobs (${KINDS.length} kinds, one in ten due in a day), ` +
      `${options.samples} server samples, one Chromium (Debian's, headless) render per sample of five. ` +
      'Server times are measured by the client over loopback (an upper bound); render times run from ' +
      'navigation until the page’s table shows a row, signed in already. Command: ' +
      '`npm run bench -- --only console`.',
    '',
    '| backend | what | p50 | p95 | target | met (p95) |',
    '|---|---|---|---|---|---|',
  ];
  for (const r of results) {
    const rows: Array<[string, number[], number]> = [
      ['overview statistics (counters)', r.statsMs, SERVER_TARGET_MS],
      ['first jobs page (GET /v1/jobs?limit=20)', r.jobsPageMs, SERVER_TARGET_MS],
      ['overview render', r.overviewRenderMs, RENDER_TARGET_MS],
      ['jobs page render', r.jobsRenderMs, RENDER_TARGET_MS],
    ];
    for (const [what, values, target] of rows) {
      lines.push(
        `| ${r.backend} | ${what} | ${ms(percentile(values, 50))} | ${ms(percentile(values, 95))} | < ${target} ms | ${verdict(values, target)} |`,
      );
    }
  }
  lines.push(
    '',
    'Seeding: ' + results.map((r) => `${r.backend} ${r.seedSeconds.toFixed(1)} s`).join(', ') + '.',
    '',
  );
  return `${lines.join('\n')}\n`;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      jobs: { type: 'string' },
      samples: { type: 'string' },
      only: { type: 'string' },
      out: { type: 'string' },
    },
  });
  const positive = (text: string | undefined, fallback: number, name: string): number => {
    if (text === undefined) return fallback;
    if (!/^[1-9]\d*$/.test(text)) throw new Error(`${name} must be a positive integer, got ${text}`);
    return Number(text);
  };
  if (values.only !== undefined && values.only !== 'sqlite' && values.only !== 'postgres') {
    throw new Error(`--only must be sqlite or postgres, got ${values.only}`);
  }
  const options: Options = {
    jobs: positive(values.jobs, 1_000_000, '--jobs'),
    samples: positive(values.samples, 30, '--samples'),
    backends: values.only === undefined ? ['sqlite', 'postgres'] : [values.only as Backend],
  };
  await buildConsole({ quiet: true });
  const results: Figures[] = [];
  for (const backend of options.backends) results.push(await benchBackend(backend, options));
  const text = report(options, results);
  process.stdout.write(text);
  if (values.out !== undefined) {
    mkdirSync(dirname(values.out), { recursive: true });
    writeFileSync(values.out, text);
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    log(error instanceof Error ? (error.stack ?? error.message) : String(error));
    process.exit(1);
  },
);
