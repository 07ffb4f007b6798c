import { spawnSync } from 'node:child_process';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  adminUrl,
  migrationsHash,
  prepareTestTemplates,
  SQLITE_TEST_DIR,
  type TestDatabasesInfo,
} from '../src/test-templates.ts';
import { testDatabases } from '../src/testing.ts';

const TWO_HOURS = 2 * 60 * 60 * 1000;
const stamp = (ms: number) =>
  `${ms.toString(36)}_${Math.floor(Math.random() * 2 ** 32)
    .toString(16)
    .padStart(8, '0')}`;

describe('sweeping what crashed runs left', () => {
  const oldFile = join(SQLITE_TEST_DIR, `t_${stamp(Date.now() - TWO_HOURS)}.db`);
  const freshFile = join(SQLITE_TEST_DIR, `t_${stamp(Date.now())}.db`);

  it('removes SQLite files older than an hour and keeps fresh ones', async () => {
    writeFileSync(oldFile, '');
    writeFileSync(freshFile, '');
    const info = await prepareTestTemplates();
    expect(existsSync(oldFile)).toBe(false);
    expect(existsSync(freshFile)).toBe(true);
    expect(existsSync(info.sqliteTemplate)).toBe(true);
  });

  afterAll(() => {
    for (const file of [oldFile, freshFile]) rmSync(file, { force: true });
  });
});

if (testDatabases().includes('postgres')) {
  describe('postgres', () => {
    let admin: pg.Client;
    const names = {
      oldTest: `offload_t_${stamp(Date.now() - TWO_HOURS)}`,
      oldBuild: `offload_b_${stamp(Date.now() - TWO_HOURS)}`,
      freshTest: `offload_t_${stamp(Date.now())}`,
      oldTemplate: 'offload_tpl_000000000000',
      freshTemplate: 'offload_tpl_ffffffffffff',
    };
    beforeAll(async () => {
      admin = new pg.Client({ connectionString: adminUrl() });
      await admin.connect();
      for (const name of Object.values(names))
        await admin.query(`CREATE DATABASE ${name} TEMPLATE template0`);
      const lastUsed = (ms: number) => `offload test template, last used ${new Date(ms).toISOString()}`;
      await admin.query(`COMMENT ON DATABASE ${names.oldTemplate} IS '${lastUsed(Date.now() - TWO_HOURS)}'`);
      await admin.query(`COMMENT ON DATABASE ${names.freshTemplate} IS '${lastUsed(Date.now())}'`);
      await admin.query(`ALTER DATABASE ${names.oldTemplate} WITH IS_TEMPLATE true`);
    });
    afterAll(async () => {
      for (const name of Object.values(names)) {
        await admin.query(`ALTER DATABASE ${name} WITH IS_TEMPLATE false`).catch(() => {});
        await admin.query(`DROP DATABASE IF EXISTS ${name}`);
      }
      await admin.end();
    });

    async function existing(): Promise<Set<string>> {
      const { rows } = await admin.query<{ datname: string }>('SELECT datname FROM pg_database');
      return new Set(rows.map((r) => r.datname));
    }

    it('drops stale test databases and templates, and nothing else', async () => {
      const info = await prepareTestTemplates();
      const after = await existing();
      expect(after.has(names.oldTest)).toBe(false);
      expect(after.has(names.oldBuild)).toBe(false);
      expect(after.has(names.oldTemplate)).toBe(false);
      expect(after.has(names.freshTest)).toBe(true);
      expect(after.has(names.freshTemplate)).toBe(true);
      expect(after.has(info.postgres!.template)).toBe(true);
      expect(after.has('test')).toBe(true);
      expect(after.has('postgres')).toBe(true);
    });

    it('names the template after the migrations and keeps it unconnectable', async () => {
      const template = `offload_tpl_${migrationsHash()}`;
      const { rows } = await admin.query(
        'SELECT datistemplate, datallowconn FROM pg_database WHERE datname = $1',
        [template],
      );
      expect(rows).toEqual([{ datistemplate: true, datallowconn: false }]);
    });
  });
}

it('prepares the same templates from a child process when no global setup ran', () => {
  const script = join(import.meta.dirname, '..', 'src', 'test-templates-cli.ts');
  const result = spawnSync(process.execPath, [script], { encoding: 'utf8' });
  expect(result.status).toBe(0);
  const info = JSON.parse(result.stdout) as TestDatabasesInfo;
  expect(info.hash).toBe(migrationsHash());
  expect(info.sqliteTemplate).toBe(join(SQLITE_TEST_DIR, `template-${info.hash}.db`));
});

describe('without a reachable PostgreSQL', () => {
  const probe = (ci: string) =>
    spawnSync(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `import { testDatabases } from ${JSON.stringify(join(import.meta.dirname, '..', 'src', 'testing.ts'))};
         console.log(JSON.stringify(testDatabases()));`,
      ],
      {
        encoding: 'utf8',
        env: { ...process.env, CI: ci, TEST_DATABASE_URL: 'postgres://postgres@127.0.0.1:1/test' },
      },
    );

  it('runs SQLite only, with a warning', () => {
    const result = probe('');
    expect(result.status).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual(['sqlite']);
    expect(result.stderr).toContain('is not reachable');
  });

  it('fails under CI=true instead of skipping', () => {
    const result = probe('true');
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain('CI=true requires it');
  });
});
