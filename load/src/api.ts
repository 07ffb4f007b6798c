// What the runner asks the API before loading it: the OpenAPI document (which flows can run,
// which job kinds exist) and, when the catalog has `rebuild.kpi`, a KPI rebuild waited for to
// the end, so that the precomputed reads have something to serve.
const TERMINAL = new Set(['completed', 'failed', 'cancelled']);
const JOB_TIMEOUT_MS = 600_000;

export interface OpenApiDocument {
  paths?: Record<string, Record<string, unknown>>;
}

export class ApiError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ApiError';
  }
}

export async function fetchOpenApi(
  target: string,
  apiKey: string,
): Promise<{ doc: OpenApiDocument; text: string }> {
  const response = await fetch(`${target}/v1/openapi.json`, {
    headers: { authorization: `Bearer ${apiKey}` },
  });
  const text = await response.text();
  if (response.status !== 200)
    throw new ApiError(`GET /v1/openapi.json answered ${response.status}: ${text}`);
  return { doc: JSON.parse(text) as OpenApiDocument, text };
}

/** Whether the catalog (as the OpenAPI document shows it) has a job kind. */
export function hasJobKind(openapiText: string, kind: string): boolean {
  return openapiText.includes(JSON.stringify(kind));
}

/** Submits a job and polls it until it ends; it must end completed. Returns the time taken. */
export async function runJob(
  target: string,
  apiKey: string,
  kind: string,
  payload: unknown,
): Promise<number> {
  const started = performance.now();
  const headers = { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' };
  const submitted = await fetch(`${target}/v1/jobs`, {
    method: 'POST',
    headers,
    body: JSON.stringify({ kind, payload }),
  });
  const job = (await submitted.json()) as { id?: string; state?: string };
  if (submitted.status !== 202 || job.id === undefined) {
    throw new ApiError(`POST /v1/jobs ${kind} answered ${submitted.status}: ${JSON.stringify(job)}`);
  }
  const deadline = Date.now() + JOB_TIMEOUT_MS;
  let state = job.state ?? 'queued';
  let last: unknown = job;
  while (!TERMINAL.has(state)) {
    if (Date.now() > deadline)
      throw new ApiError(`${kind} job ${job.id} still ${state} after ${JOB_TIMEOUT_MS} ms`);
    await new Promise((resolve) => setTimeout(resolve, 250));
    const response = await fetch(`${target}/v1/jobs/${encodeURIComponent(job.id)}`, { headers });
    last = await response.json();
    state = (last as { state?: string }).state ?? state;
  }
  if (state !== 'completed')
    throw new ApiError(`${kind} job ${job.id} ended ${state}: ${JSON.stringify(last)}`);
  return performance.now() - started;
}
