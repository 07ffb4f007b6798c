// `npm start`: the embedded default in one command. Migrates the database, seeds a small demo
// inventory the first time, then runs one API process and one worker process until Ctrl-C or
// SIGTERM, which it passes on and waits for. If either child dies, the other is stopped too.
import type { ChildProcess } from 'node:child_process';
import { ConfigError, loadConfig } from '@offload/config';
import { createDb, migrateLatest } from '@offload/db';
import { seedDatabase } from '@offload/db/seed';
import { API_ENTRY, startChild, WORKER_ENTRY } from './processes.ts';

const DEMO_MODELS = 200;

async function prepareDatabase(): Promise<void> {
  const config = loadConfig();
  const db = createDb({ databaseUrl: config.databaseUrl, poolMax: config.databasePoolMax });
  try {
    await migrateLatest(db);
    const [{ count }] = await db.knex('models').count<Array<{ count: number | string }>>({ count: '*' });
    if (Number(count) === 0) {
      process.stderr.write(`[start] first run: seeding a demo inventory of ${DEMO_MODELS} models\n`);
      await seedDatabase(db, { models: DEMO_MODELS, quiet: true });
    }
  } finally {
    await db.destroy();
  }
}

async function main(): Promise<void> {
  await prepareDatabase();
  const children = new Map<string, ChildProcess>([
    ['api', startChild('api', API_ENTRY)],
    ['worker', startChild('worker', WORKER_ENTRY)],
  ]);
  let exitCode = 0;
  let stopping = false;
  const stopAll = (signal: NodeJS.Signals): void => {
    stopping = true;
    for (const child of children.values()) if (child.exitCode === null) child.kill(signal);
  };
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => stopAll('SIGTERM'));

  await Promise.all(
    [...children].map(
      ([name, child]) =>
        new Promise<void>((resolve) => {
          child.on('exit', (code, signal) => {
            if (!stopping) {
              process.stderr.write(`[start] ${name} exited (${code ?? signal}); stopping the rest\n`);
              exitCode = code || 1;
              stopAll('SIGTERM');
            }
            resolve();
          });
        }),
    ),
  );
  process.exit(exitCode);
}

main().catch((error: unknown) => {
  const message = error instanceof ConfigError ? `configuration error: ${error.message}` : String(error);
  process.stderr.write(`[start] ${message}\n`);
  process.exit(1);
});
