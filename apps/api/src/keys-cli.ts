// `npm run keys -- <command>`: manage API keys in the database named by DATABASE_URL.
//
//   create --owner <owner> --scopes submit,read[,admin] [--name <name>]
//          prints the new key once (on stdout, alone, so scripts can capture it); only its hash
//          is stored.
//   list   every key: id, name, owner, scopes, created, last used, revoked.
//   revoke <id>
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from '@offload/config';
import { createDb, migrateLatest } from '@offload/db';
import { createApiKey, listApiKeys, parseScopes, revokeApiKey } from './api-keys.ts';

const USAGE = `usage:
  npm run keys -- create --owner <owner> --scopes submit,read[,admin] [--name <name>]
  npm run keys -- list
  npm run keys -- revoke <id>`;

class UsageError extends Error {}

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h') {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const config = loadConfig();
  const db = createDb({ databaseUrl: config.databaseUrl, poolMax: 1 });
  try {
    await migrateLatest(db);
    switch (command) {
      case 'create': {
        const { values } = parseArgs({
          args: rest,
          options: { owner: { type: 'string' }, scopes: { type: 'string' }, name: { type: 'string' } },
          strict: true,
        });
        if (values.owner === undefined || values.owner.trim() === '')
          throw new UsageError('--owner is required');
        if (values.scopes === undefined) throw new UsageError('--scopes is required (submit, read, admin)');
        let scopes: ReturnType<typeof parseScopes>;
        try {
          scopes = parseScopes(values.scopes);
        } catch (error) {
          throw new UsageError((error as Error).message);
        }
        if (scopes.length === 0) throw new UsageError('--scopes needs at least one scope');
        const { key, record } = await createApiKey(db, {
          name: values.name ?? `${values.owner} key`,
          owner: values.owner.trim(),
          scopes,
        });
        process.stderr.write(
          `created key ${record.id} for ${record.owner} (${record.scopes.join(', ')}); it is shown once:\n`,
        );
        process.stdout.write(`${key}\n`);
        return;
      }
      case 'list': {
        if (rest.length > 0) throw new UsageError('list takes no arguments');
        const keys = await listApiKeys(db);
        const rows = keys.map((key) => [
          String(key.id),
          key.name,
          key.owner,
          key.scopes.join(','),
          key.createdAt,
          key.lastUsedAt ?? '-',
          key.revokedAt ?? '-',
        ]);
        printTable(['id', 'name', 'owner', 'scopes', 'created', 'last used', 'revoked'], rows);
        return;
      }
      case 'revoke': {
        const [id, ...extra] = rest;
        if (id === undefined || extra.length > 0 || !/^\d+$/.test(id)) {
          throw new UsageError('revoke takes one key id (see `list`)');
        }
        if (!(await revokeApiKey(db, Number(id)))) {
          process.stderr.write(`no active key ${id}\n`);
          process.exitCode = 1;
          return;
        }
        process.stderr.write(`revoked key ${id}\n`);
        return;
      }
      default:
        throw new UsageError(`unknown command ${JSON.stringify(command)}`);
    }
  } finally {
    await db.destroy();
  }
}

function printTable(header: string[], rows: string[][]): void {
  const widths = header.map((title, i) => Math.max(title.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => cell.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  process.stdout.write(`${[line(header), ...rows.map(line)].join('\n')}\n`);
}

main(process.argv.slice(2)).catch((error: unknown) => {
  if (error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
    process.stderr.write(`${(error as Error).message}\n${USAGE}\n`);
    process.exit(2);
  }
  if (error instanceof ConfigError) {
    process.stderr.write(`configuration error: ${error.message}\n`);
    process.exit(78);
  }
  process.stderr.write(`keys failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
