// system.echo: the diagnostic kind. It sleeps, burns CPU in the worker's thread pool, fails on
// request and returns its payload, so tests, benchmarks and operators can exercise every path
// of the queue and the worker without domain data.
import { z } from 'zod';
import { defineJobKind } from '../kind.ts';

const payload = z
  .strictObject({
    sleepMs: z.number().min(0).max(600_000).describe('How long to wait before finishing, in milliseconds.'),
    cpuMs: z
      .number()
      .min(0)
      .max(60_000)
      .optional()
      .describe("How long to keep a pool thread busy, in milliseconds (the kind's CPU-bound step)."),
    fail: z.boolean().optional().describe('Fail the attempt after waiting, to exercise retries.'),
  })
  .describe('system.echo payload');

export type SystemEchoPayload = z.output<typeof payload>;

export const systemEcho = defineJobKind({
  name: 'system.echo',
  description:
    'Diagnostics: waits sleepMs, burns cpuMs of CPU in the worker thread pool, fails when asked, and returns its payload.',
  payload,
  result: payload.describe('system.echo result: the payload, echoed'),
  cpuBound: true,
  // Diagnostics over the caller's own jobs: any submitter may run it.
  startScope: 'submit',
  defaults: { maxAttempts: 3, backoff: { baseMs: 500, maxMs: 10_000 }, leaseSeconds: 30 },
});
