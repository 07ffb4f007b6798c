// V8 flags for a process that runs imports (the worker). An import holds about two batches and
// a slice of the file (live heap near 20 MiB), but over minutes of streaming V8's default
// heuristics let the heap fill with garbage up to 150 MiB before collecting it (RSS near 180-240
// MiB at 100 MB). `--optimize-for-size` keeps it near the live size (RSS ~125 MiB, flat from 10 MB
// to 1 GB; docs/performance/import-bench.md). Node.js refuses this flag in NODE_OPTIONS, so the
// process sets it itself, first thing: its entry point imports set-worker-v8-flags.ts before
// anything else, which measured as well as the command-line flag.
import { setFlagsFromString } from 'node:v8';

export const WORKER_V8_FLAGS: readonly string[] = ['--optimize-for-size'];

/** Sets WORKER_V8_FLAGS on this process (see set-worker-v8-flags.ts for when). */
export function applyWorkerV8Flags(): void {
  for (const flag of WORKER_V8_FLAGS) setFlagsFromString(flag);
}
