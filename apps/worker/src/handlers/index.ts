// The handler registry: one handler per catalog kind. The mapped type makes a catalog kind
// without a handler (or a handler for a kind the catalog lacks) a type error, so the API can
// never accept a kind no worker runs.
import type { JobKindName, PayloadOf } from '@offload/jobs';
import type { JobHandler as RuntimeHandler } from '@offload/queue';
import { analyzeHealthHandler } from './analyze-health.ts';
import { type BindOptions, bindHandler } from './bind.ts';
import { collectMetricsHandler } from './collect-metrics.ts';
import type { JobHandler } from './handler.ts';
import { importCsvHandler } from './import-csv.ts';
import { rebuildCompliance } from './rebuild-compliance.ts';
import { rebuildKpi } from './rebuild-kpi.ts';
import { systemEcho } from './system-echo.ts';

export type HandlerRegistry = { readonly [K in JobKindName]: JobHandler<PayloadOf<K>> };

export const HANDLERS: HandlerRegistry = {
  'system.echo': systemEcho,
  'import.csv': importCsvHandler(),
  'rebuild.kpi': rebuildKpi,
  'rebuild.compliance': rebuildCompliance,
  'collect.metrics': collectMetricsHandler(),
  'analyze.health': analyzeHealthHandler(),
};

/** Binds the registry's handler of `kind` (generic, so a loop over a union of kinds type-checks). */
export function bindCatalogHandler<K extends JobKindName>(kind: K, options: BindOptions): RuntimeHandler {
  return bindHandler(kind, HANDLERS[kind], options);
}

export { type BindOptions, bindHandler } from './bind.ts';
export type { HandlerContext, JobHandler } from './handler.ts';
