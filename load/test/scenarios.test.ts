// The flow files under load/scenarios and the Artillery script composed from them.

import { createRequire } from 'node:module';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ceilingsOf, composeScript, FlowFileError, readFlows, servedFlows } from '../src/scenarios.ts';

const yaml = createRequire(import.meta.url)('js-yaml') as { safeLoad(text: string): unknown };
const flows = readFlows(path.join(import.meta.dirname, '..', 'scenarios'));

/** Every request name a flow's steps use, loops included. */
function requestNames(steps: unknown[]): string[] {
  return steps.flatMap((step) => {
    const s = step as Record<string, { name?: string } & Record<string, unknown>>;
    if (Array.isArray(s.loop)) return requestNames(s.loop);
    for (const method of ['get', 'post', 'put', 'delete']) if (s[method]) return [String(s[method].name)];
    return [];
  });
}

describe('flow files', () => {
  it('all parse, and the mix, the burst and the reference are there', () => {
    expect(flows.length).toBeGreaterThanOrEqual(11);
    expect(flows.filter((f) => f.run === 'burst').map((f) => f.file)).toEqual(['auth-burst.yml']);
    expect(flows.find((f) => f.file === 'reference.yml')?.requires).toEqual([]);
  });

  it('name every request, and give each named request ceilings', () => {
    for (const flow of flows) {
      const names = requestNames(flow.scenario.flow);
      expect(
        names.every((name) => name !== 'undefined'),
        flow.file,
      ).toBe(true);
      for (const name of names) expect(flow.thresholds[name], `${flow.file}: ${name}`).toBeDefined();
      for (const name of Object.keys(flow.thresholds)) {
        expect(names.includes(name) || name.startsWith('offload.'), `${flow.file}: ${name}`).toBe(true);
      }
    }
  });

  it('give think times Artillery reads as written: whole seconds, or a duration with its unit', () => {
    // Artillery 2 passes a fractional number to ms(), which reads 0.1 as no pause at all: a poll
    // loop "every 0.1 s" then spun through its poll budget in a third of a second.
    const thinks = (steps: unknown[]): unknown[] =>
      steps.flatMap((step) => {
        const s = step as { loop?: unknown[]; think?: unknown };
        if (Array.isArray(s.loop)) return thinks(s.loop);
        return 'think' in s ? [s.think] : [];
      });
    const all = flows.flatMap((flow) =>
      thinks(flow.scenario.flow).map((think) => [flow.file, think] as const),
    );
    expect(all.length).toBeGreaterThan(0);
    for (const [file, think] of all) {
      const readable = Number.isInteger(think) || (typeof think === 'string' && /^\d+(ms|s)$/.test(think));
      expect(readable, `${file}: think ${JSON.stringify(think)}`).toBe(true);
    }
  });

  it('hold the seed ceilings: 300 ms p95 for reads, 600 for writes, 1 s for the dashboard', () => {
    const ceilings = ceilingsOf(flows);
    expect(ceilings['GET /v1/jobs']?.p95).toBe(300);
    expect(ceilings['POST /v1/jobs']?.p95).toBe(600);
    expect(ceilings['POST /v1/imports']?.p95).toBe(600);
    expect(ceilings['GET /v1/dashboard']?.p95).toBe(1000);
  });
});

describe('servedFlows', () => {
  it('keeps a flow whose operations the OpenAPI document lists and names what the others miss', () => {
    const openapi = { paths: { '/v1/jobs': { get: {}, post: {} }, '/v1/jobs/{id}': { get: {} } } };
    const { served, skipped } = servedFlows(flows, openapi);
    const servedFiles = served.map((f) => f.file);
    expect(servedFiles).toContain('reference.yml');
    expect(servedFiles).toContain('submit-poll.yml');
    expect(servedFiles).toContain('browse-jobs.yml');
    expect(servedFiles).not.toContain('kpi.yml');
    const kpi = skipped.find((s) => s.flow.file === 'kpi.yml');
    expect(kpi?.missing).toEqual(['GET /v1/kpi']);
    // A route listed for another method does not count.
    const csv = skipped.find((s) => s.flow.file === 'csv-upload.yml');
    expect(csv?.missing).toEqual(['POST /v1/imports']);
  });
});

describe('composeScript', () => {
  const served = flows.filter((f) => f.run === 'mix');
  const options = {
    target: 'http://127.0.0.1:1',
    processor: '/x/processor.mts',
    phases: [{ duration: 10, arrivalCount: 20 }],
  };

  it('turns the ceilings into ensure checks under plugins, with zero errors allowed', () => {
    const script = yaml.safeLoad(composeScript(served, { ...options, ensure: true })) as {
      config: { plugins: { ensure: { maxErrorRate: number; thresholds: Array<Record<string, number>> } } };
      scenarios: Array<{ name: string }>;
    };
    const { ensure } = script.config.plugins;
    expect(ensure.maxErrorRate).toBe(0);
    expect(ensure.thresholds).toContainEqual({
      'plugins.metrics-by-endpoint.response_time.GET /v1/jobs.p95': 300,
    });
    expect(ensure.thresholds).toContainEqual({
      'plugins.metrics-by-endpoint.response_time.GET /v1/jobs.p99': 600,
    });
    expect(ensure.thresholds).toContainEqual({ 'offload.sse.first_byte.p95': 300 });
    expect(script.scenarios.map((s) => s.name)).toEqual(served.map((f) => f.scenario.name));
  });

  it('leaves the checks out when asked (the knee judges its steps itself)', () => {
    const script = yaml.safeLoad(composeScript(served, { ...options, ensure: false })) as {
      config: { plugins: Record<string, unknown> };
    };
    expect(script.config.plugins.ensure).toBeUndefined();
    expect(script.config.plugins.expect).toBeDefined();
  });
});

describe('readFlows', () => {
  it('refuses a file without the runner fields', async () => {
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const dir = mkdtempSync(path.join(tmpdir(), 'flows-'));
    writeFileSync(path.join(dir, 'bad.yml'), 'run: sometimes\nscenario: { name: x, flow: [] }\n');
    expect(() => readFlows(dir)).toThrow(FlowFileError);
    writeFileSync(
      path.join(dir, 'bad.yml'),
      'run: mix\nthresholds: { a: { p95: 10, p99: 5 } }\nscenario: { name: x, flow: [] }\n',
    );
    expect(() => readFlows(dir)).toThrow(/p99 >= p95/);
  });
});
