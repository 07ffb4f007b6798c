// A small keep-alive HTTP load generator, run as its own process so that it does not share the
// server's event loop: `connections` loops, each sending its next GET as soon as the previous
// answer is read, over one keep-alive Agent, for `durationMs`. Prints one JSON line:
// { requests, errors, seconds, rps, p50Ms, p99Ms }.
//
//   node apps/api/bench/load-loop.ts <url> <connections> <durationMs> [authorization]
import http from 'node:http';

export interface LoadResult {
  requests: number;
  errors: number;
  seconds: number;
  rps: number;
  p50Ms: number;
  p99Ms: number;
}

export async function runLoad(
  url: string,
  connections: number,
  durationMs: number,
  authorization?: string,
): Promise<LoadResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: connections });
  const target = new URL(url);
  const headers: Record<string, string> = authorization === undefined ? {} : { authorization };
  const latencies: number[] = [];
  let requests = 0;
  let errors = 0;
  const started = performance.now();
  const deadline = started + durationMs;

  const once = () =>
    new Promise<void>((resolve) => {
      const t0 = performance.now();
      const req = http.get(
        { agent, host: target.hostname, port: target.port, path: target.pathname + target.search, headers },
        (res) => {
          res.on('data', () => {});
          res.on('end', () => {
            if (res.statusCode === 200) {
              requests += 1;
              latencies.push(performance.now() - t0);
            } else errors += 1;
            resolve();
          });
        },
      );
      req.on('error', () => {
        errors += 1;
        resolve();
      });
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
    seconds,
    rps: requests / seconds,
    p50Ms: Math.round(at(0.5) * 100) / 100,
    p99Ms: Math.round(at(0.99) * 100) / 100,
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [url, connections, durationMs, authorization] = process.argv.slice(2);
  if (url === undefined || connections === undefined || durationMs === undefined) {
    process.stderr.write('usage: load-loop.ts <url> <connections> <durationMs> [authorization]\n');
    process.exit(2);
  }
  const result = await runLoad(url, Number(connections), Number(durationMs), authorization);
  process.stdout.write(`${JSON.stringify(result)}\n`);
}
