// importCsv on both databases: good rows land while bad ones are reported by line, a second
// import of the same file changes nothing, whole-file problems fail clearly, cancellation keeps
// the batches committed, and on PostgreSQL a worker with its own Db imports an upload another
// process stored.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { createDb } from '@offload/db';
import { seedDatabase } from '@offload/db/seed';
import { createTestDb, type TestDb, testDatabases } from '@offload/db/testing';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type ImportOptions, importCsv, MAX_REPORTED_ERRORS } from '../src/import.ts';
import { CsvFormatError } from '../src/parse.ts';
import { createUploadStore } from '../src/storage.ts';

const MODELS_HEADER = 'external_id,name,region,team,risk_tier,owner_email,status';
const VALIDATIONS_HEADER = 'model_external_id,kind,status,approved_on';
const SEEDED_MODELS = 5;

const model = (id: string, name = `Model ${id}`, status = 'active') =>
  `${id},${name},NAM,NAM-CRD,tier1,owner@example.com,${status}`;

/** The file as a stream of small chunks, so records are cut across chunks. */
function source(text: string): Readable {
  return Readable.from(text.match(/[\s\S]{1,97}/g) ?? []);
}

for (const kind of testDatabases()) {
  describe(kind, () => {
    let t: TestDb;

    beforeAll(async () => {
      t = await createTestDb(kind);
      await seedDatabase(t.db, { models: SEEDED_MODELS, quiet: true });
    });
    afterAll(() => t?.destroy());
    beforeEach(async () => {
      await t.db.knex('models').where('external_id', 'like', 'T-%').delete();
    });

    const run = (entity: ImportOptions['entity'], text: string, options: Partial<ImportOptions> = {}) =>
      importCsv(t.db, { entity, source: source(text), ...options });
    const importedModels = () =>
      t.db.knex('models').where('external_id', 'like', 'T-%').orderBy('external_id');

    it('writes the good rows of a models file and reports the bad ones by line', async () => {
      const file = [
        MODELS_HEADER,
        model('T-1'),
        'T-2,"Pricing, retail",EMEA,EMEA-PRC,tier2,someone@example.co.uk,Retired',
        'T-3,Bad region,XX,NAM-CRD,tier1,owner@example.com,active',
        'T-4,Mismatch,EMEA,NAM-CRD,tier9,not-an-email,sleeping',
        ',,NAM,NAM-CRD,tier1,owner@example.com,active',
        'T-5,"=HYPERLINK(""http://x"")",NAM,NAM-CRD,tier1,@owner@example.com,active',
        'T-6,"Two',
        'lines",NAM,NAM-CRD,tier1,owner@example.com,active',
        'T-7,Short row',
        model('T-8'),
      ].join('\n');
      const result = await run('models', file);
      expect(result).toMatchObject({
        read: 9,
        inserted: 4,
        updated: 0,
        unchanged: 0,
        rejected: 5,
        cancelled: false,
      });
      expect(result.errors).toEqual([
        { line: 4, reason: 'region "XX" is unknown' },
        {
          line: 5,
          reason:
            'owner_email "not-an-email" is not an e-mail address; risk_tier "tier9" is unknown; ' +
            'team "NAM-CRD" belongs to region "NAM", not "EMEA"; status must be active or retired, got "sleeping"',
        },
        { line: 6, reason: 'external_id is empty; name is empty' },
        { line: 7, reason: 'owner_email "@owner@example.com" is not an e-mail address' },
        { line: 10, reason: 'expected 7 fields as in the header, found 2' },
      ]);
      const rows = await importedModels();
      expect(rows.map((r) => [r.external_id, r.name, r.status])).toEqual([
        ['T-1', 'Model T-1', 'active'],
        ['T-2', 'Pricing, retail', 'retired'],
        ['T-6', 'Two\nlines', 'active'],
        ['T-8', 'Model T-8', 'active'],
      ]);
      const [region] = await t.db.knex('regions').where('code', 'EMEA').select('id');
      expect(rows[1]).toMatchObject({ region_id: region.id, owner_email: 'someone@example.co.uk' });
    });

    it('stores values that look like formulas as given', async () => {
      await run('models', [MODELS_HEADER, 'T-1,=1+2,NAM,NAM-CRD,tier1,owner@example.com,active'].join('\n'));
      expect((await importedModels())[0].name).toBe('=1+2');
    });

    it('changes nothing when the same models file is imported again, and counts real changes as updates', async () => {
      const rows = Array.from({ length: 1234 }, (_, i) => model(`T-${i}`));
      const file = [MODELS_HEADER, ...rows].join('\r\n');
      const first = await run('models', file, { now: () => new Date('2026-01-01T00:00:00.000Z') });
      expect(first).toMatchObject({ read: 1234, inserted: 1234, updated: 0, unchanged: 0, rejected: 0 });
      const second = await run('models', file, { now: () => new Date('2026-02-01T00:00:00.000Z') });
      expect(second).toMatchObject({ read: 1234, inserted: 0, updated: 0, unchanged: 1234, rejected: 0 });
      const stamps = await t.db.knex('models').where('external_id', 'like', 'T-%').distinct('updated_at');
      expect(stamps).toEqual([{ updated_at: '2026-01-01T00:00:00.000Z' }]);

      rows[700] = model('T-700', 'Renamed');
      rows.push(model('T-new'));
      const third = await run('models', [MODELS_HEADER, ...rows].join('\n'), {
        now: () => new Date('2026-03-01T00:00:00.000Z'),
      });
      expect(third).toMatchObject({ read: 1235, inserted: 1, updated: 1, unchanged: 1233 });
      const renamed = await t.db.knex('models').where('external_id', 'T-700').first();
      expect(renamed).toMatchObject({
        name: 'Renamed',
        created_at: '2026-01-01T00:00:00.000Z',
        updated_at: '2026-03-01T00:00:00.000Z',
      });
    });

    it('applies a model repeated in one file in file order', async () => {
      const file = [MODELS_HEADER, model('T-1', 'First'), model('T-2'), model('T-1', 'Second')].join('\n');
      expect(await run('models', file)).toMatchObject({ inserted: 2, updated: 1, unchanged: 0 });
      expect((await importedModels())[0].name).toBe('Second');
    });

    it('reads a file with a byte-order mark, CRLF line ends and its columns in another order', async () => {
      const file =
        '\ufeffstatus,owner_email,risk_tier,team,region,name,external_id\r\n' +
        'active,owner@example.com,tier1,NAM-CRD,NAM,"Quoted, with ""quotes""\r\nand a line break",T-1\r\n';
      expect(await run('models', file)).toMatchObject({ inserted: 1, rejected: 0 });
      expect((await importedModels())[0].name).toBe('Quoted, with "quotes"\r\nand a line break');
    });

    it('fails clearly on an empty file, a wrong header or a wrong delimiter, writing nothing', async () => {
      const cases: Array<[string, RegExp]> = [
        ['', /the file is empty/],
        ['external_id,name\nT-1,x\n', /wrong header: missing region, team, risk_tier, owner_email, status/],
        [`${MODELS_HEADER},extra\n`, /wrong header: unknown "extra"/],
        [`${MODELS_HEADER.replaceAll(',', ';')}\nT-1;x\n`, /separated by semicolons/],
        [`${MODELS_HEADER.replaceAll(',', '\t')}\n`, /separated by tabs/],
      ];
      for (const [file, message] of cases) {
        const error = await run('models', file).catch((err: unknown) => err);
        expect(error).toBeInstanceOf(CsvFormatError);
        expect((error as Error).message).toMatch(message);
      }
      expect(await importedModels()).toEqual([]);
    });

    it('keeps the first rejected rows by line and counts them all', async () => {
      const rows = Array.from({ length: 300 }, (_, i) => (i % 2 === 0 ? model(`T-${i}`) : `T-${i},bad`));
      const result = await run('models', [MODELS_HEADER, ...rows].join('\n'), { batchSize: 7 });
      expect(result).toMatchObject({ inserted: 150, rejected: 150 });
      expect(result.errors).toHaveLength(MAX_REPORTED_ERRORS);
      expect(result.errors.map((e) => e.line)).toEqual(Array.from({ length: 100 }, (_, i) => 3 + 2 * i));
    });

    it('stops between batches when cancelled, keeping what was committed', async () => {
      const controller = new AbortController();
      const progress: number[] = [];
      const file = [MODELS_HEADER, ...Array.from({ length: 100 }, (_, i) => model(`T-${i}`))].join('\n');
      const result = await run('models', file, {
        batchSize: 10,
        signal: controller.signal,
        onProgress: (p) => {
          progress.push(p.inserted);
          controller.abort();
        },
      });
      expect(result.cancelled).toBe(true);
      expect(result.inserted).toBe(10);
      expect(progress[0]).toBe(10);
      expect(await importedModels()).toHaveLength(10);
      // The rest comes with a second run of the whole file.
      expect(await run('models', file)).toMatchObject({ inserted: 90, unchanged: 10, cancelled: false });
    });

    it('imports validations, rejecting rows whose model is unknown, and changes nothing the second time', async () => {
      await run('models', [MODELS_HEADER, model('T-1'), model('T-2')].join('\n'));
      const file = [
        VALIDATIONS_HEADER,
        'T-1,full,approved,2024-02-29',
        'T-1,interim,planned,',
        'T-2,FULL,In_Progress,',
        'T-404,full,planned,',
        'T-2,full,approved,',
        'T-2,full,approved,2023-02-29',
        'T-2,full,rejected,2024-01-01',
        'T-2,partial,done,',
        'T-1,full,approved,2024-02-29',
      ].join('\n');
      const first = await run('validations', file);
      expect(first).toMatchObject({ read: 9, inserted: 3, updated: 0, unchanged: 1, rejected: 5 });
      expect(first.errors).toEqual([
        { line: 5, reason: 'model "T-404" does not exist' },
        { line: 6, reason: 'approved_on is required when status is approved' },
        { line: 7, reason: 'approved_on "2023-02-29" is not a date as YYYY-MM-DD (from 1900-01-01)' },
        { line: 8, reason: 'approved_on must be empty unless status is approved (status is rejected)' },
        {
          line: 9,
          reason:
            'kind must be full or interim, got "partial"; status must be one of planned, in_progress, approved, rejected, got "done"',
        },
      ]);
      const stored = await t.db
        .knex('validations as v')
        .join('models as m', 'm.id', 'v.model_id')
        .where('m.external_id', 'like', 'T-%')
        .orderBy(['m.external_id', 'v.kind'])
        .select('m.external_id', 'v.kind', 'v.status', 'v.approved_on');
      expect(stored).toEqual([
        { external_id: 'T-1', kind: 'full', status: 'approved', approved_on: '2024-02-29' },
        { external_id: 'T-1', kind: 'interim', status: 'planned', approved_on: null },
        { external_id: 'T-2', kind: 'full', status: 'in_progress', approved_on: null },
      ]);
      const second = await run('validations', file);
      expect(second).toMatchObject({ inserted: 0, updated: 0, unchanged: 4, rejected: 5 });
    });

    it('reports progress in bytes and rows', async () => {
      const file = [MODELS_HEADER, ...Array.from({ length: 50 }, (_, i) => model(`T-${i}`))].join('\n');
      const seen: Array<{ bytes: number; rows: number }> = [];
      await run('models', file, {
        batchSize: 20,
        onProgress: (p) => seen.push({ bytes: p.bytes, rows: p.rows }),
      });
      expect(seen.at(-1)).toEqual({ bytes: Buffer.byteLength(file), rows: 50 });
      expect(seen[0]!.rows).toBeGreaterThanOrEqual(20);
    });

    it('imports an upload that went through the upload store', async () => {
      const directory = mkdtempSync(join(tmpdir(), 'offload-uploads-'));
      try {
        const store = createUploadStore(t.db, { maxBytes: 1 << 20, directory, chunkBytes: 64 });
        const writer = await store.create('models');
        await writer.write(source([MODELS_HEADER, model('T-1'), model('T-2')].join('\n')));
        expect(await importCsv(t.db, { entity: 'models', source: store.open(writer.id) })).toMatchObject({
          inserted: 2,
        });
        await store.delete(writer.id);
      } finally {
        rmSync(directory, { recursive: true, force: true });
      }
    });

    if (kind === 'postgres') {
      it('imports on a worker that did not receive the upload (another Db, no shared disk)', async () => {
        const apiDb = createDb({ databaseUrl: t.databaseUrl, poolMax: 2 });
        const workerDb = createDb({ databaseUrl: t.databaseUrl, poolMax: 2 });
        try {
          const rows = Array.from({ length: 600 }, (_, i) =>
            model(`T-${i}`, `Name ${'é'.repeat(i % 7)} ${i}`),
          );
          const file = [MODELS_HEADER, ...rows].join('\n');
          const apiStore = createUploadStore(apiDb, { maxBytes: 1 << 20, chunkBytes: 4096 });
          const writer = await apiStore.create('models');
          const info = await writer.write(source(file));
          expect(info.byteSize).toBe(Buffer.byteLength(file));
          await apiDb.destroy();

          const workerStore = createUploadStore(workerDb, { maxBytes: 1 << 20 });
          expect((await workerStore.stat(writer.id)).completedAt).not.toBeNull();
          const result = await importCsv(workerDb, { entity: 'models', source: workerStore.open(writer.id) });
          expect(result).toMatchObject({ read: 600, inserted: 600, rejected: 0 });
          // Multi-byte characters cut across the 4 KiB chunks come back whole.
          const names = await t.db.knex('models').where('external_id', 'like', 'T-%').pluck('name');
          expect(names.sort()).toEqual(rows.map((r) => r.split(',')[1]).sort());
          await workerStore.delete(writer.id);
          expect(await t.db.knex('upload_chunks').count({ n: '*' })).toEqual([{ n: 0 }]);
        } finally {
          await apiDb.destroy().catch(() => {});
          await workerDb.destroy();
        }
      });
    }
  });
}
