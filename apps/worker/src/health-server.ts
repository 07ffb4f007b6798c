// The worker's only HTTP surface (WORKER_PORT): liveness, readiness and Prometheus metrics.
// It serves nothing else; a worker never handles API traffic.
//
//   GET /healthz  200 while the process runs (no dependency checks: a restart would not help).
//   GET /readyz   200 when every check passes within its time limit and the worker is not
//                 stopping; 503 otherwise. The body is the API's (@offload/api schemas.ts
//                 `readiness`): `{ status, checks: { name: { status: ok | failing } } }`.
//   GET /metrics  Prometheus text exposition.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReadinessCheck {
  name: string;
  /** Resolves when the dependency answers; rejects (or outlasts the time limit) otherwise. */
  run(): Promise<void>;
}

export interface HealthServerOptions {
  port: number;
  host?: string;
  checks: readonly ReadinessCheck[];
  /** True once shutdown began: readiness then answers 503. */
  stopping: () => boolean;
  metrics: { render(): Promise<string>; contentType: string };
  /** Told why a check failed (for the log). */
  onCheckFailed?: (name: string, error: unknown) => void;
  /** Per check. Default 2 s. */
  checkTimeoutMs?: number;
}

export interface HealthServer {
  /** The bound port (WORKER_PORT, or the one the system chose for port 0). */
  readonly port: number;
  close(): Promise<void>;
}

export async function startHealthServer(options: HealthServerOptions): Promise<HealthServer> {
  const checkTimeoutMs = options.checkTimeoutMs ?? 2_000;

  async function readiness(): Promise<{ ready: boolean; body: Record<string, unknown> }> {
    const results = await Promise.all(
      options.checks.map(async (check) => {
        try {
          await withTimeout(
            check.run(),
            checkTimeoutMs,
            `${check.name} did not answer within ${checkTimeoutMs} ms`,
          );
          return [check.name, { status: 'ok' }] as const;
        } catch (error) {
          // Why goes to the log: the body is the API's readiness shape, and an unauthenticated
          // caller learns which check failed, never a driver's message.
          options.onCheckFailed?.(check.name, error);
          return [check.name, { status: 'failing' }] as const;
        }
      }),
    );
    const stopping = options.stopping();
    const ready = !stopping && results.every(([, result]) => result.status === 'ok');
    return {
      ready,
      body: {
        status: ready ? 'ready' : stopping ? 'stopping' : 'unavailable',
        checks: Object.fromEntries(results),
      },
    };
  }

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://worker').pathname;
    const route = ROUTES.has(path) ? path : undefined;
    if (route === undefined) return problem(res, 404, 'Not Found');
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('allow', 'GET, HEAD');
      return problem(res, 405, 'Method Not Allowed');
    }
    if (route === '/healthz') return json(res, 200, { status: 'ok' });
    if (route === '/readyz') {
      const { ready, body } = await readiness();
      return json(res, ready ? 200 : 503, body);
    }
    const text = await options.metrics.render();
    res.writeHead(200, { 'content-type': options.metrics.contentType }).end(text);
  }

  const server = http.createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent)
        problem(res, 500, 'Internal Server Error', error instanceof Error ? error.message : undefined);
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

const ROUTES: ReadonlySet<string> = new Set(['/healthz', '/readyz', '/metrics']);

function json(res: http.ServerResponse, status: number, body: unknown): void {
  res
    .writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' })
    .end(JSON.stringify(body));
}

function problem(res: http.ServerResponse, status: number, title: string, detail?: string): void {
  res.writeHead(status, { 'content-type': 'application/problem+json' });
  res.end(
    JSON.stringify({ type: 'about:blank', title, status, ...(detail === undefined ? {} : { detail }) }),
  );
}

function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
