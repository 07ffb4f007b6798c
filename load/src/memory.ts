// Resident memory of the API and the worker through a run: VmRSS from /proc/<pid>/status every
// few seconds. In cluster mode the API is its primary plus the processes it forked, summed.
// Steady state is the median of the second half of the samples; growth is the least-squares
// slope over all samples after warm-up, in MB a minute, so a leak shows as a positive slope
// that a single noisy sample cannot fake.
import { readFileSync } from 'node:fs';

export interface MemorySample {
  atMs: number;
  mb: number;
}

export interface MemoryFigures {
  samples: number;
  startMb: number;
  steadyMb: number;
  peakMb: number;
  endMb: number;
  growthMbPerMinute: number;
}

export interface MemorySampler {
  /** Forgets the samples so far (call it when warm-up ends). */
  restart(): void;
  stop(): Record<string, MemoryFigures>;
}

/** Samples each named process tree every `intervalMs` until `stop`. */
export function sampleMemory(pids: Record<string, number>, intervalMs = 2000): MemorySampler {
  const series = new Map<string, MemorySample[]>(Object.keys(pids).map((name) => [name, []]));
  let started = performance.now();
  const take = () => {
    const atMs = performance.now() - started;
    for (const [name, pid] of Object.entries(pids)) {
      const kb = treeRssKb(pid);
      if (kb > 0) series.get(name)?.push({ atMs, mb: kb / 1024 });
    }
  };
  take();
  const timer = setInterval(take, intervalMs);
  return {
    restart() {
      started = performance.now();
      for (const samples of series.values()) samples.length = 0;
      take();
    },
    stop() {
      clearInterval(timer);
      take();
      return Object.fromEntries([...series].map(([name, samples]) => [name, summarise(samples)]));
    },
  };
}

function treeRssKb(pid: number): number {
  let total = rssKb(pid);
  for (const child of childPids(pid)) total += rssKb(child);
  return total;
}

function rssKb(pid: number): number {
  try {
    const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) : 0;
  } catch {
    return 0; // gone, or not Linux
  }
}

function childPids(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
      .trim()
      .split(/\s+/)
      .filter((text) => text !== '')
      .map(Number);
  } catch {
    return [];
  }
}

export function summarise(samples: readonly MemorySample[]): MemoryFigures {
  if (samples.length === 0) {
    return { samples: 0, startMb: 0, steadyMb: 0, peakMb: 0, endMb: 0, growthMbPerMinute: 0 };
  }
  const mbs = samples.map((s) => s.mb);
  const half = mbs.slice(Math.floor(mbs.length / 2)).sort((a, b) => a - b);
  return {
    samples: samples.length,
    startMb: round(mbs[0] ?? 0),
    steadyMb: round(half[Math.floor(half.length / 2)] ?? 0),
    peakMb: round(Math.max(...mbs)),
    endMb: round(mbs.at(-1) ?? 0),
    growthMbPerMinute: round(slope(samples) * 60_000),
  };
}

/** Least-squares slope of MB over milliseconds. */
function slope(samples: readonly MemorySample[]): number {
  const n = samples.length;
  if (n < 2) return 0;
  const meanT = samples.reduce((sum, s) => sum + s.atMs, 0) / n;
  const meanM = samples.reduce((sum, s) => sum + s.mb, 0) / n;
  let num = 0;
  let den = 0;
  for (const s of samples) {
    num += (s.atMs - meanT) * (s.mb - meanM);
    den += (s.atMs - meanT) ** 2;
  }
  return den === 0 ? 0 : num / den;
}

const round = (value: number): number => Math.round(value * 10) / 10;
