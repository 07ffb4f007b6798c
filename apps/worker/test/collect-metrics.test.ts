// collect.metrics through its handler, on both databases, against a local HTTP server: NDJSON
// and CSV sources with good and bad records, the health analysis requested for the models that
// got new points, a re-collection that inserts nothing new (and requests none), the byte limit
// and the timeout failing the attempt with a clear error, and private addresses refused unless
// allowed. The address policy itself is checked on its own, IPv4 and IPv6.
import { once } from 'node:events';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ConfigError } from '@offload/config';
import { createMetricSource, type Db, type MetricSourceFormat } from '@offload/db';
import { seedDatabase } from '@offload/db/seed';
import { createTestDb, type TestDb, testDatabases } from '@offload/db/testing';
import type { CollectMetricsPayload, JobSender } from '@offload/jobs';
import { type Job, type JsonObject, UnrecoverableError } from '@offload/queue';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isNonPublicAddress } from '../src/collect/address-policy.ts';
import {
  type CollectSettings,
  DEFAULT_COLLECT_SETTINGS,
  loadCollectSettings,
} from '../src/collect/settings.ts';
import { collectMetricsHandler } from '../src/handlers/collect-metrics.ts';
import { bindHandler } from '../src/handlers/index.ts';
import { createTaskPool, type TaskPool } from '../src/pool.ts';
import { activeJob } from './fixtures/active-job.ts';

const logger = pino({ level: 'silent' });
const NOW = '2026-12-04T10:00:00.000Z';
const allowLoopback: CollectSettings = {
  ...DEFAULT_COLLECT_SETTINGS,
  allowPrivateNetworks: true,
  batchRows: 3,
};

function job(payload: CollectMetricsPayload): Job {
  return activeJob('collect.metrics', payload);
}

/** Records the sends instead of queueing them. */
function recordingSender() {
  const sends: Array<{ kind: string; payload: Record<string, unknown>; options: Record<string, unknown> }> =
    [];
  const sender: JobSender = {
    async send(kind, payload, options) {
      sends.push({ kind, payload, options });
      return { job: { id: `analysis-${sends.length}` }, created: true };
    },
  };
  return { sender, sends };
}

/** A local server whose routes write what the test says; `/hang` sends headers, then nothing. */
async function startServer(routes: Record<string, (res: ServerResponse) => void>) {
  const hanging = new Set<ServerResponse>();
  const server: Server = createServer((req, res) => {
    const route = routes[req.url ?? ''];
    if (route === undefined) {
      res.writeHead(404).end();
      return;
    }
    if (req.url?.startsWith('/hang')) hanging.add(res);
    route(res);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: (path: string) => `http://127.0.0.1:${port}${path}`,
    port,
    async close() {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}

describe('the address policy', () => {
  it('refuses private, loopback, link-local and reserved addresses, IPv4 and IPv6', () => {
    for (const address of [
      '127.0.0.1',
      '10.1.2.3',
      '172.16.0.1',
      '192.168.1.1',
      '169.254.169.254',
      '100.64.0.1',
      '0.0.0.0',
      '224.0.0.1',
      '::1',
      '::',
      'fe80::1',
      'fd00::1',
      '::ffff:127.0.0.1',
      '::ffff:10.0.0.1',
      '[::1]',
    ]) {
      expect(isNonPublicAddress(address), address).toBe(true);
    }
  });

  it('lets public addresses through', () => {
    for (const address of ['93.184.216.34', '8.8.8.8', '2606:2800:220:1::1', '::ffff:8.8.8.8']) {
      expect(isNonPublicAddress(address), address).toBe(false);
    }
  });
});

describe('COLLECT_* configuration', () => {
  it('defaults to a 60 s timeout, 100 MiB and public addresses only', () => {
    expect(loadCollectSettings({})).toEqual({
      timeoutMs: 60_000,
      maxBytes: 104_857_600,
      allowPrivateNetworks: false,
      batchRows: 1000,
    });
    expect(
      loadCollectSettings({
        COLLECT_TIMEOUT_MS: '5000',
        COLLECT_MAX_BYTES: '1024',
        COLLECT_ALLOW_PRIVATE_NETWORKS: 'TRUE',
        COLLECT_BATCH_ROWS: '10',
      }),
    ).toEqual({ timeoutMs: 5000, maxBytes: 1024, allowPrivateNetworks: true, batchRows: 10 });
  });

  it('fails with a ConfigError naming each bad variable', () => {
    let caught: unknown;
    try {
      loadCollectSettings({ COLLECT_TIMEOUT_MS: '-1', COLLECT_ALLOW_PRIVATE_NETWORKS: 'yes' });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    expect((caught as ConfigError).issues).toEqual([
      {
        variable: 'COLLECT_TIMEOUT_MS',
        message: 'COLLECT_TIMEOUT_MS must be an integer from 1 to 3600000 (got "-1")',
      },
      {
        variable: 'COLLECT_ALLOW_PRIVATE_NETWORKS',
        message: 'COLLECT_ALLOW_PRIVATE_NETWORKS must be true or false (got "yes")',
      },
    ]);
  });
});

for (const kind of testDatabases()) {
  describe(`collect.metrics (${kind})`, () => {
    let t: TestDb;
    let pool: TaskPool;
    let server: Awaited<ReturnType<typeof startServer>>;
    let models: string[];
    let modelIds: number[];

    const ndjson = () =>
      [
        JSON.stringify({
          model_external_id: models[0],
          metric: 'auc',
          observed_at: '2026-05-01T00:00:00Z',
          value: 0.81,
        }),
        JSON.stringify({
          model_external_id: models[0],
          metric: 'auc',
          observed_at: '2026-05-02',
          value: '0.82',
        }),
        '',
        '{not json',
        JSON.stringify({
          model_external_id: 'NO-SUCH-MODEL',
          metric: 'auc',
          observed_at: '2026-05-01T00:00:00Z',
          value: 1,
        }),
        JSON.stringify({
          model_external_id: models[1],
          metric: 'auc',
          observed_at: '2026-05-01T02:00:00+02:00',
          value: 0.7,
        }),
        JSON.stringify({ model_external_id: models[1], metric: 'auc', observed_at: 'yesterday', value: 0.7 }),
        JSON.stringify({
          model_external_id: models[1],
          metric: 'psi',
          observed_at: '2026-05-01T00:00:00Z',
          value: 'n/a',
        }),
      ].join('\n');
    const csv = () =>
      [
        'value,observed_at,metric,model_external_id,comment',
        `0.5,2026-05-03T00:00:00.000Z,default_rate,${models[2]},"a, quoted ""note"""`,
        `0.6,2026-05-04T00:00:00.000Z,default_rate,"${models[2]}",`,
        `x,2026-05-04T00:00:00.000Z,default_rate,${models[2]},`,
        `0.7,2026-05-05T00:00:00.000Z`,
      ].join('\r\n');

    beforeAll(async () => {
      t = await createTestDb(kind);
      await seedDatabase(t.db, { models: 20, quiet: true });
      const firstModels: Array<{ id: number | string; external_id: string }> = await t.db
        .knex('models')
        .orderBy('id')
        .limit(3)
        .select('id', 'external_id');
      models = firstModels.map((row) => row.external_id);
      modelIds = firstModels.map((row) => Number(row.id));
      await t.db.knex('model_metrics').delete();
      pool = createTaskPool({ threads: 1 });
      server = await startServer({
        '/metrics.ndjson': (res) =>
          res.writeHead(200, { 'content-type': 'application/x-ndjson' }).end(ndjson()),
        '/metrics.csv': (res) => res.writeHead(200, { 'content-type': 'text/csv' }).end(csv()),
        '/big': (res) => {
          // No Content-Length: the limit is found while reading.
          res.writeHead(200);
          res.write(`${'x'.repeat(600)}\n`);
          res.end(`${'y'.repeat(600)}\n`);
        },
        '/big-declared': (res) => res.writeHead(200, { 'content-length': 5000 }).end('z'.repeat(5000)),
        '/hang': (res) => {
          res.writeHead(200);
          res.write('{');
        },
        '/hang-after-a-batch': (res) => {
          res.writeHead(200);
          res.write(`${ndjson().split('\n').slice(0, 4).join('\n')}\n`); // two records, a blank line, a malformed one
        },
        '/hang-after-new-points': (res) => {
          res.writeHead(200);
          const points = ['2026-06-01', '2026-06-02', '2026-06-03'].map((day) =>
            JSON.stringify({ model_external_id: models[2], metric: 'auc', observed_at: day, value: 0.9 }),
          );
          res.write(`${points.join('\n')}\n`); // one batch of new points
        },
        '/nul.ndjson': (res) =>
          res.writeHead(200).end(
            [
              { model_external_id: models[2], metric: 'ks\u0000', observed_at: '2026-07-01', value: 1 },
              { model_external_id: `${models[2]}\u0000`, metric: 'ks', observed_at: '2026-07-01', value: 1 },
              { model_external_id: models[2], metric: 'ks', observed_at: '2026-07-01', value: 0.4 },
            ]
              .map((record) => JSON.stringify(record))
              .join('\n'),
          ),
        '/moved': (res) => res.writeHead(302, { location: '/metrics.ndjson' }).end(),
        '/gone': (res) => res.writeHead(410).end(),
      });
    });
    afterAll(async () => {
      await server?.close();
      await pool?.close();
      await t?.destroy();
    });

    async function source(db: Db, name: string, path: string, format: MetricSourceFormat) {
      return createMetricSource(db.knex, { name, url: server.url(path), format, cron: null, enabled: true });
    }

    function collect(
      sourceId: number,
      {
        settings = allowLoopback,
        signal = new AbortController().signal,
        sender,
      }: { settings?: CollectSettings; signal?: AbortSignal; sender?: JobSender } = {},
    ) {
      const progress: JsonObject[] = [];
      const services = { settings, now: () => new Date(NOW), ...(sender === undefined ? {} : { sender }) };
      const handler = bindHandler('collect.metrics', collectMetricsHandler(services), {
        pool,
        db: t.db,
        loggerFor: () => logger,
      });
      const result = handler({
        job: job({ sourceId }),
        signal,
        progress: async (update) => {
          progress.push(update);
        },
      });
      return { result: Promise.resolve(result), progress };
    }

    const stored = async (modelExternalId: string) =>
      (
        await t.db
          .knex('model_metrics as mm')
          .join('models as m', 'm.id', 'mm.model_id')
          .where('m.external_id', modelExternalId)
          .orderBy(['mm.metric', 'mm.observed_at'])
          .select('mm.metric', 'mm.observed_at', 'mm.value')
      ).map((row: { metric: string; observed_at: string; value: number }) => ({
        ...row,
        value: Number(row.value),
      }));

    it('collects NDJSON: stores the good records, reports the bad ones by line and requests an analysis', async () => {
      const { id } = await source(t.db, 'ndjson', '/metrics.ndjson', 'ndjson');
      const { sender, sends } = recordingSender();
      const { result, progress } = collect(id, { sender });
      expect(await result).toEqual({
        sourceId: id,
        read: 7,
        inserted: 3,
        skipped: 0,
        rejected: 4,
        errors: [
          { line: 4, reason: 'not a JSON object' },
          { line: 5, reason: 'no model has external_id "NO-SUCH-MODEL"' },
          { line: 7, reason: expect.stringMatching(/^observed_at must be an ISO-8601/) },
          { line: 8, reason: 'value must be a finite number' },
        ],
        bytes: Buffer.byteLength(ndjson()),
        analysisJobId: 'analysis-1',
      });
      // The first two models got new points; the analysis runs when the 60 s window closes.
      expect(sends).toEqual([
        {
          kind: 'analyze.health',
          payload: { modelIds: [modelIds[0], modelIds[1]] },
          options: {
            runAt: '2026-12-04T10:01:00.000Z',
            idempotencyKey: expect.stringMatching(/^debounce:models-[0-9a-f]{16}:2026-12-04T10:01:00\.000Z$/),
            meta: { reason: 'collect.metrics:job-1' },
          },
        },
      ]);
      expect(await stored(models[0]!)).toEqual([
        { metric: 'auc', observed_at: '2026-05-01T00:00:00.000Z', value: 0.81 },
        { metric: 'auc', observed_at: '2026-05-02T00:00:00.000Z', value: 0.82 },
      ]);
      expect(await stored(models[1]!)).toEqual([
        { metric: 'auc', observed_at: '2026-05-01T00:00:00.000Z', value: 0.7 },
      ]);
      // batchRows 3: progress after each batch of three lines read.
      expect(progress.map((p) => p.read)).toEqual([3, 6, 7]);
    });

    it('collects again without inserting anything twice, and requests no analysis', async () => {
      const id = Number((await t.db.knex('metric_sources').where({ name: 'ndjson' }).first('id'))!.id);
      const { sender, sends } = recordingSender();
      const again = (await collect(id, { sender }).result) as Record<string, unknown>;
      expect(again).toMatchObject({ read: 7, inserted: 0, skipped: 3, rejected: 4, analysisJobId: null });
      expect(sends).toEqual([]);
      expect(await stored(models[0]!)).toHaveLength(2);
    });

    it('collects CSV with its columns in any order and quoted fields; without a sender, no analysis', async () => {
      const { id } = await source(t.db, 'csv', '/metrics.csv', 'csv');
      expect(await collect(id).result).toMatchObject({
        read: 4,
        inserted: 2,
        analysisJobId: null,
        skipped: 0,
        rejected: 2,
        errors: [
          { line: 4, reason: 'value must be a finite number' },
          { line: 5, reason: 'expected at least 4 fields, found 2' },
        ],
      });
      expect(await stored(models[2]!)).toEqual([
        { metric: 'default_rate', observed_at: '2026-05-03T00:00:00.000Z', value: 0.5 },
        { metric: 'default_rate', observed_at: '2026-05-04T00:00:00.000Z', value: 0.6 },
      ]);
    });

    it('rejects a record holding a NUL by its line and stores the others, on both databases', async () => {
      const { id } = await source(t.db, 'nul', '/nul.ndjson', 'ndjson');
      expect(await collect(id).result).toMatchObject({
        read: 3,
        inserted: 1,
        rejected: 2,
        errors: [
          { line: 1, reason: 'metric holds the NUL character (U+0000), which cannot be stored' },
          { line: 2, reason: 'model_external_id holds the NUL character (U+0000), which cannot be stored' },
        ],
      });
      expect((await stored(models[2]!)).filter((row) => row.metric.startsWith('ks'))).toEqual([
        { metric: 'ks', observed_at: '2026-07-01T00:00:00.000Z', value: 0.4 },
      ]);
    });

    it('fails a CSV source without the expected header for good', async () => {
      const { id } = await source(t.db, 'csv-as-ndjson', '/metrics.ndjson', 'csv');
      const error = await collect(id).result.catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(UnrecoverableError);
      // NDJSON read as CSV: its first line is no CSV header (a quoted key, then more text).
      expect((error as Error).message).toMatch(
        /CSV header \(line 1\) cannot be read \(text follows a closing quote\); it must name model_external_id, metric, observed_at, value/,
      );
    });

    it('follows a redirect', async () => {
      const { id } = await source(t.db, 'moved', '/moved', 'ndjson');
      expect(await collect(id).result).toMatchObject({ read: 7, inserted: 0, skipped: 3 });
    });

    it('fails the attempt past COLLECT_MAX_BYTES, counted while reading or declared up front', async () => {
      const limited = { ...allowLoopback, maxBytes: 1000 };
      for (const path of ['/big', '/big-declared']) {
        const { id } = await source(t.db, `big${path}`, path, 'ndjson');
        const error = await collect(id, { settings: limited }).result.catch((caught: unknown) => caught);
        expect(error).toBeInstanceOf(UnrecoverableError);
        expect((error as Error).message).toBe(
          `metric source ${id}: the source is larger than COLLECT_MAX_BYTES (1000 bytes)`,
        );
      }
    });

    it('fails the attempt when the source does not finish within COLLECT_TIMEOUT_MS', async () => {
      const { id } = await source(t.db, 'hang', '/hang', 'ndjson');
      const error = await collect(id, { settings: { ...allowLoopback, timeoutMs: 200 } }).result.catch(
        (caught: unknown) => caught,
      );
      expect(error).not.toBeInstanceOf(UnrecoverableError); // a later attempt may succeed
      expect(error).toMatchObject({
        name: 'SourceTimeoutError',
        message: 'the source did not finish within COLLECT_TIMEOUT_MS (200 ms)',
      });
    });

    it('stops when the job is cancelled, after the batches already stored', async () => {
      const { id } = await source(t.db, 'cancelled', '/hang-after-a-batch', 'ndjson');
      const controller = new AbortController();
      const running = collect(id, { signal: controller.signal });
      // The first batch is stored and reported; the source then sends nothing more.
      const deadline = Date.now() + 10_000;
      while (running.progress.length === 0 && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 10));
      expect(running.progress).toEqual([expect.objectContaining({ read: 3, skipped: 2, rejected: 1 })]);
      controller.abort(new Error('cancelled by the test'));
      await expect(running.result).rejects.toThrow('cancelled by the test');
    });

    it('requests no analysis when the collection fails, even after storing new points', async () => {
      const { id } = await source(t.db, 'cancelled-after-new-points', '/hang-after-new-points', 'ndjson');
      const { sender, sends } = recordingSender();
      const controller = new AbortController();
      const running = collect(id, { signal: controller.signal, sender });
      const deadline = Date.now() + 10_000;
      while (running.progress.length === 0 && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 10));
      expect(running.progress).toEqual([expect.objectContaining({ read: 3, inserted: 3 })]);
      controller.abort(new Error('cancelled by the test'));
      await expect(running.result).rejects.toThrow('cancelled by the test');
      expect(sends).toEqual([]);
    });

    it('refuses loopback addresses unless COLLECT_ALLOW_PRIVATE_NETWORKS is set, literal or resolved', async () => {
      const strict = { ...allowLoopback, allowPrivateNetworks: false };
      const literal = await source(t.db, 'literal', '/metrics.ndjson', 'ndjson');
      const named = await createMetricSource(t.db.knex, {
        name: 'named',
        url: `http://localhost:${server.port}/metrics.ndjson`,
        format: 'ndjson',
        cron: null,
        enabled: true,
      });
      for (const { id } of [literal, named]) {
        const error = await collect(id, { settings: strict }).result.catch((caught: unknown) => caught);
        expect(error).toBeInstanceOf(UnrecoverableError);
        expect((error as Error).message).toMatch(
          /resolves to (127\.0\.0\.1|::1), a private, loopback or link-local address; set COLLECT_ALLOW_PRIVATE_NETWORKS=true/,
        );
      }
    });

    it('fails for good on a 4xx answer and on a source that no longer exists', async () => {
      const { id } = await source(t.db, 'gone', '/gone', 'ndjson');
      await expect(collect(id).result).rejects.toThrow(/answered HTTP 410/);
      const missing = await collect(999_999).result.catch((caught: unknown) => caught);
      expect(missing).toBeInstanceOf(UnrecoverableError);
      expect((missing as Error).message).toMatch(/metric source 999999 not found/);
    });
  });
}
