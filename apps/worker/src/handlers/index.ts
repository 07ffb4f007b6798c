// The handler registry: one handler per catalog kind. The mapped type makes a catalog kind
// without a handler (or a handler for a kind the catalog lacks) a type error, so the API can
// never accept a kind no worker runs.
import type { UploadStore } from '@offload/imports';
import type { JobKindName, JobSender, PayloadOf } from '@offload/jobs';
import type { JobHandler as RuntimeHandler } from '@offload/queue';
import type { CollectSettings } from '../collect/settings.ts';
import type { HealthSettings } from '../model-health/settings.ts';
import { analyzeHealthHandler } from './analyze-health.ts';
import { type BindOptions, bindHandler } from './bind.ts';
import { collectMetricsHandler } from './collect-metrics.ts';
import type { JobHandler } from './handler.ts';
import { importCsvHandler } from './import-csv.ts';
import { rebuildCompliance } from './rebuild-compliance.ts';
import { rebuildKpi } from './rebuild-kpi.ts';
import { systemEcho } from './system-echo.ts';

export type HandlerRegistry = { readonly [K in JobKindName]: JobHandler<PayloadOf<K>> };

/** What some handlers need from their process beyond the per-job context. */
export interface HandlerServices {
  /** The worker's queue: follow-up jobs (debounced KPI rebuilds and health analyses) go through it. */
  sender?: JobSender;
  /** Where the API stores uploads; by default the store that fits the database's shape. */
  uploads?: UploadStore;
  /** HEALTH_* (analyze.health); the defaults when not given. */
  health?: HealthSettings;
  /** COLLECT_* (collect.metrics); the defaults when not given. */
  collect?: CollectSettings;
}

/** Every kind's handler, built with the process's services. */
export function createHandlers(services: HandlerServices = {}): HandlerRegistry {
  const { sender } = services;
  return {
    'system.echo': systemEcho,
    'import.csv': importCsvHandler({ uploads: services.uploads, sender }),
    'rebuild.kpi': rebuildKpi,
    'rebuild.compliance': rebuildCompliance,
    'collect.metrics': collectMetricsHandler({ settings: services.collect, sender }),
    'analyze.health': analyzeHealthHandler({ settings: services.health, sender }),
  };
}

/** The handlers without services (no follow-up jobs are sent): tests and diagnostics. */
export const HANDLERS: HandlerRegistry = createHandlers();

/** Binds `kind`'s handler of a registry (generic, so a loop over a union of kinds type-checks). */
export function bindCatalogHandler<K extends JobKindName>(
  kind: K,
  options: BindOptions,
  handlers: HandlerRegistry = HANDLERS,
): RuntimeHandler {
  return bindHandler(kind, handlers[kind], options);
}

export { type BindOptions, bindHandler } from './bind.ts';
export type { HandlerContext, JobHandler } from './handler.ts';
