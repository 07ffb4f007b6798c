// The flows under load/scenarios/, and the Artillery script made of them for one run.
//
// Each flow file holds one Artillery scenario and, around it, what the runner needs:
//   run         `mix` (the weighted mix at a steady rate) or `burst` (its own short run)
//   requires    the "METHOD /path" operations it calls, as /v1/openapi.json names them: a flow
//               whose routes the API does not serve (yet) is skipped, and the run says so; a
//               flow that is served and fails fails the run
//   thresholds  per request name (or custom metric), the p95 and p99 ceilings in ms that
//               become Artillery `ensure` checks, so a breach makes Artillery exit non-zero
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

// js-yaml is Artillery's own YAML parser; it ships no types, and two functions are all we use.
const yaml = createRequire(import.meta.url)('js-yaml') as {
  safeLoad(text: string): unknown;
  safeDump(value: unknown, options?: { lineWidth?: number; noRefs?: boolean }): string;
};

export const FLOW_RUNS = ['mix', 'burst'] as const;
export type FlowRun = (typeof FLOW_RUNS)[number];

export interface Ceiling {
  p95: number;
  p99: number;
}

export interface Flow {
  file: string;
  run: FlowRun;
  requires: string[];
  thresholds: Record<string, Ceiling>;
  scenario: { name: string; weight?: number; flow: unknown[] };
}

/** A flow file that does not have the shape above. */
export class FlowFileError extends Error {
  constructor(file: string, problem: string) {
    super(`${file}: ${problem}`);
    this.name = 'FlowFileError';
  }
}

export function readFlows(dir: string): Flow[] {
  return readdirSync(dir)
    .filter((name) => name.endsWith('.yml'))
    .sort()
    .map((name) => parseFlow(name, yaml.safeLoad(readFileSync(path.join(dir, name), 'utf8'))));
}

function parseFlow(file: string, raw: unknown): Flow {
  if (typeof raw !== 'object' || raw === null) throw new FlowFileError(file, 'not a YAML mapping');
  const data = raw as Record<string, unknown>;
  if (!FLOW_RUNS.includes(data.run as FlowRun)) {
    throw new FlowFileError(file, `run must be one of ${FLOW_RUNS.join(', ')}`);
  }
  const requires = data.requires ?? [];
  if (
    !Array.isArray(requires) ||
    !requires.every((op) => /^(GET|POST|PUT|DELETE|PATCH) \/\S*$/.test(String(op)))
  ) {
    throw new FlowFileError(file, 'requires must be a list of "METHOD /path"');
  }
  const thresholds: Record<string, Ceiling> = {};
  for (const [name, ceiling] of Object.entries((data.thresholds ?? {}) as Record<string, unknown>)) {
    const { p95, p99 } = (ceiling ?? {}) as Partial<Ceiling>;
    if (typeof p95 !== 'number' || typeof p99 !== 'number' || p95 <= 0 || p99 < p95) {
      throw new FlowFileError(file, `thresholds.${name} must be { p95, p99 } in ms with p99 >= p95`);
    }
    thresholds[name] = { p95, p99 };
  }
  const scenario = data.scenario as Flow['scenario'] | undefined;
  if (typeof scenario?.name !== 'string' || !Array.isArray(scenario.flow)) {
    throw new FlowFileError(file, 'scenario must have a name and a flow');
  }
  return { file, run: data.run as FlowRun, requires: requires.map(String), thresholds, scenario };
}

/** The flows whose operations the OpenAPI document lists, and the others with what is missing. */
export function servedFlows(
  flows: readonly Flow[],
  openapi: { paths?: Record<string, Record<string, unknown>> },
): { served: Flow[]; skipped: Array<{ flow: Flow; missing: string[] }> } {
  const served: Flow[] = [];
  const skipped: Array<{ flow: Flow; missing: string[] }> = [];
  for (const flow of flows) {
    const missing = flow.requires.filter((op) => {
      const [method = '', route = ''] = op.split(' ');
      // Health routes are not in the document; the reference flow requires nothing.
      return openapi.paths?.[route]?.[method.toLowerCase()] === undefined;
    });
    if (missing.length === 0) served.push(flow);
    else skipped.push({ flow, missing });
  }
  return { served, skipped };
}

export type Phase =
  | { duration: number; arrivalRate: number; name?: string }
  | {
      duration: number;
      arrivalCount: number;
      name?: string;
    };

export interface ScriptOptions {
  target: string;
  processor: string;
  phases: Phase[];
  /** Turn the p95/p99 ceilings and the zero-error rule into Artillery `ensure` checks. */
  ensure: boolean;
}

/** The Artillery script (as YAML text) that runs `flows` with `options`. */
export function composeScript(flows: readonly Flow[], options: ScriptOptions): string {
  const thresholds: Array<Record<string, number>> = [];
  for (const [name, ceiling] of Object.entries(ceilingsOf(flows))) {
    const metric = name.startsWith('offload.') ? name : `plugins.metrics-by-endpoint.response_time.${name}`;
    thresholds.push({ [`${metric}.p95`]: ceiling.p95 }, { [`${metric}.p99`]: ceiling.p99 });
  }
  const script = {
    config: {
      target: options.target,
      processor: options.processor,
      phases: options.phases,
      // apiKey and apiTarget are given on Artillery's command line (see ./artillery.ts).
      defaults: { headers: { authorization: 'Bearer {{ apiKey }}' } },
      http: { timeout: 30 },
      plugins: {
        expect: { reportFailuresAsErrors: true, outputFormat: 'prettyError', useOnlyRequestNames: true },
        'metrics-by-endpoint': { useOnlyRequestNames: true, stripQueryString: true },
        // Loaded only when named under plugins (a top-level `ensure` is ignored by this version).
        ...(options.ensure ? { ensure: { maxErrorRate: 0, thresholds } } : {}),
      },
    },
    scenarios: flows.map((flow) => flow.scenario),
  };
  return yaml.safeDump(script, { lineWidth: 120, noRefs: true });
}

/** Every request name's ceilings across `flows` (the strictest when two flows share a name). */
export function ceilingsOf(flows: readonly Flow[]): Record<string, Ceiling> {
  const all: Record<string, Ceiling> = {};
  for (const flow of flows) {
    for (const [name, ceiling] of Object.entries(flow.thresholds)) {
      const known = all[name];
      all[name] = known
        ? { p95: Math.min(known.p95, ceiling.p95), p99: Math.min(known.p99, ceiling.p99) }
        : ceiling;
    }
  }
  return all;
}
