// system.echo: the diagnostic job. It waits `sleepMs` (abortable), burns `cpuMs` of CPU in the
// pool, reports progress as it enters each stage, fails when `fail` is set, and returns its
// payload, so tests and benchmarks can exercise every path of the worker without domain data.
import { setTimeout as sleep } from 'node:timers/promises';
import type { SystemEchoPayload } from '@offload/jobs';
import type { Json } from '@offload/queue';
import { burnCpuTask } from '../tasks/index.ts';
import type { HandlerContext } from './handler.ts';

/** Thrown when the payload asks for a failure; its name is the job error's kind. */
export class EchoFailureRequested extends Error {
  constructor() {
    super('system.echo failed because its payload asked it to (fail: true)');
    this.name = 'EchoFailureRequested';
  }
}

export async function systemEcho(context: HandlerContext<SystemEchoPayload>): Promise<Json> {
  const { job, payload, signal, progress, pool } = context;
  const cpuMs = payload.cpuMs ?? 0;
  if (payload.sleepMs > 0) {
    await progress({ stage: 'sleeping', sleepMs: payload.sleepMs });
    await sleep(payload.sleepMs, undefined, { signal });
  }
  if (cpuMs > 0) {
    await progress({ stage: 'burning', cpuMs });
    // The task should take cpuMs; the margin covers a thread start and a loaded machine.
    await pool.run(burnCpuTask, { ms: cpuMs }, { signal, timeoutMs: cpuMs * 2 + 10_000 });
  }
  if (payload.fail === true) throw new EchoFailureRequested();
  // No final progress write: completing the job says as much, and a no-op echo (what the drain
  // benchmark sends) then costs no writes beyond claim and complete. The result is the payload
  // as submitted (the validated copy differs only by absent optional fields).
  return job.payload;
}
