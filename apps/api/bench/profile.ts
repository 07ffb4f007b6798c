// CPU profiles of a benchmark's serving process (the V8 profiler of this process, the load coming
// from another): written as .cpuprofile for a viewer, and summarised for the report by package,
// by function (natives charged to the package frame that called them) and by our functions,
// inclusive. Used by submit-bench.ts and reads-bench.ts (--profile DIR).
import { mkdirSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { dirname } from 'node:path';
import { fmt, type Measured } from './harness.ts';

export interface ProfileSummary<T> {
  target: T;
  file: string;
  /** Busy (not idle) time the profile covers, in ms. */
  busyMs: number;
  requests: number;
  /** By the innermost package frame on the stack (see summarise). */
  functions: ProfileLine[];
  packages: Array<{ name: string; share: number }>;
  /** Our functions, inclusive of what they call. */
  ours: ProfileLine[];
}

export interface ProfileLine {
  name: string;
  where: string;
  share: number;
}

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}

interface CpuProfile {
  nodes: Array<{ id: number; callFrame: CallFrame; children?: number[] }>;
  samples: number[];
  timeDeltas: number[];
}

/** Runs `measured` under the V8 CPU profiler of this process, writes the profile, summarises it. */
export async function profiled<T>(
  target: T,
  file: string,
  measured: () => Promise<Measured>,
): Promise<ProfileSummary<T>> {
  const session = new Session();
  session.connect();
  try {
    await session.post('Profiler.enable');
    await session.post('Profiler.setSamplingInterval', { interval: 100 });
    await session.post('Profiler.start');
    const m = await measured();
    const { profile } = (await session.post('Profiler.stop')) as unknown as { profile: CpuProfile };
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, JSON.stringify(profile));
    return { ...summarise(profile), target, file, requests: m.requests };
  } finally {
    session.disconnect();
  }
}

const IDLE = new Set(['(idle)', '(program)']);

/** The benchmark's own work: spawning and reading the load process, the profiler, the /proc reads. */
const isBenchWork = (frame: CallFrame): boolean =>
  frame.url === 'node:inspector' ||
  frame.url.endsWith('/bench/harness.ts') ||
  (frame.url.endsWith('/bench/submit-bench.ts') && frame.functionName === 'databaseCpu');
const NODE_MODULE = /.*\/node_modules\/((?:@[^/]+\/)?[^/]+)\/(.*)$/;
const WORKSPACE = /\/(apps|packages)\/([^/]+)\/(.*)$/;
const NO_PACKAGE = 'Node.js, V8 (no package on the stack)';

/** An npm package's or one of ours (a workspace's), or null for Node.js and V8 themselves. */
function packageOf(url: string): string | null {
  const dep = NODE_MODULE.exec(url);
  if (dep !== null) return dep[1]!;
  const own = WORKSPACE.exec(url);
  if (own !== null) return own[1] === 'apps' ? `apps/${own[2]}` : `@offload/${own[2]}`;
  return null;
}

function shortUrl(url: string): string {
  const dep = NODE_MODULE.exec(url);
  if (dep !== null) return `${dep[1]}/${dep[2]}`;
  const own = WORKSPACE.exec(url);
  if (own !== null) return `${own[1]}/${own[2]}/${own[3]}`;
  return url.replace(/^file:\/\//, '');
}

const frameKey = (frame: CallFrame) =>
  `${frame.functionName || '(anonymous)'}\u0000${frame.url === '' ? '' : `${shortUrl(frame.url)}:${frame.lineNumber + 1}`}`;

/**
 * Where the busy time went. Each sample is charged to the innermost frame of a package on its
 * stack, ours or npm's, so that a native (a socket write, a SQLite step, JSON.stringify) counts
 * for the code that asked for it; "our code, inclusive" is the time spent in or under each of our
 * functions. Samples of the benchmark's own work (the load process spawn, the profiler) are left
 * out, as are idle ones.
 */
function summarise(profile: CpuProfile): Omit<ProfileSummary<unknown>, 'target' | 'file' | 'requests'> {
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const parents = new Map<number, number>();
  for (const n of profile.nodes) for (const child of n.children ?? []) parents.set(child, n.id);
  const charged = new Map<string, number>();
  const byPackage = new Map<string, number>();
  const inclusive = new Map<string, number>();
  const add = (map: Map<string, number>, key: string, us: number) => map.set(key, (map.get(key) ?? 0) + us);
  let busyUs = 0;
  profile.samples.forEach((leaf, i) => {
    const stack: CallFrame[] = [];
    for (let id: number | undefined = leaf; id !== undefined; id = parents.get(id))
      stack.push(nodes.get(id)!.callFrame);
    if (IDLE.has(stack[0]!.functionName)) return;
    if (stack.some(isBenchWork)) return;
    const us = profile.timeDeltas[i] ?? 0;
    busyUs += us;
    const owner = stack.find((f) => packageOf(f.url) !== null);
    add(charged, frameKey(owner ?? stack[0]!), us);
    add(byPackage, owner === undefined ? NO_PACKAGE : packageOf(owner.url)!, us);
    const ours = new Set(stack.filter((f) => WORKSPACE.test(f.url)).map(frameKey));
    for (const key of ours) add(inclusive, key, us);
  });
  const share = (us: number) => us / Math.max(1, busyUs);
  const top = (map: Map<string, number>, n: number) =>
    [...map.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([key, us]) => {
        const [name, where] = key.split('\u0000') as [string, string];
        return { name, where, share: share(us) };
      });
  return {
    busyMs: busyUs / 1000,
    functions: top(charged, 15),
    ours: top(inclusive, 15),
    packages: [...byPackage.entries()]
      .sort((a, b) => b[1] - a[1])
      .map(([name, us]) => ({ name, share: share(us) })),
  };
}

export const pct = (share: number) => `${(share * 100).toFixed(1)} %`;

const profileTable = (what: string, measure: string, rows: ProfileLine[]): string[] => [
  `| ${what} | where | ${measure} |`,
  '|---|---|---:|',
  ...rows.map((f) => `| \`${f.name}\` | ${f.where === '' ? '—' : `\`${f.where}\``} | ${pct(f.share)} |`),
  '',
];

/** Said when a report has profile tables (--profile). */
export const READING_PROFILES: readonly string[] = [
  'The function tables charge natives to the package frame that called them; "our function,',
  'inclusive" counts only the synchronous part of a call (what runs after an await shows under',
  'the callback that resumed it). Profiled runs are slower than unprofiled ones.',
  '',
];

/** A profile's section of a report: its packages, functions and our functions. */
export function profileSection(title: string, p: ProfileSummary<unknown>): string[] {
  return [
    `### Profile: ${title}`,
    '',
    `${fmt(p.requests)} requests, ${fmt(p.busyMs)} ms of busy CPU in the serving process (${fmt((p.busyMs * 1000) / Math.max(1, p.requests))} µs per request, the profiler's sampling included). Shares are of that busy time; a sample counts for the innermost package frame on its stack, so natives (socket writes, SQLite, JSON) count for the code that called them. Profile: \`${p.file}\`.`,
    '',
    '| package | share |',
    '|---|---:|',
    ...p.packages.filter((x) => x.share >= 0.005).map((x) => `| ${x.name} | ${pct(x.share)} |`),
    '',
    ...profileTable('function (with the natives it called)', 'share', p.functions),
    ...profileTable('our function', 'inclusive', p.ours),
  ];
}
