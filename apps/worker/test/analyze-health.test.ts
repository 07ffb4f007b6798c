// analyze.health through its handler, on both databases: a seeded inventory whose metric series
// are replaced by constructed ones (stable, shifted, one outlier, too short), the statuses that
// land in model_health, the 'health' version bump and the KPI rebuild request, cancellation
// between batches, and a query count that is the same for 10 models as for 1,000.
import { ConfigError } from '@offload/config';
import { type Db, withQueryStats } from '@offload/db';
import { seedDatabase } from '@offload/db/seed';
import { createTestDb, type TestDb, testDatabases } from '@offload/db/testing';
import type { AnalyzeHealthPayload, JobSender } from '@offload/jobs';
import type { Job, JsonObject } from '@offload/queue';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { analyzeHealthHandler } from '../src/handlers/analyze-health.ts';
import { bindHandler } from '../src/handlers/index.ts';
import {
  DEFAULT_HEALTH_SETTINGS,
  type HealthSettings,
  loadHealthSettings,
} from '../src/model-health/settings.ts';
import { createTaskPool, type TaskPool } from '../src/pool.ts';
import { activeJob } from './fixtures/active-job.ts';

const logger = pino({ level: 'silent' });
const DAY_MS = 86_400_000;
const AS_OF = '2026-06-01T00:00:00.000Z';
const settings: HealthSettings = {
  ...DEFAULT_HEALTH_SETTINGS,
  baselineDays: 60,
  recentDays: 20,
  bins: 5,
  minBaselinePoints: 10,
};

function job(payload: AnalyzeHealthPayload, id = 'job-1'): Job {
  return activeJob('analyze.health', payload, { id });
}

/** Records the sends instead of queueing them. */
function recordingSender() {
  const sends: Array<{ kind: string; options: Record<string, unknown> }> = [];
  const sender: JobSender = {
    async send(kind, _payload, options) {
      sends.push({ kind, options });
      return { job: { id: `rebuild-${sends.length}` }, created: true };
    },
  };
  return { sender, sends };
}

type Shape = 'stable' | 'shifted' | 'outlier' | 'short';

/**
 * Daily points over the 80 days before AS_OF: 60 baseline days, 20 recent days. The values
 * cycle through 0…19 (i·7 mod 20), so both windows hold the same distribution (PSI 0) unless
 * the shape changes the recent one: `shifted` adds 15 to every recent point (alert), `outlier`
 * replaces the latest with 24, about 2.5 baseline deviations above the mean (warn).
 */
function series(modelId: number, metric: string, shape: Shape) {
  const end = Date.parse(AS_OF);
  const days = shape === 'short' ? 3 : 80;
  return Array.from({ length: days }, (_, k) => {
    const i = 80 - days + k; // 0…79, the last on AS_OF
    const recent = i >= 60;
    let value = (i * 7) % 20;
    if (shape === 'shifted' && recent) value += 15;
    if (shape === 'outlier' && i === 79) value = 24;
    return {
      model_id: modelId,
      metric,
      observed_at: new Date(end - (79 - i) * DAY_MS).toISOString(),
      value,
    };
  });
}

async function replaceMetrics(db: Db, rows: ReturnType<typeof series>): Promise<void> {
  await db.knex('model_metrics').delete();
  for (let i = 0; i < rows.length; i += 500) await db.knex('model_metrics').insert(rows.slice(i, i + 500));
}

async function activeModelIds(db: Db): Promise<number[]> {
  const rows: Array<{ id: number | string }> = await db
    .knex('models')
    .where('status', 'active')
    .orderBy('id');
  return rows.map((row) => Number(row.id));
}

describe('HEALTH_* configuration', () => {
  it('defaults to PSI 0.1/0.25, |z| 2/3, a 182-day baseline and a 56-day recent window', () => {
    expect(loadHealthSettings({})).toEqual(DEFAULT_HEALTH_SETTINGS);
    expect(DEFAULT_HEALTH_SETTINGS).toMatchObject({
      thresholds: { psiWarn: 0.1, psiAlert: 0.25, zWarn: 2, zAlert: 3 },
      baselineDays: 182,
      recentDays: 56,
      bins: 10,
    });
  });

  it('reads every variable, an empty one counting as unset', () => {
    const settings = loadHealthSettings({
      HEALTH_PSI_WARN: '0.2',
      HEALTH_PSI_ALERT: '0.5',
      HEALTH_Z_WARN: '1.5',
      HEALTH_Z_ALERT: ' 4 ',
      HEALTH_BASELINE_DAYS: '90',
      HEALTH_RECENT_DAYS: '',
      HEALTH_PSI_BINS: '20',
      HEALTH_PSI_MIN_BIN_POINTS: '3',
      HEALTH_MIN_BASELINE_POINTS: '8',
      HEALTH_BATCH_MODELS: '250',
    });
    expect(settings).toEqual({
      thresholds: { psiWarn: 0.2, psiAlert: 0.5, zWarn: 1.5, zAlert: 4 },
      baselineDays: 90,
      recentDays: 56,
      bins: 20,
      minBinPoints: 3,
      minBaselinePoints: 8,
      batchModels: 250,
    });
  });

  it('fails with a ConfigError naming each bad variable', () => {
    const issues = (env: NodeJS.ProcessEnv) => {
      try {
        loadHealthSettings(env);
      } catch (error) {
        expect(error).toBeInstanceOf(ConfigError);
        return (error as ConfigError).issues;
      }
      throw new Error('expected a ConfigError');
    };
    expect(issues({ HEALTH_PSI_WARN: 'high', HEALTH_RECENT_DAYS: '0', HEALTH_PSI_BINS: '2.5' })).toEqual([
      {
        variable: 'HEALTH_PSI_WARN',
        message: 'HEALTH_PSI_WARN must be a number from 0 to 1000000 (got "high")',
      },
      {
        variable: 'HEALTH_RECENT_DAYS',
        message: 'HEALTH_RECENT_DAYS must be an integer from 1 to 3660 (got "0")',
      },
      {
        variable: 'HEALTH_PSI_BINS',
        message: 'HEALTH_PSI_BINS must be an integer from 2 to 100 (got "2.5")',
      },
    ]);
    expect(issues({ HEALTH_Z_WARN: '3', HEALTH_Z_ALERT: '3' })).toEqual([
      { variable: 'HEALTH_Z_WARN', message: 'HEALTH_Z_WARN must be below HEALTH_Z_ALERT (got 3 and 3)' },
    ]);
  });
});

for (const kind of testDatabases()) {
  describe(`analyze.health (${kind})`, () => {
    let t: TestDb;
    let pool: TaskPool;

    beforeAll(async () => {
      t = await createTestDb(kind);
      await seedDatabase(t.db, { models: 1000, quiet: true });
      pool = createTaskPool({ threads: 1 });
    });
    afterAll(async () => {
      await pool.close();
      await t?.destroy();
    });

    function run(
      payload: AnalyzeHealthPayload,
      options: {
        sender?: JobSender;
        signal?: AbortSignal;
        batchModels?: number;
        onProgress?: () => void;
      } = {},
    ) {
      const progress: JsonObject[] = [];
      const handler = bindHandler(
        'analyze.health',
        analyzeHealthHandler({
          settings: { ...settings, batchModels: options.batchModels ?? settings.batchModels },
          ...(options.sender === undefined ? {} : { sender: options.sender }),
          now: () => new Date('2026-06-02T00:00:00.000Z'),
        }),
        { pool, db: t.db, loggerFor: () => logger },
      );
      const result = handler({
        job: job(payload),
        signal: options.signal ?? new AbortController().signal,
        progress: async (update) => {
          progress.push(update);
          options.onProgress?.();
        },
      });
      return { result: Promise.resolve(result), progress };
    }

    it('lands ok, warn and alert for constructed series, removes unknown models and requests a KPI rebuild', async () => {
      const [stable, shifted, outlier, short, untouched] = await activeModelIds(t.db);
      const retired = Number((await t.db.knex('models').where('status', 'retired').first('id'))!.id);
      await replaceMetrics(t.db, [
        ...series(stable!, 'auc', 'stable'),
        ...series(stable!, 'score_mean', 'stable'),
        ...series(shifted!, 'auc', 'stable'),
        ...series(shifted!, 'score_mean', 'shifted'),
        ...series(outlier!, 'auc', 'outlier'),
        ...series(short!, 'auc', 'short'),
        ...series(retired, 'auc', 'shifted'),
      ]);
      // A stale verdict for the model whose data is now too short must go.
      await t.db.knex('model_health').insert({
        model_id: short!,
        status: 'alert',
        payload: '{}',
        details: '{}',
        computed_at: '2026-01-01T00:00:00.000Z',
        version: 1,
      });
      const { sender, sends } = recordingSender();

      const payload = { modelIds: [stable!, shifted!, outlier!, short!, untouched!, retired], asOf: AS_OF };
      const { result, progress } = run(payload, { sender });
      const outcome = (await result) as Record<string, unknown>;

      expect(outcome).toMatchObject({ models: 5, ok: 1, warn: 1, alert: 1, unknown: 2, batches: 1 });
      expect(outcome.kpiRebuildJobId).toBe('rebuild-1');
      expect(sends).toEqual([
        {
          kind: 'rebuild.kpi',
          options: expect.objectContaining({ meta: { reason: 'analyze.health:job-1' } }),
        },
      ]);
      expect(progress.at(-1)).toMatchObject({ step: 'analysing', batches: 1, models: 5 });

      const rows: Array<{
        model_id: number;
        status: string;
        payload: string;
        details: string;
        version: number;
      }> = await t.db.knex('model_health').orderBy('model_id');
      const byModel = new Map(rows.map((row) => [Number(row.model_id), row]));
      expect(byModel.get(stable!)?.status).toBe('ok');
      expect(byModel.get(shifted!)?.status).toBe('alert');
      expect(byModel.get(outlier!)?.status).toBe('warn');
      expect(byModel.has(short!)).toBe(false);
      expect(byModel.has(untouched!)).toBe(false);
      expect(byModel.has(retired)).toBe(false);

      const shown = JSON.parse(byModel.get(shifted!)!.payload);
      expect(shown.status).toBe('alert');
      expect(shown.metrics.auc).toMatchObject({ status: 'ok', psi: 0 });
      expect(shown.metrics.score_mean.status).toBe('alert');
      expect(shown.metrics.score_mean.psi).toBeGreaterThan(0.25);
      expect(shown.metrics.score_mean.latest).toEqual({ value: ((79 * 7) % 20) + 15, observedAt: AS_OF });
      const outlierShown = JSON.parse(byModel.get(outlier!)!.payload).metrics.auc;
      expect(outlierShown.psi).toBeLessThan(0.1);
      expect(outlierShown.z).toBeGreaterThanOrEqual(2);
      expect(outlierShown.z).toBeLessThan(3);
      const details = JSON.parse(byModel.get(stable!)!.details);
      expect(details.windows).toEqual({
        baseline: { from: '2026-03-13T00:00:00.000Z', to: '2026-05-12T00:00:00.000Z' },
        recent: { from: '2026-05-12T00:00:00.000Z', to: AS_OF },
      });
      // 5 bins asked, but 20 recent points fill only 4 with at least 5 points each.
      expect(details.metrics.auc).toMatchObject({ baselinePoints: 60, recentPoints: 20, bins: 4 });
      expect(details.metrics.auc.edges).toHaveLength(3);

      const version = Number(
        (await t.db.knex('cache_versions').where({ family: 'health' }).first('version'))!.version,
      );
      expect(outcome.version).toBe(version);
      expect(rows.every((row) => Number(row.version) === version)).toBe(true);
    });

    it('is idempotent: a second run gives the same verdicts under the next version', async () => {
      const before = await t.db
        .knex('model_health')
        .orderBy('model_id')
        .select('model_id', 'status', 'payload');
      const ids = before.map((row: { model_id: number }) => Number(row.model_id));
      const outcome = (await run({ modelIds: ids, asOf: AS_OF }).result) as { version: number };
      const after = await t.db
        .knex('model_health')
        .orderBy('model_id')
        .select('model_id', 'status', 'payload', 'version');
      expect(after.map(({ version: _v, ...row }: { version: number }) => row)).toEqual(before);
      expect(after.every((row: { version: number }) => Number(row.version) === outcome.version)).toBe(true);
    });

    it('stops between batches when cancelled, without bumping the version', async () => {
      const versionBefore = await t.db.knex('cache_versions').where({ family: 'health' }).first('version');
      const controller = new AbortController();
      // Cancelled as the first batch reports: the run stops before the second.
      const { result, progress } = run(
        { asOf: AS_OF },
        {
          signal: controller.signal,
          batchModels: 100,
          onProgress: () => controller.abort(new Error('cancelled by the test')),
        },
      );
      await expect(result).rejects.toThrow('cancelled by the test');
      expect(progress).toHaveLength(1);
      const versionAfter = await t.db.knex('cache_versions').where({ family: 'health' }).first('version');
      expect(versionAfter).toEqual(versionBefore);
    });

    it('issues as many queries for 1,000 models as for 10', async () => {
      const ids = await activeModelIds(t.db);
      expect(ids.length).toBeGreaterThan(900);
      await replaceMetrics(
        t.db,
        ids.flatMap((id, i) => series(id, 'auc', i % 3 === 0 ? 'shifted' : 'stable')),
      );
      const small = await withQueryStats(
        () => run({ modelIds: ids.slice(0, 10), asOf: AS_OF }, { batchModels: 1000 }).result,
      );
      const large = await withQueryStats(() => run({ asOf: AS_OF }, { batchModels: 1000 }).result);
      expect(small.result).toMatchObject({ models: 10, batches: 1, unknown: 0 });
      expect(large.result).toMatchObject({ models: ids.length, batches: 1, unknown: 0 });
      expect((large.result as { alert: number }).alert).toBe(Math.ceil(ids.length / 3));
      expect(large.stats.count).toBe(small.stats.count);
      // ids, observations, upsert, then the bump (two statements on PostgreSQL) and the stamp.
      expect(small.stats.count).toBe(kind === 'postgres' ? 6 : 5);
    });
  });
}
