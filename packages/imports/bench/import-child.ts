// One measured run of the import benchmark, in its own process so that its peak RSS is its own:
//   node [--import ../src/set-worker-v8-flags.ts] import-child.ts <stream|naive|copy|copy-insert> <databaseUrl> <csv file | upload id>
// prints one JSON line: { rows, seconds, maxRssMb, detail }.
//
// - stream: importCsv as the import.csv handler runs it, from an upload the parent stored (the
//   API's part) in the store of the database's shape (PostgreSQL chunks, or the folder beside the
//   SQLite file): the last argument is then the upload's id; the upload is deleted afterwards;
// - naive: the import as often first written: read the whole file, parse it all (csv-parse's
//   sync API), validate, then insert 500-row batches with knex's upsert builder;
// - copy: PostgreSQL COPY of the file into a staging table of text columns (no validation, no
//   index): the reference the import is held to;
// - copy-insert: that COPY, then one INSERT … SELECT from the staging table into models (codes
//   joined to ids, no validation, no upsert), in one transaction: what the database itself
//   needs to write the rows into models with its keys and indexes, however they arrive.

import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { createDb, type Db } from '@offload/db';
import { parse } from 'csv-parse/sync';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { importCsv } from '../src/import.ts';
import { createUploadStore } from '../src/storage.ts';
import { loadModelReferences, type ModelRow, validateModel } from '../src/validate-models.ts';

export type BenchMode = 'stream' | 'naive' | 'copy' | 'copy-insert';

const READ_CHUNK = 256 * 1024;

async function streamImport(db: Db, uploadId: string) {
  const store = createUploadStore(db, { maxBytes: Number.MAX_SAFE_INTEGER });
  try {
    const result = await importCsv(db, { entity: 'models', source: store.open(uploadId) });
    if (result.rejected > 0)
      throw new Error(`rejected ${result.rejected} rows: ${JSON.stringify(result.errors[0])}`);
    return { rows: result.read, detail: `inserted ${result.inserted} from the ${store.kind} upload store` };
  } finally {
    await store.delete(uploadId);
  }
}

async function naiveImport(db: Db, file: string) {
  const text = await readFile(file, 'utf8');
  const records: string[][] = parse(text, { from_line: 2 });
  const refs = await loadModelReferences(db.knex);
  const rows = records.map((fields, i) => validateModel({ line: i + 2, fields }, refs));
  const now = new Date().toISOString();
  for (let i = 0; i < rows.length; i += 500) {
    const batch = rows.slice(i, i + 500).filter((r): r is ModelRow => typeof r !== 'string');
    await db.knex.transaction((trx) =>
      trx('models')
        .insert(
          batch.map((r) => ({
            external_id: r.externalId,
            name: r.name,
            region_id: r.regionId,
            team_id: r.teamId,
            risk_tier_id: r.riskTierId,
            owner_email: r.ownerEmail,
            status: r.status,
            created_at: now,
            updated_at: now,
          })),
        )
        .onConflict('external_id')
        .merge(),
    );
  }
  return { rows: records.length, detail: '' };
}

interface KnexClient {
  acquireConnection(): Promise<pg.Client>;
  releaseConnection(connection: pg.Client): Promise<void>;
}

// import_bench_staging: the CSV's columns as text, nothing else. Params: none.
const CREATE_STAGING = `CREATE TABLE IF NOT EXISTS import_bench_staging (
  external_id text, name text, region text, team text, risk_tier text, owner_email text, status text)`;

// models: every staged row, codes resolved by join. Params: none.
const INSERT_FROM_STAGING = `
  INSERT INTO models (external_id, name, region_id, team_id, risk_tier_id, owner_email, status)
  SELECT s.external_id, s.name, r.id, t.id, k.id, s.owner_email, s.status
    FROM import_bench_staging s
    JOIN regions r ON r.code = s.region
    JOIN teams t ON t.code = s.team
    JOIN risk_tiers k ON k.code = s.risk_tier`;

async function copyImport(db: Db, file: string) {
  await db.knex.raw(CREATE_STAGING);
  const client = db.knex.client as KnexClient;
  const conn = await client.acquireConnection();
  try {
    const copy = conn.query(copyFrom('COPY import_bench_staging FROM STDIN (FORMAT csv, HEADER true)'));
    await pipeline(createReadStream(file, { highWaterMark: READ_CHUNK }), copy);
    return { rows: Number(copy.rowCount), detail: '' };
  } finally {
    await client.releaseConnection(conn);
  }
}

async function copyInsertImport(db: Db, file: string) {
  const { rows } = await copyImport(db, file);
  const inserted = await db.knex.transaction(async (trx) => {
    const result = await trx.raw(INSERT_FROM_STAGING);
    return (result as { rowCount: number }).rowCount;
  });
  if (inserted !== rows) throw new Error(`inserted ${inserted} of ${rows} staged rows`);
  return { rows, detail: '' };
}

const RUNS = {
  stream: streamImport,
  naive: naiveImport,
  copy: copyImport,
  'copy-insert': copyInsertImport,
} as const;

if (import.meta.main) {
  const [mode, databaseUrl, file] = process.argv.slice(2) as [BenchMode, string, string];
  const db = createDb({ databaseUrl, poolMax: 2 });
  try {
    const t0 = performance.now();
    const { rows, detail } = await RUNS[mode](db, file);
    const seconds = (performance.now() - t0) / 1000;
    const maxRssMb = process.resourceUsage().maxRSS / 1024;
    process.stdout.write(`${JSON.stringify({ rows, seconds, maxRssMb, detail })}\n`);
  } finally {
    await db.destroy();
  }
}
