// import.csv: import an uploaded CSV of models or validations (DESIGN §3). The API stores the
// upload (POST /v1/imports) and sends this job with the upload's id; the worker streams the
// upload, validates every row, upserts the valid ones in batches and ends with the counts and
// the first rejected rows by line. The upload is removed once the job has ended.
import { z } from 'zod';
import { defineJobKind } from '../kind.ts';

export const IMPORT_ENTITIES = ['models', 'validations'] as const;

const payload = z
  .strictObject({
    uploadId: z.uuid().describe('The stored upload to import (made by POST /v1/imports).'),
    entity: z.enum(IMPORT_ENTITIES).describe('What the file holds: models or validations.'),
  })
  .describe('import.csv payload');

const counts = {
  bytes: z.number().int().min(0).describe('Bytes of the file read.'),
  read: z.number().int().min(0).describe('Records read, the header excluded.'),
  inserted: z.number().int().min(0),
  updated: z.number().int().min(0),
  unchanged: z.number().int().min(0).describe('Rows equal to what is stored (re-imports land here).'),
  rejected: z.number().int().min(0),
};

const result = z
  .strictObject({
    entity: z.enum(IMPORT_ENTITIES),
    uploadId: z.string(),
    ...counts,
    errors: z
      .array(z.strictObject({ line: z.number().int(), reason: z.string() }))
      .describe('The first rejected rows (at most 100), by line.'),
    kpiRebuildJobId: z.string().nullable().describe('The debounced rebuild.kpi job requested afterwards.'),
  })
  .describe('import.csv result');

export type ImportCsvPayload = z.output<typeof payload>;
export type ImportCsvResult = z.output<typeof result>;

export const importCsvKind = defineJobKind({
  name: 'import.csv',
  description:
    'Imports an uploaded models or validations CSV: validates every row, upserts the valid ones by ' +
    'external_id in batches of 500, and reports counts and the first rejected rows by line.',
  payload,
  result,
  cpuBound: false,
  // The caller's own upload: POST /v1/jobs checks that the upload is theirs.
  startScope: 'submit',
  // A failed attempt is re-run whole: the import is idempotent and the upload is kept until
  // the job ends.
  defaults: { maxAttempts: 3, backoff: { baseMs: 2000, maxMs: 60_000 }, leaseSeconds: 60 },
});
