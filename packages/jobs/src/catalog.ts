// The catalog: every job kind the system runs, looked up by name. Adding a kind means one file
// under kinds/ and one line in JOB_KINDS; the API (validation, OpenAPI) and the worker (which
// must have a handler for each) follow from this list.
import { z } from 'zod';
import type { JobDefaults, JobKind } from './kind.ts';
import { analyzeHealth } from './kinds/analyze-health.ts';
import { collectMetrics } from './kinds/collect-metrics.ts';
import { importCsvKind } from './kinds/import-csv.ts';
import { rebuildCompliance } from './kinds/rebuild-compliance.ts';
import { rebuildKpi } from './kinds/rebuild-kpi.ts';
import { systemEcho } from './kinds/system-echo.ts';

export const JOB_KINDS = [
  systemEcho,
  importCsvKind,
  rebuildKpi,
  rebuildCompliance,
  collectMetrics,
  analyzeHealth,
  // Domain kinds come with their issues: import.csv, collect.metrics, analyze.health,
  // rebuild.kpi, rebuild.compliance (DESIGN.md §3).
] as const;

export type CatalogKind = (typeof JOB_KINDS)[number];
export type JobKindName = CatalogKind['name'];
/** The validated payload of a kind, e.g. `PayloadOf<'system.echo'>`. */
export type PayloadOf<K extends JobKindName> = z.output<Extract<CatalogKind, { name: K }>['payload']>;

const byName: ReadonlyMap<string, JobKind> = new Map(JOB_KINDS.map((kind) => [kind.name, kind]));

export function jobKindNames(): JobKindName[] {
  return JOB_KINDS.map((kind) => kind.name);
}

export function findJobKind(name: string): JobKind | undefined {
  return byName.get(name);
}

/**
 * The send options of a catalog kind, or undefined for another kind: the resolver the queue is
 * built with (`createQueueBackend(url, { defaults: jobDefaultsOf })`), so every path that enqueues
 * (the API, triggers, schedules, imports, metric sources) sends with the catalog's options.
 */
export function jobDefaultsOf(name: string): JobDefaults | undefined {
  return byName.get(name)?.defaults;
}

export function isJobKindName(name: string): name is JobKindName {
  return byName.has(name);
}

/** A kind the catalog does not have (the API answers 422, the worker fails the job for good). */
export class UnknownJobKindError extends Error {
  readonly kind: string;

  constructor(kind: string) {
    super(`unknown job kind ${JSON.stringify(kind)} (known: ${jobKindNames().join(', ')})`);
    this.name = 'UnknownJobKindError';
    this.kind = kind;
  }
}

/** One reason a payload was refused; `path` leads from the payload's root to the field. */
export interface PayloadIssue {
  path: Array<string | number>;
  message: string;
}

/** A payload its kind's schema refused; retrying cannot help. */
export class InvalidJobPayloadError extends Error {
  readonly kind: string;
  readonly issues: PayloadIssue[];

  constructor(kind: string, issues: PayloadIssue[]) {
    const first = issues[0];
    const where = first === undefined || first.path.length === 0 ? '' : ` at ${first.path.join('.')}`;
    super(`invalid ${kind} payload${where}: ${first?.message ?? 'refused'}`);
    this.name = 'InvalidJobPayloadError';
    this.kind = kind;
    this.issues = issues;
  }
}

/**
 * Validates `payload` against the kind's schema and returns the parsed value. Throws
 * `UnknownJobKindError` or `InvalidJobPayloadError` (with every failing field).
 */
export function parseJobPayload<K extends JobKindName>(kind: K, payload: unknown): PayloadOf<K>;
export function parseJobPayload(kind: string, payload: unknown): unknown;
export function parseJobPayload(kind: string, payload: unknown): unknown {
  const definition = byName.get(kind);
  if (definition === undefined) throw new UnknownJobKindError(kind);
  const parsed = definition.payload.safeParse(payload);
  if (!parsed.success) throw new InvalidJobPayloadError(kind, payloadIssues(parsed.error));
  return parsed.data;
}

/** zod's issues as field paths; an unknown field is reported at its own path, one issue each. */
export function payloadIssues(error: z.ZodError): PayloadIssue[] {
  return error.issues.flatMap((issue): PayloadIssue[] => {
    const path = issue.path.map((segment) => (typeof segment === 'symbol' ? String(segment) : segment));
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => ({ path: [...path, key], message: 'unknown field' }));
    }
    return [{ path, message: issue.message }];
  });
}

/**
 * A JSON Schema (draft 2020-12, which OpenAPI 3.1 uses) for a zod schema, without the `$schema`
 * keyword so that it can be embedded in another document. `io: 'input'` (the default) describes
 * what is accepted, `'output'` what is produced.
 */
export function toJsonSchema(
  schema: z.ZodType,
  { io = 'input' }: { io?: 'input' | 'output' } = {},
): Record<string, unknown> {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, {
    target: 'draft-2020-12',
    io,
    unrepresentable: 'any',
  }) as Record<string, unknown>;
  return rest;
}

/** The JSON Schema of a kind's payload. */
export function payloadJsonSchema(kind: string): Record<string, unknown> {
  const definition = byName.get(kind);
  if (definition === undefined) throw new UnknownJobKindError(kind);
  return toJsonSchema(definition.payload);
}
