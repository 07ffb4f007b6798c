// V8 flags for the API process, set as a side effect of being imported: apps/api/src/main.ts
// imports this module FIRST, so they are in force before the other modules grow the heap (the
// worker does the same with `--optimize-for-size`, packages/imports/src/v8-flags.ts). Node.js
// reads `--max-semi-space-size` only at start-up, so a flag on the command line would have to be
// repeated by every launcher (npm scripts, load/, systemd, the image); these two are read by V8
// as it runs (docs/performance/memory.md):
//   --semi-space-growth-factor=1  the young generation stops growing at the size it reached while
//                                 the modules loaded (an ES module graph is read and type-stripped
//                                 before any of it runs: 8 MiB of new space here) instead of
//                                 doubling to 128 MiB under load, which the process then keeps;
//   --heap-growing-percent=20     the old generation may grow 20 % past what the last full
//                                 collection kept, instead of V8's dynamic factor (up to 4×).
// Measured at full speed (wrk, the load mix, SQLite): RSS 290-306 → 143-168 MB, CPU a request
// up to +25 % (more scavenges); at 50 req/s the CPU is a few percent of a core either way.
import { setFlagsFromString } from 'node:v8';

export const API_V8_FLAGS: readonly string[] = ['--semi-space-growth-factor=1', '--heap-growing-percent=20'];

for (const flag of API_V8_FLAGS) setFlagsFromString(flag);
