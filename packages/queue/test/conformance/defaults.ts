// Insert normalisation (runtime/insert.ts) on every send path of a backend built with a per-kind
// defaults resolver (the job catalog's in the apps): one send, grouped sends, a batch, a send
// inside the caller's transaction. An option the caller gives wins; a kind the resolver does not
// know takes the queue's defaults. And the one rule for kinds and leases holds on both backends.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KindDefaults, QueueBackend } from '../../src/index.ts';
import type { Environment } from './environment.ts';
import { uniqueKind } from './harness.ts';

export function defaultsCases(env: Environment): void {
  describe('per-kind defaults and one validation rule', () => {
    const known = uniqueKind('catalog');
    const catalog: KindDefaults = {
      priority: 4,
      maxAttempts: 5,
      backoff: { baseMs: 5000, maxMs: 120_000 },
      leaseSeconds: 120,
    };
    let backend: QueueBackend;
    beforeAll(async () => {
      backend = await env.ctx.createBackend({ defaults: (kind) => (kind === known ? catalog : undefined) });
      await backend.start({ maintenance: false });
    });
    afterAll(async () => {
      await backend?.stop();
    });

    const expected = { priority: 4, maxAttempts: 5, backoff: catalog.backoff, leaseSeconds: 120 };

    it('fills what a send leaves out from the kind’s defaults, on every send path', async () => {
      const [one, two] = await Promise.all([
        backend.jobInsert({ kind: known, payload: 1 }),
        backend.jobInsert({ kind: known, payload: 2 }),
      ]);
      const [many] = await backend.jobInsertMany([{ kind: known, payload: 3 }]);
      const inTransaction = await env.ctx.transaction((executor) =>
        backend.jobInsert({ kind: known, payload: 4, executor }),
      );
      for (const { job } of [one!, two!, many!, inTransaction]) {
        expect(job).toMatchObject(expected);
        // As stored, not only as returned.
        expect(await env.b.jobGet(job.id)).toMatchObject(expected);
      }
    });

    it('lets the caller’s options win, and gives an unknown kind the queue’s defaults', async () => {
      const { job: overridden } = await backend.jobInsert({
        kind: known,
        payload: null,
        priority: 1,
        leaseSeconds: 7,
        backoff: { baseMs: 10, maxMs: 20 },
      });
      expect(overridden).toMatchObject({
        priority: 1,
        maxAttempts: 5,
        leaseSeconds: 7,
        backoff: { baseMs: 10, maxMs: 20 },
      });
      const { job: other } = await backend.jobInsert({ kind: uniqueKind('other'), payload: null });
      expect(other).toMatchObject({
        priority: 0,
        maxAttempts: 3,
        leaseSeconds: 30,
        backoff: { baseMs: 1000, maxMs: 60_000 },
      });
      expect(await env.b.jobGet(other.id)).toMatchObject({
        leaseSeconds: 30,
        backoff: { baseMs: 1000, maxMs: 60_000 },
      });
    });

    it('refuses the same kinds and leases on both backends', async () => {
      for (const kind of ['', 'has space', 'semi;colon', 'x'.repeat(201), 'é']) {
        await expect(backend.jobInsert({ kind, payload: null })).rejects.toThrow(TypeError);
      }
      for (const leaseSeconds of [0, -1, 2.5, Number.NaN]) {
        await expect(backend.jobInsert({ kind: known, payload: null, leaseSeconds })).rejects.toThrow(
          /leaseSeconds/,
        );
      }
      const { job } = await backend.jobInsert({ kind: 'a.b-c/d_e', payload: null, leaseSeconds: 1 });
      expect(job.kind).toBe('a.b-c/d_e');
    });
  });
}
