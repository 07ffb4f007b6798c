import type { Knex } from 'knex';
import * as referenceData from './0001_reference_data.ts';
import * as inventory from './0002_inventory.ts';
import * as attestations from './0003_attestations.ts';
import * as metrics from './0004_metrics.ts';
import * as cacheTables from './0005_cache_tables.ts';
import * as apiKeys from './0006_api_keys.ts';
import * as uploads from './0007_uploads.ts';
import * as workerRegistry from './0008_worker_registry.ts';
import * as idempotencyKeys from './0009_idempotency_keys.ts';
import * as reportIndexes from './0011_report_indexes.ts';
import * as readIndexes from './0012_read_indexes.ts';
import * as uploadOwner from './0013_upload_owner.ts';
import * as secrets from './0014_secrets.ts';
import * as attestationCycleCounts from './0017_attestation_cycle_counts.ts';
import * as idempotencyJob from './0018_idempotency_job.ts';

// Listed statically: knex's directory loader require()s files by extension, which does not
// load .ts under Node's type stripping. Append new migrations; never rename or reorder, the
// names are recorded in knex_migrations.
const MIGRATIONS: ReadonlyMap<string, Knex.Migration> = new Map([
  ['0001_reference_data', referenceData],
  ['0002_inventory', inventory],
  ['0003_attestations', attestations],
  ['0004_metrics', metrics],
  ['0005_cache_tables', cacheTables],
  ['0006_api_keys', apiKeys],
  ['0007_uploads', uploads],
  ['0008_worker_registry', workerRegistry],
  ['0009_idempotency_keys', idempotencyKeys],
  ['0011_report_indexes', reportIndexes],
  ['0012_read_indexes', readIndexes],
  ['0013_upload_owner', uploadOwner],
  ['0014_secrets', secrets],
  ['0017_attestation_cycle_counts', attestationCycleCounts],
  ['0018_idempotency_job', idempotencyJob],
]);

export const migrationSource: Knex.MigrationSource<string> = {
  async getMigrations() {
    return [...MIGRATIONS.keys()];
  },
  getMigrationName(name) {
    return name;
  },
  async getMigration(name) {
    const migration = MIGRATIONS.get(name);
    if (migration === undefined) throw new Error(`unknown migration ${name}`);
    return migration;
  },
};
