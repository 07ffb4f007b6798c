// The contract test (DESIGN §4: "every response matches the OpenAPI document, errors included"):
// real calls to every operation of the document the API serves, its successes and every error
// it can produce, on both databases; each answer is checked by Contract (status documented,
// media type, required headers, body against the schema, with Ajv's JSON Schema 2020-12 build).
// Each block proves its coverage: every documented status of every operation was seen, those
// of a database gone away (`databaseAway`) by the last block, on PostgreSQL.
import { createDb } from '@offload/db';
import { rebuildComplianceReport, rebuildKpiSnapshots } from '@offload/db/reports';
import { seedDatabase } from '@offload/db/seed';
import { testDatabases } from '@offload/db/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey, type Scope } from '../../src/api-keys.ts';
import { type CuttableProxy, startProxiedApi } from '../cuttable-proxy.ts';
import { claimJob, startTestApi, type TestApi } from '../harness.ts';
import { Contract, type ContractResponse, type Operation } from './contract.ts';

const ECHO = 'system.echo';
const MAX_UPLOAD_BYTES = 64 * 1024;

interface Call {
  params?: Record<string, string | number>;
  query?: Record<string, string>;
  key?: string;
  body?: unknown;
  raw?: string;
  headers?: Record<string, string>;
  /** Path parameters sent as they are, not percent-encoded (to send `%E0`). */
  rawParams?: boolean;
}

/**
 * The statuses the first block does not produce: those of a database that went away. The last
 * block (PostgreSQL, through a proxy it cuts) produces them; an SQLite file cannot go away.
 */
function databaseAway(operation: Operation, status: string, response: Record<string, unknown>): boolean {
  if (status === '503' && String(response.description).startsWith('The database is unavailable')) return true;
  return status === '503' && ['/readyz', '/ready'].includes(operation.path);
}

for (const kind of testDatabases()) {
  describe(`the OpenAPI contract (${kind})`, () => {
    let api: TestApi;
    let contract: Contract;
    const keys = { admin: '', reader: '', submitter: '', submitOnly: '', limited: '' };
    let limitedKeyId = 0;

    beforeAll(async () => {
      api = await startTestApi(kind, {
        cache: { versionCheckMs: 0 },
        // A limit no test reaches, but for the key whose bucket a test empties.
        // Refilled one token per 100 s: on a loaded machine a second may pass between emptying
        // the limited key's bucket and its request, and a token a second would let it through.
        settings: { rateLimitPerSecond: 0.01, rateLimitBurst: 10_000 },
        options: { maxUploadBytes: MAX_UPLOAD_BYTES },
      });
      const make = async (owner: string, scopes: Scope[]) =>
        createApiKey(api.testDb.db, { name: `${owner} contract key`, owner, scopes });
      keys.admin = (await make('admin', ['admin'])).key;
      keys.reader = (await make('reader', ['read'])).key;
      keys.submitter = (await make('submitter', ['submit', 'read'])).key;
      keys.submitOnly = (await make('submitter', ['submit'])).key;
      const limited = await make('limited', ['read']);
      keys.limited = limited.key;
      limitedKeyId = limited.record.id;
      await seedDatabase(api.testDb.db, { models: 30, quiet: true });
      const document = await fetch(`${api.url}/v1/openapi.json`).then((res) => res.json());
      contract = new Contract(document as Record<string, unknown>);
    });
    afterAll(() => api?.close());

    /** Calls the API and checks the answer against the document. */
    async function call(method: string, path: string, init: Call = {}): Promise<ContractResponse> {
      const res = await send(method, path, init);
      contract.check(method, path, res);
      return res;
    }

    /** `call`, failing unless it answered `status`. */
    async function expectCall(status: number, method: string, path: string, init: Call = {}) {
      const res = await call(method, path, init);
      expect(res.status, `${method} ${path}: ${res.text.slice(0, 200)}`).toBe(status);
      return res;
    }

    async function send(method: string, path: string, init: Call): Promise<ContractResponse> {
      const url =
        api.url +
        path.replace(/\{(\w+)\}/g, (_, name: string) => {
          const value = String(init.params?.[name] ?? '');
          return init.rawParams === true ? value : encodeURIComponent(value);
        }) +
        (init.query === undefined ? '' : `?${new URLSearchParams(init.query)}`);
      const headers: Record<string, string> = { ...init.headers };
      if (init.key !== undefined) headers.authorization = `Bearer ${init.key}`;
      let body = init.raw;
      if (body === undefined && init.body !== undefined) {
        body = JSON.stringify(init.body);
        headers['content-type'] ??= 'application/json';
      }
      const response = await fetch(url, { method, headers, body });
      const text = await response.text();
      const json = (response.headers.get('content-type') ?? '').includes('json') && text !== '';
      return {
        status: response.status,
        headers: response.headers,
        text,
        body: json ? JSON.parse(text) : text,
      };
    }

    /** Placeholder path parameters that name nothing. */
    const nothing = { id: '999999', name: 'no-such-schedule' };

    async function submit(payload: unknown = { sleepMs: 0 }) {
      const res = await expectCall(202, 'POST', '/v1/jobs', {
        key: keys.submitter,
        body: { kind: ECHO, payload },
      });
      return res.body as { id: string };
    }

    it('documents every operation with an operationId, tags and integer query integers', () => {
      const ids = new Set<string>();
      for (const { method, path, spec } of contract.operations()) {
        expect(spec.operationId, `${method} ${path}`).toEqual(expect.any(String));
        expect(ids.has(spec.operationId as string), `${spec.operationId} twice`).toBe(false);
        ids.add(spec.operationId as string);
        expect(spec.tags, `${method} ${path}`).toEqual([expect.any(String)]);
        for (const parameter of (spec.parameters ?? []) as Array<{
          name: string;
          schema: { type: string };
        }>) {
          if (parameter.name === 'limit') expect(parameter.schema.type).toBe('integer');
        }
      }
    });

    it('answers the queue statistics stream', async () => {
      // The stream never ends on its own: read up to its first event, then hang up.
      const abort = new AbortController();
      const response = await fetch(`${api.url}/v1/queues/stream`, {
        headers: { authorization: `Bearer ${keys.reader}` },
        signal: abort.signal,
      });
      const reader = response.body!.getReader();
      const decoder = new TextDecoder();
      let text = '';
      while (!/event: session\n[^\n]*\n\n/.test(text)) {
        const { value, done } = await reader.read();
        if (done) break;
        text += decoder.decode(value, { stream: true });
      }
      abort.abort();
      expect(text).toContain('event: session');
      contract.check('GET', '/v1/queues/stream', {
        status: response.status,
        headers: response.headers,
        text,
        body: text,
      });
    });

    it('answers jobs: submit, replay, get, list and pages, cancel, retry, events', async () => {
      const key = keys.submitter;
      const headers = { 'idempotency-key': `contract-${kind}` };
      const echo = (sleepMs: number) => ({ kind: ECHO, payload: { sleepMs } });
      await expectCall(202, 'POST', '/v1/jobs', { key, headers, body: echo(1) });
      await expectCall(200, 'POST', '/v1/jobs', { key, headers, body: echo(1) });
      await expectCall(422, 'POST', '/v1/jobs', { key, headers, body: echo(2) });
      await expectCall(422, 'POST', '/v1/jobs', { key, body: { kind: 'no.such.kind', payload: {} } });
      await expectCall(400, 'POST', '/v1/jobs', { key, headers: { 'idempotency-key': 'é' }, body: echo(0) });
      // runAt is bounded both ways; a kind needs its own scope beyond `submit`.
      const day = 24 * 60 * 60 * 1000;
      for (const runAt of [new Date(Date.now() + 366 * day).toISOString(), '1969-12-31T23:59:59Z']) {
        const late = await expectCall(422, 'POST', '/v1/jobs', { key, body: { ...echo(0), runAt } });
        expect(late.body.errors).toEqual([expect.objectContaining({ pointer: '#/runAt' })]);
      }
      await expectCall(403, 'POST', '/v1/jobs', { key, body: { kind: 'rebuild.kpi', payload: {} } });

      const job = await submit();
      await expectCall(200, 'GET', '/v1/jobs/{id}', { key, params: job });
      await expectCall(404, 'GET', '/v1/jobs/{id}', { key, params: nothing });
      await submit();
      const page = await expectCall(200, 'GET', '/v1/jobs', { key, query: { limit: '1' } });
      expect(page.body.nextCursor).toEqual(expect.any(String));
      await expectCall(200, 'GET', '/v1/jobs', { key, query: { cursor: page.body.nextCursor } });
      await expectCall(400, 'GET', '/v1/jobs', { key, query: { limit: '101' } });
      const since = {
        createdFrom: new Date(Date.now() - 60_000).toISOString(),
        idPrefix: job.id.slice(0, 8),
      };
      await expectCall(200, 'GET', '/v1/jobs', { key, query: since });
      await expectCall(400, 'GET', '/v1/jobs', { key, query: { idPrefix: 'not-hex' } });

      // Retry a queued job: 409; cancel it: 200; retry the cancelled one: 200.
      await expectCall(409, 'POST', '/v1/jobs/{id}/retry', { key, params: job });
      await expectCall(200, 'POST', '/v1/jobs/{id}/cancel', { key, params: job });
      await expectCall(200, 'POST', '/v1/jobs/{id}/retry', { key, params: job });
      for (const action of ['cancel', 'retry']) {
        await expectCall(404, 'POST', `/v1/jobs/{id}/${action}`, { key, params: nothing });
      }

      // A job that ended: its stream sends the final state and closes; it cannot be cancelled.
      const done = await submit({ sleepMs: 3 });
      const claim = await claimJob(api.backend, ECHO, done.id);
      await api.backend.jobComplete({ id: done.id, leaseToken: claim.leaseToken, result: { sleepMs: 3 } });
      const events = await expectCall(200, 'GET', '/v1/jobs/{id}/events', { key, params: done });
      expect(events.text).toContain('event: state');
      await expectCall(404, 'GET', '/v1/jobs/{id}/events', { key, params: nothing });
      const ended = await expectCall(409, 'POST', '/v1/jobs/{id}/cancel', { key, params: done });
      expect(ended.body.state).toBe('completed');

      // A job pruned while its Idempotency-Key is still claimed is not run again: 409.
      const pruned = { 'idempotency-key': `contract-pruned-${kind}` };
      const kept = await expectCall(202, 'POST', '/v1/jobs', { key, headers: pruned, body: echo(4) });
      const held = await claimJob(api.backend, ECHO, kept.body.id);
      await api.backend.jobComplete({ id: kept.body.id, leaseToken: held.leaseToken, result: null });
      await api.backend.jobPrune({
        completedBefore: new Date(Date.now() + 60_000),
        failedBefore: new Date(0),
      });
      await expectCall(409, 'POST', '/v1/jobs', { key, headers: pruned, body: echo(4) });
    });

    it('answers bulk actions: count, retry failed, cancel queued; a limit over the maximum, another owner', async () => {
      const key = keys.submitter;
      for (const path of ['/v1/jobs/retry-failed', '/v1/jobs/cancel-queued']) {
        const counted = await expectCall(200, 'POST', path, { key, body: { kind: ECHO, dryRun: true } });
        expect(counted.body.dryRun).toBe(true);
        await expectCall(200, 'POST', path, {
          key,
          body: { kind: ECHO, createdFrom: new Date().toISOString() },
        });
        await expectCall(422, 'POST', path, { key, body: { limit: 10_001 } });
        await expectCall(403, 'POST', path, { key, body: { owner: 'someone-else' } });
      }
      await expectCall(403, 'POST', '/v1/jobs/retry-failed', { key, body: { kind: 'rebuild.kpi' } });
    });

    it('answers imports: a CSV stored and enqueued, then read; bad entity, type and size refused', async () => {
      const key = keys.submitter;
      const csv =
        'external_id,name,region,team,risk_tier,owner_email,status\nX-1,A model,EMEA,RISK,T1,a@example.com,active\n';
      const models = { entity: 'models' };
      const headers = { 'content-type': 'text/csv' };
      const created = await expectCall(202, 'POST', '/v1/imports', { key, query: models, raw: csv, headers });
      await expectCall(200, 'GET', '/v1/imports/{id}', { key, params: created.body });
      await expectCall(404, 'GET', '/v1/imports/{id}', { key, params: nothing });
      await expectCall(400, 'POST', '/v1/imports', { key, query: { entity: 'nope' }, raw: csv, headers });
      const text = { 'content-type': 'text/plain' };
      await expectCall(415, 'POST', '/v1/imports', { key, query: models, raw: csv, headers: text });
      const gzip = { ...headers, 'content-encoding': 'gzip' };
      await expectCall(415, 'POST', '/v1/imports', { key, query: models, raw: csv, headers: gzip });
      const big = `${'x'.repeat(MAX_UPLOAD_BYTES + 1)}\n`;
      await expectCall(413, 'POST', '/v1/imports', { key, query: models, raw: big, headers });
    });

    it('answers the precomputed reads: pending, then with validators and 304', async () => {
      const key = keys.reader;
      for (const path of ['/v1/kpi', '/v1/reports/regional-compliance'])
        await expectCall(503, 'GET', path, { key });
      await rebuildKpiSnapshots(api.testDb.db, { asOf: new Date().toISOString().slice(0, 10) });
      await rebuildComplianceReport(api.testDb.db);
      const models = await expectCall(200, 'GET', '/v1/models', { key, query: { limit: '2' } });
      const reads: Array<[string, Call]> = [
        ['/v1/kpi', {}],
        ['/v1/reports/regional-compliance', {}],
        ['/v1/attestation-cycles', { query: { limit: '1' } }],
        ['/v1/dashboard', {}],
        ['/v1/models', { query: { limit: '2' } }],
        ['/v1/models/{id}', { params: { id: models.body.items[0].id } }],
      ];
      for (const [path, init] of reads) {
        const fresh = await expectCall(200, 'GET', path, { key, ...init });
        expect(fresh.headers.get('cache-control')).toMatch(/^private, max-age=\d+$/);
        const etag = fresh.headers.get('etag')!;
        const again = await expectCall(304, 'GET', path, {
          key,
          ...init,
          headers: { 'if-none-match': etag },
        });
        expect(again.headers.get('etag')).toBe(etag);
        // Anything but a current validator gets the body.
        await expectCall(200, 'GET', path, { key, ...init, headers: { 'if-none-match': '"0-stale"' } });
      }
      for (const path of ['/v1/kpi', '/v1/reports/regional-compliance', '/v1/dashboard']) {
        await expectCall(400, 'GET', path, { key, query: { nope: '1' } });
      }
      await expectCall(404, 'GET', '/v1/kpi', { key, query: { region: 'NOPE' } });
      await expectCall(400, 'GET', '/v1/attestation-cycles', { key, query: { limit: '101' } });
      await expectCall(400, 'GET', '/v1/models', { key, query: { region: 'NOPE' } });
      await expectCall(400, 'GET', '/v1/models/{id}', { key, params: { id: 'abc' } });
      await expectCall(400, 'GET', '/v1/models/{id}', { key, params: { id: 2 ** 31 } });
      await expectCall(404, 'GET', '/v1/models/{id}', { key, params: { id: 999999 } });
      // Everything else is not to be stored.
      const jobs = await expectCall(200, 'GET', '/v1/jobs', { key });
      expect(jobs.headers.get('cache-control')).toBe('no-store');
    });

    it('answers schedules and workers in pages, queues and the cache', async () => {
      const [key, admin] = [keys.reader, keys.admin];
      await expectCall(200, 'GET', '/v1/queues', { key });

      const body = { cron: '0 3 * * *', kind: ECHO, payload: { sleepMs: 0 } };
      const named = (name: string) => ({ name });
      await expectCall(201, 'PUT', '/v1/schedules/{name}', { key: admin, params: named('contract-a'), body });
      await expectCall(200, 'PUT', '/v1/schedules/{name}', { key: admin, params: named('contract-a'), body });
      await expectCall(201, 'PUT', '/v1/schedules/{name}', { key: admin, params: named('contract-b'), body });
      const badCron = { ...body, cron: 'nope' };
      await expectCall(422, 'PUT', '/v1/schedules/{name}', { key: admin, params: named('c'), body: badCron });
      await expectCall(400, 'PUT', '/v1/schedules/{name}', { key: admin, params: named('bad name'), body });
      const names: string[] = [];
      let cursor: string | null = '';
      while (cursor !== null) {
        const next = await expectCall(200, 'GET', '/v1/schedules', { key, query: { limit: '1', cursor } });
        expect(next.body.items.length).toBeLessThanOrEqual(1);
        names.push(...next.body.items.map((item: { name: string }) => item.name));
        cursor = next.body.nextCursor;
      }
      expect(names).toEqual([...names].sort());
      expect(names).toEqual(expect.arrayContaining(['contract-a', 'contract-b']));
      await expectCall(400, 'GET', '/v1/schedules', { key, query: { limit: '101' } });
      await expectCall(400, 'GET', '/v1/schedules', { key, query: { cursor: 'forged' } });
      await expectCall(200, 'GET', '/v1/schedules/{name}', { key, params: named('contract-a') });
      await expectCall(404, 'GET', '/v1/schedules/{name}', { key, params: nothing });
      await expectCall(400, 'GET', '/v1/schedules/{name}', { key, params: named('bad name') });
      const paused = await expectCall(200, 'POST', '/v1/schedules/{name}/pause', {
        key: admin,
        params: named('contract-a'),
      });
      expect(paused.body).toMatchObject({ paused: true, nextRunAt: null, lastRunAt: null, lastJobId: null });
      const resumed = await expectCall(200, 'POST', '/v1/schedules/{name}/resume', {
        key: admin,
        params: named('contract-a'),
      });
      expect(resumed.body).toMatchObject({
        paused: false,
        nextRunAt: expect.stringMatching(/T03:00:00\.000Z$/),
      });
      for (const action of ['pause', 'resume'] as const) {
        await expectCall(404, 'POST', `/v1/schedules/{name}/${action}`, { key: admin, params: nothing });
        await expectCall(400, 'POST', `/v1/schedules/{name}/${action}`, {
          key: admin,
          params: named('bad name'),
        });
      }
      await expectCall(204, 'DELETE', '/v1/schedules/{name}', { key: admin, params: named('contract-b') });
      await expectCall(404, 'DELETE', '/v1/schedules/{name}', { key: admin, params: nothing });
      await expectCall(400, 'DELETE', '/v1/schedules/{name}', { key: admin, params: named('bad name') });

      const workers = await expectCall(200, 'GET', '/v1/workers', { key: admin });
      expect(workers.body).toEqual({ items: [], nextCursor: null });
      await expectCall(400, 'GET', '/v1/workers', { key: admin, query: { limit: '101' } });

      await expectCall(200, 'GET', '/v1/cache/stats', { key });
      await expectCall(200, 'POST', '/v1/cache/invalidate', { key: admin });
      await expectCall(200, 'POST', '/v1/cache/invalidate', { key: admin, body: { family: 'kpi' } });
      await expectCall(422, 'POST', '/v1/cache/invalidate', { key: admin, body: { family: 'nope' } });
    });

    it('answers metric sources', async () => {
      const key = keys.admin;
      const source = { name: 'contract source', url: 'http://127.0.0.1:9/metrics.ndjson', format: 'ndjson' };
      const created = await expectCall(201, 'POST', '/v1/metric-sources', { key, body: source });
      const params = { id: created.body.id };
      await expectCall(409, 'POST', '/v1/metric-sources', { key, body: source });
      await expectCall(422, 'POST', '/v1/metric-sources', { key, body: { ...source, url: 'ftp://x' } });
      await expectCall(200, 'GET', '/v1/metric-sources', { key });
      await expectCall(400, 'GET', '/v1/metric-sources', { key, query: { limit: '101' } });
      await expectCall(200, 'GET', '/v1/metric-sources/{id}', { key, params });
      const other = await expectCall(201, 'POST', '/v1/metric-sources', {
        key,
        body: { ...source, name: 'contract other' },
      });
      const path = '/v1/metric-sources/{id}';
      await expectCall(200, 'PATCH', path, { key, params, body: { cron: '*/5 * * * *' } });
      await expectCall(409, 'PATCH', path, { key, params, body: { name: 'contract other' } });
      await expectCall(422, 'PATCH', path, { key, params, body: { format: 'xml' } });
      await expectCall(202, 'POST', '/v1/metric-sources/{id}/collect', { key, params });
      await expectCall(204, 'DELETE', path, { key, params: { id: other.body.id } });
      for (const [method, route] of [
        ['GET', path],
        ['PATCH', path],
        ['DELETE', path],
        ['POST', '/v1/metric-sources/{id}/collect'],
      ] as const) {
        const body = method === 'PATCH' ? { enabled: false } : undefined;
        await expectCall(404, method, route, { key, params: nothing, body });
        await expectCall(400, method, route, { key, params: { id: 'abc' }, body });
        await expectCall(400, method, route, { key, params: { id: 2 ** 31 }, body });
      }
    });

    it('answers the system endpoints: liveness, readiness, health, stats, metrics, the document', async () => {
      for (const path of ['/healthz', '/health', '/readyz', '/ready', '/metrics', '/v1/openapi.json']) {
        await expectCall(200, 'GET', path);
      }
      for (const path of ['/v1/health', '/health-detailed'])
        await expectCall(200, 'GET', path, { key: keys.admin });
      const stats = await expectCall(200, 'GET', '/stats', { key: keys.reader });
      expect(stats.body.routes).toContainEqual(expect.objectContaining({ method: 'GET', route: '/v1/kpi' }));
    });

    it('answers every operation’s generic errors: 400, 401, 403, 429, body errors, 431', async () => {
      for (const operation of contract.operations()) {
        const { method, path } = operation;
        const responses = operation.spec.responses as Record<string, unknown>;
        const params = nothing;
        // Refused before any route: a NUL in a query or path parameter, a path parameter that is
        // not percent-encoded UTF-8.
        const nul = await expectCall(400, method, path, { params, query: { probe: 'a\u0000b' } });
        expect(nul.body.errors).toEqual([expect.objectContaining({ parameter: 'probe' })]);
        if (path.includes('{')) {
          for (const [value, rawParams] of [
            ['a\u0000b', false],
            ['%E0', true],
          ] as const) {
            const bad = Object.fromEntries(Object.keys(nothing).map((name) => [name, value]));
            const res = await expectCall(400, method, path, { params: bad, rawParams });
            expect(res.body.errors).toEqual([expect.objectContaining({ parameter: 'path' })]);
          }
        }
        if ('401' in responses) await expectCall(401, method, path, { params });
        if ('403' in responses) {
          // Every operation needs one scope: a read-only or a submit-only key lacks it.
          // An event stream a key may open never ends: probe it only with a key it refuses.
          const streams = JSON.stringify(responses['200'] ?? {}).includes('text/event-stream');
          const statuses: number[] = [];
          for (const key of streams ? [keys.submitOnly] : [keys.reader, keys.submitOnly]) {
            statuses.push((await call(method, path, { params, key })).status);
            if (statuses.includes(403)) break;
          }
          expect(statuses, `${method} ${path}`).toContain(403);
        }
        if ('429' in responses) {
          while (api.services.rateLimiter.take(`key:${limitedKeyId}`).allowed) {
            // Empty the key's bucket.
          }
          await expectCall(429, method, path, { params, key: keys.limited });
        }
        const content = (operation.spec.requestBody as { content?: Record<string, unknown> } | undefined)
          ?.content;
        if (content?.['application/json'] !== undefined) {
          const key = keys.admin;
          const json = { 'content-type': 'application/json' };
          await expectCall(400, method, path, { params, key, raw: '{"kind":', headers: json });
          const tooLarge = JSON.stringify({ kind: 'x'.repeat(1024 * 1024) });
          await expectCall(413, method, path, { params, key, raw: tooLarge, headers: json });
          await expectCall(415, method, path, {
            params,
            key,
            raw: 'kind=x',
            headers: { 'content-type': 'text/plain' },
          });
          const utf16 = { 'content-type': 'application/json; charset=utf-16le' };
          await expectCall(415, method, path, { params, key, raw: '{}', headers: utf16 });
          const gzip = { ...json, 'content-encoding': 'gzip' };
          await expectCall(400, method, path, { params, key, raw: 'not gzip', headers: gzip });
          const deep = `${'['.repeat(65)}${']'.repeat(65)}`;
          await expectCall(422, method, path, { params, key, raw: deep, headers: json });
          const wide = JSON.stringify(
            Object.fromEntries(Array.from({ length: 10_001 }, (_, i) => [`k${i}`, 0])),
          );
          await expectCall(422, method, path, { params, key, raw: wide, headers: json });
        }
        if ('431' in responses) {
          // Node.js answers before the app; `send` skips nothing the check needs.
          await expectCall(431, method, path, { headers: { 'x-padding': 'x'.repeat(20_000) } });
        }
      }
    });

    it('answers 429 on every authenticated operation once an address presents too many unknown keys', async () => {
      // Last: past its budget, the address is refused for keys this process has not cached too.
      // The budget refills meanwhile, so each operation is sent unknown keys until it refuses one
      // (the burst, then one key per refilled token).
      let unknown = 0;
      for (const { method, path, spec } of contract.operations()) {
        if (!('401' in (spec.responses as Record<string, unknown>))) continue;
        let res: ContractResponse;
        do {
          unknown += 1;
          res = await call(method, path, { params: nothing, key: `unknown-contract-key-${unknown}` });
        } while (res.status === 401 && unknown < 10_000);
        expect(res.status, `${method} ${path}`).toBe(429);
        expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
      }
    });

    it('has exercised every documented status of every operation', () => {
      expect(contract.unexercised(databaseAway)).toEqual([]);
    });
  });
}

describe.skipIf(!testDatabases().includes('postgres'))(
  'the OpenAPI contract, database away (postgres)',
  () => {
    let stack: Awaited<ReturnType<typeof startProxiedApi>>;
    let proxy: CuttableProxy;
    let api: TestApi;
    let contract: Contract;
    let key = '';

    beforeAll(async () => {
      stack = await startProxiedApi();
      ({ api, proxy } = stack);
      key = (await createApiKey(api.testDb.db, { name: 'away', owner: 'away', scopes: ['admin'] })).key;
      const document = await fetch(`${api.url}/v1/openapi.json`).then((res) => res.json());
      contract = new Contract(document as Record<string, unknown>);
    });
    afterAll(() => stack?.close());

    it('answers every operation that needs the database with its documented 503', async () => {
      await proxy.down();
      for (const operation of contract.operations()) {
        const { method, path } = operation;
        if (!('503' in (operation.spec.responses as Record<string, unknown>))) continue;
        const url = api.url + path.replace(/\{(\w+)\}/g, '999999');
        const response = await fetch(url, { method, headers: { authorization: `Bearer ${key}` } });
        const text = await response.text();
        contract.check(method, path, {
          status: response.status,
          headers: response.headers,
          text,
          body: text,
        });
        expect(response.status, `${method} ${path}: ${text.slice(0, 200)}`).toBe(503);
        if (path === '/readyz') expect(JSON.parse(text).checks.database).toEqual({ status: 'failing' });
      }
      // Every 503 the first blocks left to this one was seen here.
      const seen = contract.unexercised(
        (operation, status, response) => !databaseAway(operation, status, response),
      );
      expect(seen).toEqual([]);
    });

    it('answers a database that refuses connections (SQLSTATE 55000) with the same documented 503', async () => {
      await proxy.down();
      // ALTER DATABASE from a connection to another one: a database cannot refuse its own session.
      const url = new URL(api.testDb.databaseUrl);
      const name = url.pathname.slice(1);
      url.pathname = '/postgres';
      const admin = createDb({ databaseUrl: url.toString(), poolMax: 1 });
      const allow = (on: boolean) =>
        admin.knex.raw(`alter database ${admin.knex.raw('??', [name])} with allow_connections ${on}`);
      // The API's connections went with the cut; the new ones it opens are refused by the server.
      await allow(false);
      try {
        await proxy.up();
        const response = await fetch(`${api.url}/v1/jobs`, { headers: { authorization: `Bearer ${key}` } });
        const text = await response.text();
        contract.check('GET', '/v1/jobs', {
          status: response.status,
          headers: response.headers,
          text,
          body: text,
        });
        expect(response.status, text).toBe(503);
        expect(JSON.parse(text).type).toBe('urn:offload:problem:database-unavailable');
      } finally {
        await allow(true);
        await admin.destroy();
      }
    });
  },
);
