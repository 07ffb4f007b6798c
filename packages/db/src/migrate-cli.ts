// Usage: node packages/db/src/migrate-cli.ts [latest|rollback-all]
// Migrates the database named by DATABASE_URL (default: the embedded SQLite file).
import { loadConfig, redactUrl } from '@offload/config';
import { createDb } from './knex.ts';
import { migrateLatest, migrateRollbackAll } from './migrate.ts';

const COMMANDS = { latest: migrateLatest, 'rollback-all': migrateRollbackAll } as const;

async function main(): Promise<void> {
  const command = process.argv[2] ?? 'latest';
  if (!Object.hasOwn(COMMANDS, command)) {
    console.error(`usage: migrate-cli.ts [${Object.keys(COMMANDS).join('|')}] (got "${command}")`);
    process.exit(2);
  }
  const config = loadConfig();
  const db = createDb({ databaseUrl: config.databaseUrl, poolMax: 2 });
  try {
    const names = await COMMANDS[command as keyof typeof COMMANDS](db);
    const verb = command === 'latest' ? 'applied' : 'reverted';
    const list = names.length === 0 ? 'nothing to do' : `${verb} ${names.join(', ')}`;
    console.log(`${redactUrl(config.databaseUrl)}: ${list}`);
  } finally {
    await db.destroy();
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
