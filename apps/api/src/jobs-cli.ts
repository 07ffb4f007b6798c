// `npm run jobs -- <command>`: operate jobs from a terminal or a script, over the public HTTP API
// (the same endpoints the console uses, with the same scopes), never the database.
//
//   list   [--kind K] [--state S] [--owner O] [--from T] [--before T] [--id PREFIX] [--limit N] [--cursor C] [--json]
//   show   <id>
//   retry  <id>
//   cancel <id>
//   retry-failed  [--kind K] [--owner O] [--from T] [--before T] [--limit N] [--dry-run]
//   cancel-queued [--kind K] [--owner O] [--from T] [--before T] [--limit N] [--dry-run]
//
// Where and as whom, read once at start:
//   OFFLOAD_URL       the API's base URL; default http://127.0.0.1:$PORT (PORT default 3000).
//   OFFLOAD_API_KEY   the key sent as a Bearer header; default API_BOOTSTRAP_KEY.
// A bad argument exits 2 with the usage; an error from the API exits 1 with its problem detail.
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from '@offload/config';
import { JOB_STATES } from '@offload/queue';
import { MAX_BULK_JOBS } from './schemas.ts';

const BULK_OPTIONS = `[--kind <kind>] [--owner <owner>] [--from <ISO instant>] [--before <ISO instant>] [--limit 1-${MAX_BULK_JOBS}] [--dry-run]`;

const USAGE = `usage:
  npm run jobs -- list [--kind <kind>] [--state <${JOB_STATES.join('|')}>] [--owner <owner>] [--from <ISO instant>] [--before <ISO instant>] [--id <id or its start>] [--limit 1-100] [--cursor <cursor>] [--json]
  npm run jobs -- show <id>
  npm run jobs -- retry <id>
  npm run jobs -- cancel <id>
  npm run jobs -- retry-failed ${BULK_OPTIONS}
  npm run jobs -- cancel-queued ${BULK_OPTIONS}
environment: OFFLOAD_URL (default http://127.0.0.1:$PORT), OFFLOAD_API_KEY (default API_BOOTSTRAP_KEY)`;

class UsageError extends Error {}

class ApiCallError extends Error {}

export interface JobsCliSettings {
  url: string;
  key: string | undefined;
}

export function loadJobsCliSettings(env: NodeJS.ProcessEnv): JobsCliSettings {
  const config = loadConfig(env);
  const url = (env.OFFLOAD_URL?.trim() || `http://127.0.0.1:${config.port}`).replace(/\/+$/, '');
  if (!/^https?:\/\/[^/]+/.test(url)) {
    throw new ConfigError([
      {
        variable: 'OFFLOAD_URL',
        message: `OFFLOAD_URL must be an http(s) URL such as http://127.0.0.1:3000 (got ${url})`,
      },
    ]);
  }
  return { url, key: env.OFFLOAD_API_KEY?.trim() || config.apiBootstrapKey };
}

interface JobLine {
  id: string;
  kind: string;
  state: string;
  attempts: number;
  maxAttempts: number;
  createdAt: string;
  error: { message: string } | null;
}

async function call(
  settings: JobsCliSettings,
  method: string,
  path: string,
  body?: unknown,
): Promise<unknown> {
  if (settings.key === undefined) {
    throw new UsageError('no API key: set OFFLOAD_API_KEY (create one with `npm run keys -- create`)');
  }
  let response: Response;
  try {
    response = await fetch(settings.url + path, {
      method,
      headers: {
        authorization: `Bearer ${settings.key}`,
        accept: 'application/json',
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  } catch {
    throw new ApiCallError(
      `cannot reach the API at ${settings.url} (is it running? \`npm start\`; or set OFFLOAD_URL)`,
    );
  }
  const text = await response.text();
  let answer: unknown;
  try {
    answer = text === '' ? undefined : JSON.parse(text);
  } catch {
    throw new ApiCallError(
      `${method} ${path}: ${response.status}, and the answer is not JSON (is ${settings.url} the Offload API? set OFFLOAD_URL)`,
    );
  }
  if (!response.ok) {
    const problem = answer as
      | { detail?: string; errors?: Array<{ pointer?: string; detail: string }> }
      | undefined;
    const fields = (problem?.errors ?? []).map((e) => `${e.pointer ?? ''} ${e.detail}`.trim());
    const detail = [problem?.detail ?? response.statusText, ...fields].join('; ');
    throw new ApiCallError(`${method} ${path}: ${response.status} ${detail}`);
  }
  return answer;
}

function oneId(rest: string[], command: string): string {
  const { positionals } = parseArgs({ args: rest, options: {}, allowPositionals: true, strict: true });
  if (positionals.length !== 1) throw new UsageError(`${command} takes exactly one job id`);
  const id = positionals[0]!;
  // An empty id would make the path /v1/jobs/ (the list), and '.' or '..' another path once resolved.
  if (id.trim() === '' || id === '.' || id === '..') {
    throw new UsageError(`${command} needs a job id (got ${JSON.stringify(id)})`);
  }
  return encodeURIComponent(id);
}

export async function runJobsCli(argv: string[], settings: () => JobsCliSettings): Promise<void> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h') {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  switch (command) {
    case 'list': {
      const { values, positionals } = parseArgs({
        args: rest,
        options: {
          kind: { type: 'string' },
          state: { type: 'string' },
          owner: { type: 'string' },
          limit: { type: 'string' },
          cursor: { type: 'string' },
          from: { type: 'string' },
          before: { type: 'string' },
          id: { type: 'string' },
          json: { type: 'boolean' },
        },
        allowPositionals: true,
        strict: true,
      });
      if (positionals.length > 0)
        throw new UsageError(`list takes no positional argument (got ${positionals[0]})`);
      if (values.state !== undefined && !(JOB_STATES as readonly string[]).includes(values.state)) {
        throw new UsageError(`--state must be one of ${JOB_STATES.join(', ')} (got ${values.state})`);
      }
      if (values.limit !== undefined && !/^(100|[1-9][0-9]?)$/.test(values.limit)) {
        throw new UsageError(`--limit must be an integer from 1 to 100 (got ${values.limit})`);
      }
      for (const name of ['kind', 'owner'] as const) {
        if (values[name]?.trim() === '') throw new UsageError(`--${name} must not be empty`);
      }
      const query = new URLSearchParams();
      checkInstants(values);
      if (values.id !== undefined && !/^[0-9a-fA-F-]{1,36}$/.test(values.id)) {
        throw new UsageError(`--id must be a job id or its start, hex digits and hyphens (got ${values.id})`);
      }
      for (const name of ['kind', 'state', 'owner', 'limit', 'cursor'] as const) {
        if (values[name] !== undefined) query.set(name, values[name]);
      }
      for (const [name, parameter] of [
        ['from', 'createdFrom'],
        ['before', 'createdBefore'],
        ['id', 'idPrefix'],
      ] as const) {
        if (values[name] !== undefined) query.set(parameter, values[name]);
      }
      const page = (await call(settings(), 'GET', `/v1/jobs${query.size > 0 ? `?${query}` : ''}`)) as {
        items: JobLine[];
        nextCursor: string | null;
      };
      if (values.json) {
        process.stdout.write(`${JSON.stringify(page, null, 2)}\n`);
        return;
      }
      for (const job of page.items) {
        process.stdout.write(
          `${job.id}  ${job.kind.padEnd(18)}  ${job.state.padEnd(9)}  ${job.attempts}/${job.maxAttempts}  ${job.createdAt}\n`,
        );
      }
      if (page.items.length === 0) process.stderr.write('no job matches\n');
      if (page.nextCursor !== null) process.stderr.write(`more: add --cursor ${page.nextCursor}\n`);
      return;
    }
    case 'show': {
      const job = await call(settings(), 'GET', `/v1/jobs/${oneId(rest, 'show')}`);
      process.stdout.write(`${JSON.stringify(job, null, 2)}\n`);
      return;
    }
    case 'retry':
    case 'cancel': {
      const job = (await call(settings(), 'POST', `/v1/jobs/${oneId(rest, command)}/${command}`)) as JobLine;
      process.stdout.write(`job ${job.id} (${job.kind}) is now ${job.state}\n`);
      return;
    }
    case 'retry-failed':
    case 'cancel-queued': {
      await bulk(settings, command, rest);
      return;
    }
    default:
      throw new UsageError(`unknown command ${JSON.stringify(command)}`);
  }
}

const INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/;

function checkInstants(values: { from?: string | undefined; before?: string | undefined }): void {
  for (const name of ['from', 'before'] as const) {
    const value = values[name];
    if (value !== undefined && (!INSTANT.test(value) || Number.isNaN(Date.parse(value)))) {
      throw new UsageError(
        `--${name} must be an ISO-8601 instant such as 2026-01-31T00:00:00Z (got ${value})`,
      );
    }
  }
}

/** retry-failed / cancel-queued: one call of the bulk endpoint, its count said in a sentence. */
async function bulk(
  settings: () => JobsCliSettings,
  command: 'retry-failed' | 'cancel-queued',
  rest: string[],
): Promise<void> {
  const { values, positionals } = parseArgs({
    args: rest,
    options: {
      kind: { type: 'string' },
      owner: { type: 'string' },
      from: { type: 'string' },
      before: { type: 'string' },
      limit: { type: 'string' },
      'dry-run': { type: 'boolean' },
    },
    allowPositionals: true,
    strict: true,
  });
  if (positionals.length > 0)
    throw new UsageError(`${command} takes no positional argument (got ${positionals[0]})`);
  for (const name of ['kind', 'owner'] as const) {
    if (values[name]?.trim() === '') throw new UsageError(`--${name} must not be empty`);
  }
  checkInstants(values);
  const limit = values.limit === undefined ? undefined : Number(values.limit);
  if (limit !== undefined && (!/^\d+$/.test(values.limit!) || limit < 1 || limit > MAX_BULK_JOBS)) {
    throw new UsageError(`--limit must be an integer from 1 to ${MAX_BULK_JOBS} (got ${values.limit})`);
  }
  const dryRun = values['dry-run'] ?? false;
  const result = (await call(settings(), 'POST', `/v1/jobs/${command}`, {
    ...(values.kind === undefined ? {} : { kind: values.kind }),
    ...(values.owner === undefined ? {} : { owner: values.owner }),
    ...(values.from === undefined ? {} : { createdFrom: values.from }),
    ...(values.before === undefined ? {} : { createdBefore: values.before }),
    ...(limit === undefined ? {} : { limit }),
    ...(dryRun ? { dryRun } : {}),
  })) as { count: number; more: boolean };
  const which = command === 'retry-failed' ? 'failed' : 'queued';
  const jobs = `${result.count} ${which} job${result.count === 1 ? '' : 's'}`;
  if (dryRun) {
    process.stdout.write(`${result.more ? 'at least ' : ''}${jobs} match\n`);
    return;
  }
  process.stdout.write(`${command === 'retry-failed' ? 'retried' : 'cancelled'} ${jobs}\n`);
  if (result.more) process.stderr.write('the limit was reached: more may match; run again for the rest\n');
}

if (import.meta.main) {
  runJobsCli(process.argv.slice(2), () => loadJobsCliSettings(process.env)).catch((error: unknown) => {
    if (error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`jobs: ${(error as Error).message}\n${USAGE}\n`);
      process.exit(2);
    }
    const message =
      error instanceof ConfigError ? `configuration error: ${error.message}` : (error as Error).message;
    process.stderr.write(`jobs: ${message}\n`);
    process.exit(1);
  });
}
