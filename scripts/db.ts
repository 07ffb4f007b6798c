// `npm run db -- <command>`: moving an installation between SQLite and PostgreSQL.
//
//   copy    --from URL --to URL [--with-history] [--resume] [--batch-size N]
//   verify  --from URL --to URL [--with-history]
//   analyze [--runs N] [--out PATH | --no-report]     (on DATABASE_URL; ./db-analyze.ts)
//
// It lives here rather than in packages/db because setting up a target's queue is the queue
// package's (packages/db knows nothing of queues but the stored rows it copies), and the analysis
// runs the API's own read paths.
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig, parseDatabaseUrl, redactUrl } from '@offload/config';
import {
  CopyRefusedError,
  copyDatabase,
  DatabaseOpenError,
  formatVerification,
  streamProgress,
  verifyDatabases,
} from '@offload/db/copy';
import { createQueueBackend } from '@offload/queue';

const USAGE = `usage: npm run db -- <command> [options]

  copy   --from URL --to URL   copy every table and the pending jobs, then verify
         [--with-history]      also copy completed, failed and cancelled jobs
         [--resume]            continue an interrupted copy into the same target
         [--batch-size N]      rows read and written at a time (default 5000)
  verify --from URL --to URL   compare rows and checksums per table, check foreign keys
         [--with-history]      the copy was made with --with-history
  analyze                      time and explain the hot queries on DATABASE_URL; it writes
                               there as a worker would: the KPI and compliance snapshots
                               rebuilt, three completed jobs of kind analyze.probe
         [--runs N]            runs of each statement (default 30)
         [--out PATH]          the report (default docs/performance/db-analyze-<dialect>.md)
         [--no-report]         print the table only

URLs are sqlite:<path> or postgres://user@host:port/database. The source is only read.
Exit status: 0 verified, 1 refused or mismatched, 2 bad arguments.`;

class UsageError extends Error {}

const COMMANDS = ['copy', 'verify', 'analyze'] as const;
const DEFAULT_REPORT = 'docs/performance/db-analyze-<dialect>.md';
type Command = (typeof COMMANDS)[number];

interface Args {
  command: Command;
  from: string;
  to: string;
  withHistory: boolean;
  resume: boolean;
  batchSize: number | undefined;
  runs: number;
  out: string | null;
}

export function parseDbArgs(argv: string[]): Args | null {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help || positionals.length === 0) return null;
  const [command, ...rest] = positionals;
  if (!(COMMANDS as readonly string[]).includes(command!)) {
    throw new UsageError(
      `unknown command ${JSON.stringify(command)}: expected one of ${COMMANDS.join(', ')}`,
    );
  }
  if (rest.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(rest[0])}`);
  if (command === 'analyze') {
    for (const name of ['from', 'to', 'with-history', 'resume', 'batch-size'] as const) {
      if (values[name] !== undefined)
        throw new UsageError(`--${name} does not apply to analyze (it reads DATABASE_URL)`);
    }
    if (values['no-report'] && values.out !== undefined)
      throw new UsageError('--out and --no-report exclude each other');
    const runs = values.runs === undefined ? 30 : Number(values.runs);
    if (!/^\d+$/.test(values.runs ?? '30') || runs < 1 || runs > 10_000) {
      throw new UsageError(`--runs must be an integer from 1 to 10000, got ${JSON.stringify(values.runs)}`);
    }
    return {
      command: 'analyze',
      from: '',
      to: '',
      withHistory: false,
      resume: false,
      batchSize: undefined,
      runs,
      out: values['no-report'] ? null : (values.out ?? DEFAULT_REPORT),
    };
  }
  for (const name of ['runs', 'out', 'no-report'] as const) {
    if (values[name] !== undefined) throw new UsageError(`--${name} applies to analyze only`);
  }
  for (const name of ['from', 'to'] as const) {
    const url = values[name];
    if (url === undefined) throw new UsageError(`--${name} URL is required`);
    try {
      parseDatabaseUrl(url, `--${name}`);
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
  }
  if (command === 'verify' && values.resume) throw new UsageError('--resume applies to copy only');
  let batchSize: number | undefined;
  if (values['batch-size'] !== undefined) {
    batchSize = Number(values['batch-size']);
    if (!/^\d+$/.test(values['batch-size']) || batchSize < 1 || batchSize > 1_000_000) {
      throw new UsageError(
        `--batch-size must be an integer from 1 to 1000000, got ${JSON.stringify(values['batch-size'])}`,
      );
    }
  }
  return {
    command: command as Command,
    from: values.from!,
    to: values.to!,
    withHistory: values['with-history'] ?? false,
    resume: values.resume ?? false,
    batchSize,
    runs: 0,
    out: null,
  };
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    strict: true,
    allowPositionals: true,
    options: {
      from: { type: 'string' },
      to: { type: 'string' },
      'with-history': { type: 'boolean' },
      resume: { type: 'boolean' },
      'batch-size': { type: 'string' },
      runs: { type: 'string' },
      out: { type: 'string' },
      'no-report': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}

/** The queue's own installer, run once against the target (no maintenance, no workers). */
async function installQueue(databaseUrl: string): Promise<void> {
  const backend = await createQueueBackend(databaseUrl);
  await backend.start({ maintenance: false });
  await backend.stop();
}

async function main(): Promise<number> {
  const args = parseDbArgs(process.argv.slice(2));
  if (args === null) {
    console.log(USAGE);
    return 0;
  }
  if (args.command === 'analyze') {
    const { analyze } = await import('./db-analyze.ts');
    const { analysisPassed } = await import('@offload/db/analyze');
    const profiles = await analyze({ databaseUrl: loadConfig().databaseUrl, runs: args.runs, out: args.out });
    return analysisPassed(profiles) ? 0 : 1;
  }
  const { from, to, withHistory } = args;
  console.log(`${args.command} ${redactUrl(from)} → ${redactUrl(to)}`);
  if (args.command === 'verify') {
    const report = await verifyDatabases({ from, to, withHistory, batchSize: args.batchSize });
    console.log(formatVerification(report));
    return report.ok ? 0 : 1;
  }
  const report = await copyDatabase({
    from,
    to,
    withHistory,
    resume: args.resume,
    batchSize: args.batchSize,
    prepareTarget: installQueue,
    progress: streamProgress(process.stderr),
  });
  for (const table of report.tables) {
    const what = table.skipped ? 'already copied' : `${(table.ms / 1000).toFixed(1)} s`;
    console.log(
      `  ${table.name.padEnd(22)} ${table.rows.toLocaleString('en-US').padStart(12)} rows  ${what}`,
    );
  }
  const rate = report.ms > 0 ? Math.round((report.rows * 1000) / report.ms) : 0;
  console.log(
    `copied ${report.rows.toLocaleString('en-US')} rows in ${(report.ms / 1000).toFixed(1)} s (${rate.toLocaleString('en-US')} rows/s, verification included)\n`,
  );
  console.log(formatVerification(report.verification));
  for (const note of report.notes) console.log(`note: ${note}`);
  return report.verification.ok ? 0 : 1;
}

if (import.meta.main) {
  main().then(
    (code) => process.exit(code),
    (err: unknown) => {
      if (err instanceof UsageError) {
        console.error(`db: ${err.message}\n\n${USAGE}`);
        process.exit(2);
      }
      const known =
        err instanceof CopyRefusedError || err instanceof DatabaseOpenError || err instanceof ConfigError;
      console.error(`db: ${known ? (err as Error).message : ((err as Error)?.stack ?? String(err))}`);
      process.exit(1);
    },
  );
}
