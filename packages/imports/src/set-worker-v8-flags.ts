// Sets WORKER_V8_FLAGS as a side effect of being imported. A process's entry point imports it
// FIRST (`import '@offload/imports/set-worker-v8-flags';` in apps/worker/src/main.ts), so the flags
// are in force before its other modules are evaluated: set later, once knex, pg and the rest
// have grown the heap, they help much less (peak RSS 155 MB instead of 120 MB for 10 MB on
// PostgreSQL, measured with bench/import-child.ts).
import { applyWorkerV8Flags } from './v8-flags.ts';

applyWorkerV8Flags();
