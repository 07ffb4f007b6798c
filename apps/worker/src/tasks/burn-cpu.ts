// Spins the thread for `ms` milliseconds of wall time: system.echo's stand-in for real CPU work,
// so tests and benchmarks can load the pool without depending on a domain computation.

export interface BurnCpuInput {
  ms: number;
}

export interface BurnCpuResult {
  /** Loop iterations done; varies with the machine, useful only as a sanity check. */
  iterations: number;
  elapsedMs: number;
}

export default function burnCpu({ ms }: BurnCpuInput): BurnCpuResult {
  const started = performance.now();
  let iterations = 0;
  let sink = 0;
  while (performance.now() - started < ms) {
    // Enough work per clock read that the loop measures CPU, not the clock.
    for (let i = 0; i < 1000; i += 1) sink = (sink * 31 + i) % 1_000_003;
    iterations += 1000;
  }
  return { iterations: iterations + (sink < 0 ? 1 : 0), elapsedMs: performance.now() - started };
}
