// `npm run db -- analyze`: the workload whose statements are profiled. On the database in
// DATABASE_URL it builds the API in this process (the same app `npm run api` serves, its read
// cache's L1 off so that every read reaches the database), then, one operation at a time, calls
// every read endpoint, the queue's insert, claim, complete and list operations, and the KPI and
// compliance rebuilds, while @offload/db/analyze captures the statements at the drivers. Each is
// then replayed many times and explained (packages/db/src/analyze), printed as a table and
// written with its plan to docs/performance/db-analyze-<dialect>.md.
//
// What it leaves behind on the database: the snapshots the rebuilds write (as a worker would),
// and three completed jobs of kind `analyze.probe` (pruned with other finished jobs). The API key
// it signs in with is deleted.
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { redactUrl } from '@offload/config';
import { createDb } from '@offload/db';
import {
  analysisMarkdown,
  analysisPassed,
  analysisTable,
  captureStatements,
  operation,
  profileStatements,
  type StatementProfile,
} from '@offload/db/analyze';
import { rebuildComplianceReport, rebuildKpiSnapshots } from '@offload/db/reports';
import { createLogger } from '@offload/observability';
import { createQueueBackend, Queue } from '@offload/queue';
import { createApiKey } from '../apps/api/src/api-keys.ts';
import { createApp } from '../apps/api/src/app.ts';
import { createApiServices } from '../apps/api/src/services.ts';

export interface AnalyzeOptions {
  databaseUrl: string;
  runs: number;
  /** Where the report goes; null: not written. */
  out: string | null;
}

const PROBE_KIND = 'analyze.probe';
const root = path.resolve(import.meta.dirname, '..');

export async function analyze(options: AnalyzeOptions): Promise<StatementProfile[]> {
  const { databaseUrl } = options;
  const capture = captureStatements();
  const db = createDb({ databaseUrl, poolMax: 4 });
  const backend = await createQueueBackend(databaseUrl, { pgboss: { poolMax: 4 } });
  await backend.start({ maintenance: false });
  const queue = new Queue(backend);
  const services = createApiServices({
    db,
    queue,
    logger: createLogger({ level: 'silent', service: 'db-analyze' }),
    cursorSecret: 'db-analyze-cursor-secret-not-kept',
    settings: { rateLimitPerSecond: 0 },
    cache: { ttlSeconds: 0, ttlByFamily: {} },
    options: { slowRequestMs: 60_000, version: 'db-analyze', startedAt: Date.now() },
  });
  const server = await new Promise<import('node:http').Server>((resolve) => {
    const listening = createApp(services).listen(0, '127.0.0.1', () => resolve(listening));
  });
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const { key, record } = await createApiKey(db, {
    name: 'db analyze',
    owner: 'db-analyze',
    scopes: ['admin', 'read'],
  });
  let models = 0;
  try {
    models = Number((await db.knex('models').count({ n: '*' }))[0]!.n);
    const middle = await db
      .knex('models')
      .orderBy('id')
      .offset(Math.floor(models / 2))
      .first('id', 'region_id', 'team_id');
    const region = middle
      ? await db.knex('regions').where({ id: middle.region_id }).first('code')
      : undefined;
    const team = middle ? await db.knex('teams').where({ id: middle.team_id }).first('code') : undefined;

    await operation('rebuild.kpi', () => rebuildKpiSnapshots(db));
    await operation('rebuild.compliance', () => rebuildComplianceReport(db));

    const get = async (label: string, url: string) =>
      operation(`GET ${label}`, async () => {
        const response = await fetch(base + url, { headers: { authorization: `Bearer ${key}` } });
        const body = await response.text();
        if (response.status !== 200)
          process.stderr.write(`[analyze] GET ${url} answered ${response.status}\n`);
        return body.startsWith('{') ? (JSON.parse(body) as Record<string, unknown>) : {};
      });

    const sent: string[] = [];
    for (let i = 0; i < 3; i++) {
      const { job } = await operation('queue insert', () =>
        backend.jobInsert({ kind: PROBE_KIND, payload: { i } }),
      );
      sent.push(job.id);
    }
    const [claimed] = await operation('queue claim', () =>
      backend.jobClaim({ kinds: [PROBE_KIND], limit: 1, workerId: 'db-analyze' }),
    );

    await get('/v1/kpi', '/v1/kpi');
    if (region && team) {
      await get('/v1/kpi?region', `/v1/kpi?region=${region.code}`);
      await get('/v1/kpi?region&team', `/v1/kpi?region=${region.code}&team=${team.code}`);
    }
    await get('/v1/reports/regional-compliance', '/v1/reports/regional-compliance');
    await get('/v1/attestation-cycles', '/v1/attestation-cycles');
    await get('/v1/dashboard', '/v1/dashboard');
    const page = await get('/v1/models', '/v1/models?limit=50');
    if (typeof page['nextCursor'] === 'string') {
      await get('/v1/models?cursor', `/v1/models?limit=50&cursor=${encodeURIComponent(page['nextCursor'])}`);
    }
    if (region && team) {
      await get('/v1/models?region&status', `/v1/models?region=${region.code}&status=active`);
      await get('/v1/models?team', `/v1/models?team=${team.code}`);
      await get(
        '/v1/models?region&team&status',
        `/v1/models?region=${region.code}&team=${team.code}&status=active`,
      );
    }
    await get('/v1/models?status', '/v1/models?status=retired');
    if (middle) await get('/v1/models/:id', `/v1/models/${middle.id}`);
    await get('/v1/queues', '/v1/queues');
    await get('/v1/workers', '/v1/workers');
    await get('/v1/schedules', '/v1/schedules');
    await get('/v1/jobs', '/v1/jobs?limit=50');
    await get('/v1/jobs?kind&state', `/v1/jobs?kind=${PROBE_KIND}&state=queued`);
    await get('/v1/jobs/:id', `/v1/jobs/${sent[1]}`);
    await get('/v1/cache/stats', '/v1/cache/stats');

    if (claimed !== undefined) {
      await operation('queue complete', () =>
        backend.jobComplete({ id: claimed.job.id, leaseToken: claimed.leaseToken, result: { ok: true } }),
      );
    }
    // The other probes are finished too, so nothing of ours waits in the queue.
    for (const rest of await backend.jobClaim({ kinds: [PROBE_KIND], limit: 10, workerId: 'db-analyze' })) {
      await backend.jobComplete({ id: rest.job.id, leaseToken: rest.leaseToken, result: { ok: true } });
    }
  } finally {
    capture.stop();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    services.close();
    await backend.stop();
    await db.knex('api_keys').where({ id: record.id }).delete();
    await db.destroy();
  }

  const limits = { runs: options.runs, largeTableRows: 10_000, maxP95Ms: 100 };
  const profiles = await profileStatements(databaseUrl, capture.statements(), {
    ...limits,
    isBatch: (label) => label.startsWith('rebuild.'),
  });
  process.stdout.write(`${analysisTable(profiles)}\n`);
  const passed = analysisPassed(profiles);
  process.stdout.write(
    `${passed ? 'passed' : 'FAILED'}: ${profiles.length} statements on ${redactUrl(databaseUrl)} (${models.toLocaleString('en-US')} models)\n`,
  );
  if (options.out !== null) {
    const dialect = databaseUrl.startsWith('sqlite:') ? 'sqlite' : 'postgres';
    const file = path.resolve(root, options.out.replace('<dialect>', dialect));
    const commit = spawnSync('git', ['rev-parse', '--short', 'HEAD'], {
      cwd: root,
      encoding: 'utf8',
    }).stdout?.trim();
    writeFileSync(
      file,
      analysisMarkdown(
        {
          dialect,
          database: redactUrl(databaseUrl).replace(/\/\/[^@]*@/, '//'),
          models,
          date: new Date().toISOString().slice(0, 10),
          commit: commit || 'unknown',
          options: limits,
        },
        profiles,
      ),
    );
    process.stdout.write(`report: ${path.relative(root, file)}\n`);
  }
  return profiles;
}
