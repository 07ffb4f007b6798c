// A client of the Offload API written against types generated from its OpenAPI document
// (`npm run generate` → src/schema.ts, with openapi-typescript) and called with openapi-fetch:
// a change of the contract breaks this file at compile time. It submits a job and follows it to
// completion, pages the jobs, imports examples/models.csv and reads the KPI.
//
//   OFFLOAD_URL   the API (default http://localhost:3000)
//   API_KEY       a key with the submit and read scopes (default: API_BOOTSTRAP_KEY)
import { readFile } from 'node:fs/promises';
import createClient from 'openapi-fetch';
import type { components, paths } from './schema.ts';

type Job = components['schemas']['Job'];

const baseUrl = process.env.OFFLOAD_URL ?? 'http://localhost:3000';
const key = process.env.API_KEY ?? process.env.API_BOOTSTRAP_KEY;
if (key === undefined) throw new Error('set API_KEY (or API_BOOTSTRAP_KEY) to an API key');

const api = createClient<paths>({ baseUrl, headers: { Authorization: `Bearer ${key}` } });

/** The body of an answer, or an error carrying the problem document the API sent. */
function ok<T>(what: string, answer: { data?: T; error?: unknown; response: Response }): T {
  if (answer.data === undefined) {
    throw new Error(`${what}: ${answer.response.status} ${JSON.stringify(answer.error)}`);
  }
  return answer.data;
}

const ENDED: ReadonlySet<Job['state']> = new Set(['completed', 'failed', 'cancelled']);

/** Polls the job until it ends (GET /v1/jobs/{id}/events would push the same states). */
async function untilEnded(id: string, timeoutMs = 60_000): Promise<Job> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const job = ok('get job', await api.GET('/v1/jobs/{id}', { params: { path: { id } } }));
    if (ENDED.has(job.state)) return job;
    if (Date.now() > deadline) throw new Error(`job ${id} still ${job.state} after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

// 1. Submit a job and follow it to completion.
const submitted = ok(
  'submit',
  await api.POST('/v1/jobs', { body: { kind: 'system.echo', payload: { sleepMs: 200, cpuMs: 20 } } }),
);
console.log(`submitted ${submitted.kind} ${submitted.id}: ${submitted.state}`);
const done = await untilEnded(submitted.id);
console.log(`job ${done.id}: ${done.state}, result ${JSON.stringify(done.result)}`);
if (done.state !== 'completed') throw new Error(`the job ended ${done.state}`);

// 2. Page through the jobs, two at a time, following nextCursor (three pages at most).
let cursor: string | undefined;
for (let page = 1; page <= 3; page += 1) {
  const query = cursor === undefined ? { limit: 2 } : { limit: 2, cursor };
  const jobs = ok('list jobs', await api.GET('/v1/jobs', { params: { query } }));
  console.log(`page ${page}: ${jobs.items.map((job) => `${job.kind}:${job.state}`).join(', ')}`);
  if (jobs.nextCursor === null) break;
  cursor = jobs.nextCursor;
}

// 3. Import the example models (the CSV itself is the body) and wait for the import job.
const csv = await readFile(new URL('../../models.csv', import.meta.url), 'utf8');
const upload = ok(
  'import',
  await api.POST('/v1/imports', {
    params: { query: { entity: 'models' } },
    body: csv,
    bodySerializer: (body) => body,
    headers: { 'Content-Type': 'text/csv' },
  }),
);
await untilEnded(upload.id);
const imported = ok('get import', await api.GET('/v1/imports/{id}', { params: { path: { id: upload.id } } }));
console.log(`import ${imported.id}: ${imported.state}, ${JSON.stringify(imported.counts)}`);
if (imported.state !== 'completed' || imported.counts.rejected !== 0) {
  throw new Error(`the import ended ${imported.state} with ${imported.counts.rejected} rows rejected`);
}

// 4. Read the KPI of the whole inventory, then of one region.
const kpi = ok('kpi', await api.GET('/v1/kpi'));
console.log(`KPI as of ${kpi.asOf}: ${kpi.activeModels} active models, ${kpi.pctCompliant}% compliant`);
const emea = ok('kpi EMEA', await api.GET('/v1/kpi', { params: { query: { region: 'EMEA' } } }));
console.log(`EMEA: ${emea.activeModels} active models, ${emea.byBucket.nonCompliant} non-compliant`);
