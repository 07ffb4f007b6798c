// A small keep-alive HTTP load generator, run as its own process so that it does not share the
// server's event loop: `connections` loops, each sending its next request as soon as the
// previous answer is read, over one keep-alive Agent, for `durationMs`. Prints one JSON line:
// { requests, errors, errorStatuses, seconds, rps, p50Ms, p99Ms }.
//
// GET by default. With --body it sends the body (JSON) with --method (POST unless given); every
// `{{seq}}` in the body and in --header values becomes the request's sequence number in this
// run (1, 2, …), so that no two requests carry the same body or, say, the same Idempotency-Key.
// Only the --accept status codes count as answers (200 for GET; 200, 201 and 202 for any other
// method unless given): anything else, 4xx or 5xx, is an error.
//
//   node apps/api/bench/load-loop.ts <url> <connections> <durationMs> [authorization]
//        [--method POST] [--body '{"n":{{seq}}}'] [--header 'name: value'…] [--accept 201,202]
import http from 'node:http';
import { parseArgs } from 'node:util';

export interface LoadResult {
  requests: number;
  /** Answers outside the accepted statuses, and requests that failed without an answer. */
  errors: number;
  /** The errors by status code ("network" for no answer), to say what went wrong. */
  errorStatuses: Record<string, number>;
  seconds: number;
  rps: number;
  p50Ms: number;
  p99Ms: number;
}

export interface LoadRequest {
  authorization?: string;
  /** GET unless given; POST when there is a body and no method. */
  method?: string;
  /** JSON text sent with `content-type: application/json`; `{{seq}}` is replaced per request. */
  body?: string;
  /** Extra headers; `{{seq}}` in a value is replaced per request. */
  headers?: Readonly<Record<string, string>>;
  /** The status codes that count as answers. */
  accept?: readonly number[];
}

const SEQ = /\{\{seq\}\}/g;
const GET_ACCEPTS: readonly number[] = [200];
const WRITE_ACCEPTS: readonly number[] = [200, 201, 202];

export async function runLoad(
  url: string,
  connections: number,
  durationMs: number,
  request: LoadRequest = {},
): Promise<LoadResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: connections });
  const target = new URL(url);
  const method = request.method ?? (request.body === undefined ? 'GET' : 'POST');
  const accept = new Set(request.accept ?? (method === 'GET' ? GET_ACCEPTS : WRITE_ACCEPTS));
  const fixedHeaders: Record<string, string> = {
    ...(request.authorization === undefined ? {} : { authorization: request.authorization }),
    ...(request.body === undefined ? {} : { 'content-type': 'application/json' }),
  };
  const templated = Object.entries(request.headers ?? {});
  const latencies: number[] = [];
  const errorStatuses: Record<string, number> = {};
  let requests = 0;
  let errors = 0;
  let seq = 0;
  const started = performance.now();
  const deadline = started + durationMs;
  const fail = (status: string) => {
    errors += 1;
    errorStatuses[status] = (errorStatuses[status] ?? 0) + 1;
  };

  const once = () =>
    new Promise<void>((resolve) => {
      seq += 1;
      const n = String(seq);
      const headers = { ...fixedHeaders };
      for (const [name, value] of templated) headers[name] = value.replace(SEQ, n);
      const body = request.body?.replace(SEQ, n);
      if (body !== undefined) headers['content-length'] = String(Buffer.byteLength(body));
      const t0 = performance.now();
      const req = http.request(
        {
          agent,
          method,
          host: target.hostname,
          port: target.port,
          path: target.pathname + target.search,
          headers,
        },
        (res) => {
          res.on('data', () => {});
          res.on('end', () => {
            if (res.statusCode !== undefined && accept.has(res.statusCode)) {
              requests += 1;
              latencies.push(performance.now() - t0);
            } else fail(String(res.statusCode));
            resolve();
          });
        },
      );
      req.on('error', () => {
        fail('network');
        resolve();
      });
      req.end(body);
    });

  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (performance.now() < deadline) await once();
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  agent.destroy();
  latencies.sort((a, b) => a - b);
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0;
  return {
    requests,
    errors,
    errorStatuses,
    seconds,
    rps: requests / seconds,
    p50Ms: Math.round(at(0.5) * 100) / 100,
    p99Ms: Math.round(at(0.99) * 100) / 100,
  };
}

const USAGE =
  'usage: load-loop.ts <url> <connections> <durationMs> [authorization] [--method M] [--body JSON] [--header "name: value"]… [--accept 200,201]\n';

function usage(): never {
  process.stderr.write(USAGE);
  process.exit(2);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      method: { type: 'string' },
      body: { type: 'string' },
      header: { type: 'string', multiple: true },
      accept: { type: 'string' },
    },
  });
  const [url, connections, durationMs, authorization] = positionals;
  if (url === undefined || connections === undefined || durationMs === undefined) usage();
  const headers: Record<string, string> = {};
  for (const line of values.header ?? []) {
    const colon = line.indexOf(':');
    if (colon < 1) usage();
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  const accept = values.accept?.split(',').map(Number);
  if (accept?.some((code) => !Number.isInteger(code) || code < 100 || code > 599)) usage();
  const result = await runLoad(url, Number(connections), Number(durationMs), {
    ...(authorization === undefined ? {} : { authorization }),
    ...(values.method === undefined ? {} : { method: values.method.toUpperCase() }),
    ...(values.body === undefined ? {} : { body: values.body }),
    headers,
    ...(accept === undefined ? {} : { accept }),
  });
  process.stdout.write(`${JSON.stringify(result)}\n`);
}
