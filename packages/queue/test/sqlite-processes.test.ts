// Several processes on one SQLite file: claims never hand one job to two processes, and an idle
// consumer in another process is woken by a commit (PRAGMA data_version and the event log)
// without any poll of its own. The wake-up latency is printed, not asserted: figures come from
// benchmarks (DESIGN.md §6), tests only prove that the wake-up happens.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createSqliteBackend, type SqliteQueueBackend } from '../src/drivers/sqlite/backend.ts';

const BACKEND = new URL('../src/drivers/sqlite/backend.ts', import.meta.url).href;
let dir: string;
let path: string;
let queue: SqliteQueueBackend;
const children: ChildProcess[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'offload-sqlite-processes-'));
  path = join(dir, 'queue.db');
  queue = createSqliteBackend({ path });
  await queue.start();
});

afterAll(async () => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  await queue?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** Runs `script` (an ES module body; `argv` holds its arguments) in a child process. */
function child(script: string, args: string[]): { process: ChildProcess; lines: AsyncIterable<string> } {
  const proc = spawn(process.execPath, ['--input-type=module', '-e', script, ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.push(proc);
  return { process: proc, lines: createInterface({ input: proc.stdout! }) };
}

it('never hands one job to two processes claiming from one file', { timeout: 60_000 }, async () => {
  const kind = 'proc.claim';
  const total = 3000;
  for (let sent = 0; sent < total; sent += 500) {
    await queue.jobInsertMany(Array.from({ length: 500 }, (_, i) => ({ kind, payload: { n: sent + i } })));
  }
  // Each claims small random batches as fast as it can, completing each, until nothing is left.
  const script = `
    const { createSqliteBackend } = await import(${JSON.stringify(BACKEND)});
    const [path, kind] = process.argv.slice(1);
    const queue = createSqliteBackend({ path });
    await queue.start();
    const ids = [];
    for (;;) {
      const claimed = await queue.jobClaim({ kinds: [kind], limit: 1 + Math.floor(Math.random() * 20), workerId: String(process.pid) });
      if (claimed.length === 0) break;
      for (const c of claimed) ids.push(c.job.id);
      const stored = await queue.jobCompleteMany(claimed.map((c) => ({ id: c.job.id, leaseToken: c.leaseToken })));
      if (stored.some((outcome) => !outcome.stored)) throw new Error('a completion was refused');
    }
    await queue.stop();
    console.log(JSON.stringify(ids));
  `;
  const collect = async (lines: AsyncIterable<string>) => {
    for await (const line of lines) return JSON.parse(line) as string[];
    throw new Error('no output');
  };
  const [x, y] = await Promise.all([1, 2].map(() => collect(child(script, [path, kind]).lines)));
  const both = new Set([...x!, ...y!]);
  expect(x!.length).toBeGreaterThan(0);
  expect(y!.length).toBeGreaterThan(0);
  expect(x!.length + y!.length).toBe(total);
  expect(both.size).toBe(total);
  const counts = (await queue.jobCounts()).find((c) => c.kind === kind);
  expect(counts).toMatchObject({ completed: total, active: 0, queued: 0 });
  process.stderr.write(`two processes claimed ${x!.length} + ${y!.length} jobs, none twice\n`);
});

it('wakes an idle consumer in another process at once, with no poll', { timeout: 60_000 }, async () => {
  const kind = 'proc.wake';
  // The consumer claims only when onJobsAvailable calls it: a missed wake-up leaves a job waiting.
  const script = `
    const { createSqliteBackend } = await import(${JSON.stringify(BACKEND)});
    const [path, kind] = process.argv.slice(1);
    const queue = createSqliteBackend({ path });
    await queue.start();
    let claiming = false;
    let again = false;
    const claim = async () => {
      if (claiming) { again = true; return; }
      claiming = true;
      do {
        again = false;
        const claimed = await queue.jobClaim({ kinds: [kind], limit: 10, workerId: 'consumer' });
        const at = performance.timeOrigin + performance.now();
        for (const c of claimed) console.log('claimed ' + c.job.id + ' ' + at);
        await queue.jobCompleteMany(claimed.map((c) => ({ id: c.job.id, leaseToken: c.leaseToken })));
      } while (again);
      claiming = false;
    };
    await queue.onJobsAvailable([kind], () => void claim());
    console.log('ready');
  `;
  const consumer = child(script, [path, kind]);
  const lines = consumer.lines[Symbol.asyncIterator]();
  const nextLine = async (): Promise<string> => {
    const timeout = new Promise<never>((_, reject) =>
      setTimeout(() => reject(new Error('the consumer was not woken within 5 s')), 5000),
    );
    const { value, done } = await Promise.race([lines.next(), timeout]);
    if (done) throw new Error('the consumer exited');
    return value;
  };
  expect(await nextLine()).toBe('ready');

  const latencies: number[] = [];
  for (let i = 0; i < 120; i += 1) {
    await new Promise((resolve) => setTimeout(resolve, 5)); // idle again
    const sentAt = performance.timeOrigin + performance.now();
    const { job } = await queue.jobInsert({ kind, payload: { i } });
    const [verb, id, at] = (await nextLine()).split(' ');
    expect([verb, id]).toEqual(['claimed', job.id]);
    if (i >= 20) latencies.push(Number(at) - sentAt);
  }
  latencies.sort((p, q) => p - q);
  const pct = (p: number) =>
    latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))]!;
  process.stderr.write(
    `cross-process send-to-claim latency (n=${latencies.length}): p50 ${pct(50).toFixed(2)} ms, ` +
      `p95 ${pct(95).toFixed(2)} ms, p99 ${pct(99).toFixed(2)} ms, max ${latencies.at(-1)!.toFixed(2)} ms\n`,
  );
  consumer.process.kill('SIGTERM');
});
