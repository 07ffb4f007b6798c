// The task modules the pool runs, one per CPU-bound step. Handlers name a task by its ref; the
// ref's type comes from the module's default export, so input and output are checked.
import { taskRef } from '../pool.ts';
import type burnCpu from './burn-cpu.ts';
import type analyzeHealthBatch from './health-math.ts';

export const burnCpuTask = taskRef<typeof burnCpu>('burn-cpu', new URL('./burn-cpu.ts', import.meta.url));
export const healthMathTask = taskRef<typeof analyzeHealthBatch>(
  'health-math',
  new URL('./health-math.ts', import.meta.url),
);
