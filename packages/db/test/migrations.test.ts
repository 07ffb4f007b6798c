import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Db, migrateLatest, migrateRollbackAll } from '../src/index.ts';
import { migrationSource } from '../src/migrations/index.ts';
import { createTestDb, type TestDb, testDatabases } from '../src/testing.ts';

const execFileAsync = promisify(execFile);
const MIGRATE_CLI = join(import.meta.dirname, '..', 'src', 'migrate-cli.ts');

const MIGRATION_NAMES = await migrationSource.getMigrations([]);
const MIGRATION_COUNT = MIGRATION_NAMES.length;
const FIRST_MIGRATION = MIGRATION_NAMES[0]!;
const LAST_MIGRATION = MIGRATION_NAMES.at(-1)!;

const TABLES = [
  'regions',
  'teams',
  'risk_tiers',
  'models',
  'validations',
  'approvals',
  'attestation_cycles',
  'attestation_records',
  'metric_sources',
  'model_metrics',
  'model_health',
  'kpi_snapshots',
  'report_snapshots',
  'cache_versions',
  'api_keys',
  'uploads',
  'upload_chunks',
  'worker_registry',
  'idempotency_keys',
  'schedule_defaults',
  'secrets',
  'attestation_cycle_counts',
];

// name → [table, columns, unique]
const INDEXES: Record<string, [string, string[], boolean]> = {
  regions_code_unique: ['regions', ['code'], true],
  teams_code_unique: ['teams', ['code'], true],
  teams_region_id_idx: ['teams', ['region_id'], false],
  risk_tiers_code_unique: ['risk_tiers', ['code'], true],
  models_external_id_unique: ['models', ['external_id'], true],
  models_region_team_status_id_idx: ['models', ['region_id', 'team_id', 'status', 'id'], false],
  models_team_id_idx: ['models', ['team_id'], false],
  models_risk_tier_id_idx: ['models', ['risk_tier_id'], false],
  validations_model_kind_status_approved_on_idx: [
    'validations',
    ['model_id', 'kind', 'status', 'approved_on'],
    false,
  ],
  validations_status_model_idx: ['validations', ['status', 'model_id'], false],
  approvals_validation_region_type_unique: [
    'approvals',
    ['validation_id', 'region_id', 'approval_type'],
    true,
  ],
  attestation_cycles_name_unique: ['attestation_cycles', ['name'], true],
  attestation_records_cycle_model_unique: ['attestation_records', ['cycle_id', 'model_id'], true],
  attestation_records_cycle_status_idx: ['attestation_records', ['cycle_id', 'status'], false],
  attestation_records_model_id_idx: ['attestation_records', ['model_id'], false],
  metric_sources_name_unique: ['metric_sources', ['name'], true],
  model_metrics_model_metric_observed_at_unique: [
    'model_metrics',
    ['model_id', 'metric', 'observed_at'],
    true,
  ],
  model_health_status_idx: ['model_health', ['status'], false],
  api_keys_key_hash_unique: ['api_keys', ['key_hash'], true],
  worker_registry_last_heartbeat_at_index: ['worker_registry', ['last_heartbeat_at'], false],
  idempotency_keys_created_at_idx: ['idempotency_keys', ['created_at'], false],
  attestation_cycle_counts_opens_on_cycle_idx: ['attestation_cycle_counts', ['opens_on', 'cycle_id'], false],
};

const PRIMARY_KEYS: Record<string, string[]> = {
  models: ['id'],
  model_health: ['model_id'],
  kpi_snapshots: ['key'],
  report_snapshots: ['key'],
  cache_versions: ['family'],
  uploads: ['id'],
  upload_chunks: ['upload_id', 'seq'],
  worker_registry: ['id'],
  idempotency_keys: ['owner', 'key'],
  schedule_defaults: ['name'],
  attestation_cycle_counts: ['cycle_id'],
};

interface IndexInfo {
  table: string;
  columns: string[];
  unique: boolean;
  primary: boolean;
}

async function tablesOf(db: Db): Promise<string[]> {
  const rows: Array<{ name: string }> =
    db.dialect === 'sqlite'
      ? await db
          .knex('sqlite_master')
          .select('name')
          .where('type', 'table')
          .andWhereNot('name', 'like', 'sqlite_%')
      : await db.knex('pg_tables').select('tablename as name').where('schemaname', 'public');
  return rows.map((row) => row.name).sort();
}

async function indexesOf(db: Db): Promise<Map<string, IndexInfo>> {
  const result = new Map<string, IndexInfo>();
  if (db.dialect === 'postgres') {
    const { rows } = await db.knex.raw<{
      rows: Array<{ name: string; table: string; columns: string[]; unique: boolean; primary: boolean }>;
    }>(`
      SELECT i.relname AS name, t.relname AS "table", x.indisunique AS "unique", x.indisprimary AS "primary",
             array(SELECT a.attname FROM unnest(x.indkey) WITH ORDINALITY k(attnum, n)
                   JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum ORDER BY k.n)::text[] AS columns
      FROM pg_index x
      JOIN pg_class i ON i.oid = x.indexrelid
      JOIN pg_class t ON t.oid = x.indrelid
      JOIN pg_namespace ns ON ns.oid = t.relnamespace
      WHERE ns.nspname = 'public'`);
    for (const { name, ...info } of rows) result.set(name, info);
    return result;
  }
  for (const table of await tablesOf(db)) {
    const list: Array<{ name: string; unique: number; origin: string }> = await db.knex.raw(
      `PRAGMA index_list("${table}")`,
    );
    for (const index of list) {
      const cols: Array<{ name: string }> = await db.knex.raw(`PRAGMA index_info("${index.name}")`);
      result.set(index.name, {
        table,
        columns: cols.map((c) => c.name),
        unique: index.unique === 1,
        primary: index.origin === 'pk',
      });
    }
    // An INTEGER PRIMARY KEY is the rowid itself, with no index of its own.
    const info: Array<{ name: string; pk: number }> = await db.knex.raw(`PRAGMA table_info("${table}")`);
    const pk = info.filter((c) => c.pk > 0).sort((a, b) => a.pk - b.pk);
    if (pk.length > 0 && ![...result.values()].some((i) => i.table === table && i.primary)) {
      result.set(`${table}_rowid_pk`, { table, columns: pk.map((c) => c.name), unique: true, primary: true });
    }
  }
  return result;
}

for (const kind of testDatabases()) {
  describe(kind, () => {
    let t: TestDb;
    beforeAll(async () => {
      t = await createTestDb(kind, { migrate: false });
    });
    afterAll(() => t?.destroy());

    async function expectFullSchema() {
      expect(await tablesOf(t.db)).toEqual([...TABLES, 'knex_migrations', 'knex_migrations_lock'].sort());
      const indexes = await indexesOf(t.db);
      for (const [name, [table, columns, unique]] of Object.entries(INDEXES)) {
        expect(indexes.get(name), name).toMatchObject({ table, columns, unique });
      }
      for (const [table, columns] of Object.entries(PRIMARY_KEYS)) {
        const pk = [...indexes.values()].find((index) => index.table === table && index.primary);
        expect(pk?.columns, `${table} primary key`).toEqual(columns);
      }
    }

    async function expectNoSchema() {
      expect(await tablesOf(t.db)).toEqual(['knex_migrations', 'knex_migrations_lock']);
      const leftover = [...(await indexesOf(t.db)).values()].filter((i) => !i.table.startsWith('knex_'));
      expect(leftover).toEqual([]);
    }

    it('migrates up, down and up again', async () => {
      expect(await migrateLatest(t.db)).toHaveLength(MIGRATION_COUNT);
      await expectFullSchema();
      expect(await migrateLatest(t.db)).toEqual([]);

      expect(await migrateRollbackAll(t.db)).toHaveLength(MIGRATION_COUNT);
      await expectNoSchema();

      await migrateLatest(t.db);
      await expectFullSchema();
    });

    it('lets concurrent migrators wait for each other instead of failing', async () => {
      // A fresh database, so they also race to create knex's bookkeeping tables. The others
      // are processes, as an API and a worker started together: two SQLite handles in one
      // process would stall each other, since better-sqlite3 waits on the file lock
      // synchronously.
      const fresh = await createTestDb(kind, { migrate: false });
      try {
        const env = { ...process.env, DATABASE_URL: fresh.databaseUrl };
        const others = [1, 2].map(() => execFileAsync(process.execPath, [MIGRATE_CLI], { env }));
        const [mine, ...theirs] = await Promise.all([migrateLatest(fresh.db), ...others]);
        const applied =
          theirs.filter((r) => r.stdout.includes('applied')).length * MIGRATION_COUNT + mine.length;
        expect(applied).toBe(MIGRATION_COUNT);
        expect(await migrateLatest(fresh.db)).toEqual([]);
      } finally {
        await fresh.destroy();
      }
    });

    it('migrates with the CLI, reading DATABASE_URL', async () => {
      const env = { ...process.env, DATABASE_URL: t.databaseUrl };
      const down = await execFileAsync(process.execPath, [MIGRATE_CLI, 'rollback-all'], { env });
      expect(down.stdout).toMatch(new RegExp(`reverted ${LAST_MIGRATION}, .*${FIRST_MIGRATION}`));
      await expectNoSchema();
      const up = await execFileAsync(process.execPath, [MIGRATE_CLI], { env });
      expect(up.stdout).toMatch(new RegExp(`applied ${FIRST_MIGRATION}, .*${LAST_MIGRATION}`));
      await expectFullSchema();
      await expect(execFileAsync(process.execPath, [MIGRATE_CLI, 'sideways'], { env })).rejects.toMatchObject(
        {
          code: 2,
        },
      );
    });
  });
}
