// The wrk generator: the mix flattened from the scenario files, the mix file, wrk's output, and
// (where wrk is installed) load/wrk/mix.lua against a small server that counts what it is sent.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { verdictOf } from '../src/knee-wrk.ts';
import { readFlows } from '../src/scenarios.ts';
import { mixFileText, parseWrkOutput, runWrk, type WrkRequest, wrkMix } from '../src/wrk.ts';

const flows = readFlows(path.join(import.meta.dirname, '..', 'scenarios'));

const wrkBin = (() => {
  try {
    return execFileSync('sh', ['-c', 'command -v wrk'], { encoding: 'utf8' }).trim() || null;
  } catch {
    return null;
  }
})();

describe('the wrk mix', () => {
  const mix = wrkMix(flows);
  const share = (name: string) =>
    mix.filter((m) => m.name === name).reduce((sum, m) => sum + m.weight, 0) /
    mix.reduce((sum, m) => sum + m.weight, 0);

  it('keeps the weights of the mix flows it can send, split over their requests', () => {
    // Every mix flow but the CSV upload (multipart, and its poll has no submission left).
    const kept = flows.filter((f) => f.run === 'mix' && f.file !== 'csv-upload.yml');
    const total = kept.reduce((sum, f) => sum + (f.scenario.weight ?? 1), 0);
    expect(mix.reduce((sum, m) => sum + m.weight, 0)).toBeCloseTo(total, 6);
    expect(share('GET /healthz')).toBeCloseTo(20 / total, 6);
    // submit-poll's POST and poll, and submit-watch's POST.
    expect(share('POST /v1/jobs')).toBeCloseTo((15 + 10) / total, 6);
    expect(share('GET /v1/jobs/:id')).toBeCloseTo(15 / total, 6);
    expect(share('GET /v1/kpi')).toBeCloseTo(10 / total, 6);
  });

  it('leaves out requests needing a captured value, except job polls', () => {
    for (const m of mix) expect(m.path.replace('{{ jobId }}', ''), m.name).not.toContain('{{');
    expect(mix.some((m) => m.path === '/v1/jobs/{{ jobId }}')).toBe(true);
    expect(mix.find((m) => m.name === 'GET /v1/models')?.path).toBe('/v1/models?limit=50&region=NAM');
    expect(mix.every((m) => m.method === 'GET' || m.body !== null)).toBe(true);
  });

  it('writes one tab-separated line a request, the body or a dash last', () => {
    const text = mixFileText([
      { name: 'GET /a', method: 'GET', path: '/a?x=1', body: null, weight: 2 },
      { name: 'POST /b', method: 'POST', path: '/b', body: '{"k":"v\\twith tab"}', weight: 0.5 },
    ]);
    expect(text.split('\n')).toEqual([
      '2.0000\tGET /a\tGET\t/a?x=1\t-',
      '0.5000\tPOST /b\tPOST\t/b\t{"k":"v\\twith tab"}',
      '',
    ]);
    expect(mixFileText([{ name: 'n', method: 'POST', path: '/p', body: 'a\tb', weight: 1 }])).toBe(
      '1.0000\tn\tPOST\t/p\ta b\n',
    );
  });
});

describe('wrk output', () => {
  const line =
    'WRK_JSON {"durationUs":2000000,"requests":5000,"bytes":1,"errors":3,"socketErrors":1,"timeouts":2,"p50Us":1500,"p90Us":4000,"p99Us":12345,"maxUs":90000,"cpuTicks":25,"byName":{"GET /a":4000,"POST /b":1000}}';

  it('reads the WRK_JSON line among wrk’s own output', () => {
    const figures = parseWrkOutput(`Running 2s test @ http://x\n  1 threads and 8 connections\n${line}\n`);
    expect(figures).toEqual({
      durationS: 2,
      requests: 5000,
      rps: 2500,
      errors: 6,
      p50Ms: 1.5,
      p90Ms: 4,
      p99Ms: 12.35,
      maxMs: 90,
      cpuS: 0.25,
      byName: { 'GET /a': 4000, 'POST /b': 1000 },
    });
    expect(verdictOf(figures)).toBe('6 errors');
    expect(verdictOf({ ...figures, errors: 0 })).toBe('sustained');
    expect(verdictOf({ ...figures, errors: 0, p99Ms: 100.5 })).toBe('p99 100.5 ms > 100');
  });

  it('fails loudly without it', () => {
    expect(() => parseWrkOutput('Running 2s test\n')).toThrow(/no WRK_JSON line/);
  });
});

describe.runIf(wrkBin !== null)('load/wrk/mix.lua under wrk', () => {
  it('sends the mix by weight, with the key, and polls the jobs it submitted', async () => {
    const seen = new Map<string, number>();
    let unauthorised = 0;
    let submitted = 0;
    const polled = new Set<string>();
    const server = createServer((req, res) => {
      if (req.headers.authorization !== 'Bearer test-key') unauthorised += 1;
      const key = `${req.method} ${req.url}`;
      seen.set(key, (seen.get(key) ?? 0) + 1);
      req.resume();
      req.on('end', () => {
        if (req.method === 'POST') {
          submitted += 1;
          res.writeHead(202, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ id: `job-${submitted}`, state: 'queued' }));
          return;
        }
        const poll = /^\/jobs\/(job-\d+)$/.exec(req.url ?? '');
        if (poll !== null) polled.add(poll[1]!);
        res.writeHead(req.url === '/missing' ? 404 : 200, { 'content-type': 'application/json' });
        res.end('{"ok":true}');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const mix: WrkRequest[] = [
        { name: 'GET /a', method: 'GET', path: '/a', body: null, weight: 6 },
        { name: 'POST /jobs', method: 'POST', path: '/jobs', body: '{"kind":"x"}', weight: 2 },
        { name: 'GET /jobs/:id', method: 'GET', path: '/jobs/{{ jobId }}', body: null, weight: 2 },
      ];
      const dir = mkdtempSync(path.join(os.tmpdir(), 'wrk-mix-'));
      const mixFile = path.join(dir, 'mix.tsv');
      writeFileSync(mixFile, mixFileText(mix));
      const { port } = server.address() as AddressInfo;
      const figures = await runWrk({
        wrkBin: wrkBin!,
        url: `http://127.0.0.1:${port}`,
        connections: 4,
        threads: 2,
        durationS: 1,
        mixFile,
        apiKey: 'test-key',
      });
      expect(unauthorised).toBe(0);
      expect(figures.errors).toBe(0);
      expect(figures.requests).toBeGreaterThan(200);
      const sent = Object.values(figures.byName).reduce((a, b) => a + b, 0);
      // Drawn at random by weight: 60 % of the mix within a generous margin.
      expect(figures.byName['GET /a']! / sent).toBeGreaterThan(0.5);
      expect(figures.byName['GET /a']! / sent).toBeLessThan(0.7);
      expect(seen.get('GET /a')).toBeGreaterThan(0);
      // Polls name jobs the server handed out, never the template.
      expect(polled.size).toBeGreaterThan(0);
      expect([...polled].every((id) => Number(id.slice(4)) <= submitted)).toBe(true);
      expect([...seen.keys()].some((key) => key.includes('{{'))).toBe(false);
      expect(figures.cpuS).toBeGreaterThanOrEqual(0);
    } finally {
      server.close();
    }
  });
});
