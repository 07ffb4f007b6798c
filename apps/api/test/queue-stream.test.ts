// GET /v1/queues/stream on both databases: the key's session first, then the queue statistics
// with their per-minute series, live as jobs are sent; it counts against the same caps as job
// event streams; the stream ends soon after its key is revoked. MinuteSeries, which keeps those
// series, is checked on its own with written samples; a revoked stream whose client stopped
// reading, on its own router with a key check that the test answers.
import { once } from 'node:events';
import { type AddressInfo, connect, type Socket } from 'node:net';
import { testDatabases } from '@offload/db/testing';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listApiKeys, revokeApiKey } from '../src/api-keys.ts';
import type { Authenticator, Principal } from '../src/auth.ts';
import { EventStreams } from '../src/event-streams.ts';
import type { QueueSnapshot, QueueStats } from '../src/queue-stats.ts';
import { RateLimiter } from '../src/rate-limit.ts';
import { MinuteSeries, queueStreamRouter } from '../src/routes/queue-stream.ts';
import { silentLogger, startTestApi, type TestApi } from './harness.ts';

interface StreamEvent {
  event: string;
  // biome-ignore lint/suspicious/noExplicitAny: event JSON the assertions walk into
  data: any;
}

/** Reads events from an open stream until `until` holds for one of them (or the stream ends). */
async function readUntil(
  reader: ReadableStreamDefaultReader<string>,
  seen: StreamEvent[],
  until: (event: StreamEvent) => boolean,
): Promise<StreamEvent | undefined> {
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return undefined;
    buffer += value;
    let end = buffer.indexOf('\n\n');
    while (end !== -1) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const name = /^event: (.+)$/m.exec(block)?.[1];
      const data = /^data: (.+)$/m.exec(block)?.[1];
      if (name !== undefined && data !== undefined) {
        const event = { event: name, data: JSON.parse(data) };
        seen.push(event);
        if (until(event)) return event;
      }
      end = buffer.indexOf('\n\n');
    }
  }
}

async function open(api: TestApi, key: string): Promise<ReadableStreamDefaultReader<string>> {
  const response = await fetch(`${api.url}/v1/queues/stream`, {
    headers: { authorization: `Bearer ${key}` },
  });
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
  return response.body!.pipeThrough(new TextDecoderStream()).getReader();
}

for (const kind of testDatabases()) {
  describe(`GET /v1/queues/stream (${kind})`, () => {
    let api: TestApi;

    beforeAll(async () => {
      api = await startTestApi(kind, { settings: { sseMaxStreamsPerKey: 3, sseKeyCheckMs: 200 } });
    });

    afterAll(async () => {
      await api?.close();
    });

    it('needs a key with read', async () => {
      expect((await api.request('GET', '/v1/queues/stream')).status).toBe(401);
      const submitOnly = await api.key('submitter', ['submit']);
      expect((await api.request('GET', '/v1/queues/stream', { key: submitOnly })).status).toBe(403);
    });

    it('names the session, then streams statistics that follow the queue', async () => {
      const key = await api.key('reader', ['read']);
      const reader = await open(api, key);
      const seen: StreamEvent[] = [];
      try {
        const first = await readUntil(reader, seen, () => true);
        expect(first).toEqual({ event: 'session', data: { owner: 'reader', scopes: ['read'] } });
        const stats = await readUntil(reader, seen, (event) => event.event === 'stats');
        const echo = stats!.data.items.find((row: { kind: string }) => row.kind === 'system.echo');
        expect(echo).toMatchObject({ kind: 'system.echo', queued: 0 });
        expect(stats!.data.series['system.echo'].completed).toHaveLength(60);

        await api.queue.send(
          'system.echo',
          { sleepMs: 0 },
          { runAt: new Date(Date.now() + 3_600_000).toISOString() },
        );
        const after = await readUntil(
          reader,
          seen,
          (event) =>
            event.event === 'stats' &&
            event.data.items.some(
              (row: { kind: string; queued: number }) => row.kind === 'system.echo' && row.queued === 1,
            ),
        );
        expect(after).toBeDefined();
      } finally {
        await reader.cancel();
      }
    });

    it('counts against the per-key cap of every event stream, job streams included', async () => {
      const key = await api.key('tabby', ['submit', 'read']);
      const readers = [await open(api, key), await open(api, key)];
      const sent = await api.request('POST', '/v1/jobs', {
        key,
        body: {
          kind: 'system.echo',
          payload: { sleepMs: 0 },
          runAt: new Date(Date.now() + 3_600_000).toISOString(),
        },
      });
      const jobEvents = await fetch(`${api.url}/v1/jobs/${sent.body.id}/events`, {
        headers: { authorization: `Bearer ${key}` },
      });
      expect(jobEvents.status).toBe(200);
      const refused = await api.request('GET', '/v1/queues/stream', { key });
      expect(refused.status).toBe(429);
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(refused.body.detail).toMatch(/has 3 event streams open/);
      const other = await open(api, await api.key('other', ['read']));
      await other.cancel();
      await jobEvents.body?.cancel();
      await Promise.all(readers.map((reader) => reader.cancel()));
      // A closed stream frees its place (noticed when the server sees the connection go).
      await expect
        .poll(async () => {
          const retry = await fetch(`${api.url}/v1/queues/stream`, {
            headers: { authorization: `Bearer ${key}` },
          });
          await retry.body?.cancel();
          return retry.status;
        })
        .toBe(200);
    });

    it('ends the stream once its key is revoked', async () => {
      const key = await api.key('leaver', ['read']);
      const reader = await open(api, key);
      const seen: StreamEvent[] = [];
      await readUntil(reader, seen, (event) => event.event === 'stats');
      const record = (await listApiKeys(api.testDb.db)).find((candidate) => candidate.owner === 'leaver')!;
      await revokeApiKey(api.testDb.db, record.id);
      const end = await readUntil(reader, seen, (event) => event.event === 'end');
      expect(end?.data).toEqual({ reason: 'revoked' });
      expect(await reader.read()).toMatchObject({ done: true });
      expect((await api.request('GET', '/v1/queues/stream', { key })).status).toBe(401);
    }, 60_000);
  });
}

/**
 * The stream's router alone on a server, with `authenticate` for each request's key,
 * `activeKeyIds` for the open streams' revocation check and `kinds()` for each snapshot;
 * `stall(key)` opens a stream as a client that never reads, and `responses` holds the server's
 * response of each key's stream.
 */
async function soloStreamServer(
  authenticate: (key: string) => Principal | null,
  activeKeyIds: (keyIds: number[]) => Set<number>,
  kinds: () => unknown[],
  options: { maxBufferedBytes?: number },
) {
  const queueStats = {
    snapshot: async () => ({ measuredAt: new Date().toISOString(), kinds: kinds() }),
    onSnapshot: () => () => undefined,
  } as unknown as QueueStats;
  const streams = new EventStreams(
    async (keyIds) => activeKeyIds(keyIds),
    { perKey: 10, perProcess: 100, keyCheckMs: 20 },
    silentLogger,
  );
  const responses = new Map<string, express.Response>();
  const app = express();
  app.use((req, res, next) => {
    responses.set(req.get('authorization')?.replace(/^Bearer /, '') ?? '', res);
    next();
  });
  app.use(
    queueStreamRouter({
      authenticator: { authenticate: async (key: string) => authenticate(key) } as unknown as Authenticator,
      rateLimiter: new RateLimiter({ perSecond: 0, burst: 1 }),
      queueStats,
      streams,
      intervalMs: 20,
      ...options,
    }),
  );
  const server = app.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  const sockets: Socket[] = [];
  return {
    url: `http://127.0.0.1:${port}/v1/queues/stream`,
    responses,
    async stall(key: string): Promise<void> {
      const socket = connect(port, '127.0.0.1');
      socket.on('error', () => undefined);
      sockets.push(socket);
      await once(socket, 'connect');
      socket.write(`GET /v1/queues/stream HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${key}\r\n\r\n`);
      socket.pause();
    },
    close(): void {
      streams.close();
      for (const socket of sockets) socket.destroy();
      server.closeAllConnections();
      server.close();
    },
  };
}

const reader = (owner: string, keyId: number): Principal => ({
  keyId,
  owner,
  scopes: new Set(['read']),
  isAdmin: false,
});

/** Snapshots large enough to fill a socket's buffers in a few ticks. */
const BIG_KINDS = Array.from({ length: 5000 }, (_, i) => ({ kind: `kind.${i}`, note: 'x'.repeat(200) }));

describe('a queue stream whose client stopped reading', () => {
  it('is ended once when its key is revoked, and never written to again', async () => {
    let revoked = false;
    let refused = 0;
    let big = true;
    const solo = await soloStreamServer(
      (key) => {
        if (key === 'healthy') return reader('healthy', 2);
        return key === 'stalled' && !revoked ? reader('stalled', 1) : null;
      },
      (keyIds) => {
        const active = new Set<number>();
        for (const keyId of keyIds) {
          if (keyId === 2) active.add(keyId);
          else if (keyId === 1 && !revoked) active.add(keyId);
          else if (keyId === 1) refused += 1;
        }
        return active;
      },
      () => (big ? BIG_KINDS : []),
      { maxBufferedBytes: Number.POSITIVE_INFINITY },
    );
    const errors: Error[] = [];
    try {
      await solo.stall('stalled');
      await expect.poll(() => solo.responses.get('stalled'), { timeout: 30_000 }).toBeDefined();
      const stalled = solo.responses.get('stalled')!;
      // Seen here instead of thrown out of the process.
      stalled.on('error', (error) => errors.push(error));
      // Bytes wait in the server's own buffer once the sockets' are full.
      await expect.poll(() => stalled.writableNeedDrain, { timeout: 30_000 }).toBe(true);
      big = false;

      const healthy = await fetch(solo.url, { headers: { authorization: 'Bearer healthy' } });
      const events = healthy.body!.pipeThrough(new TextDecoderStream()).getReader();
      revoked = true;
      await expect.poll(() => refused, { timeout: 30_000 }).toBeGreaterThanOrEqual(1);
      expect(stalled.writableEnded).toBe(true);
      // Ticks go on for the healthy stream; none may write to the ended one.
      const seen: StreamEvent[] = [];
      for (let i = 0; i < 3; i += 1) await readUntil(events, seen, (event) => event.event === 'stats');
      expect(errors.map((error) => (error as { code?: string }).code)).toEqual([]);
      expect(refused).toBe(1);
      await events.cancel();
    } finally {
      solo.close();
    }
  });

  it('is dropped once more than maxBufferedBytes wait unsent', async () => {
    const solo = await soloStreamServer(
      () => reader('slow', 1),
      (keyIds) => new Set(keyIds),
      () => BIG_KINDS,
      { maxBufferedBytes: 1024 * 1024 },
    );
    try {
      await solo.stall('slow');
      await expect.poll(() => solo.responses.get('slow')?.destroyed, { timeout: 30_000 }).toBe(true);
    } finally {
      solo.close();
    }
  });
});

describe('MinuteSeries', () => {
  const snapshot = (minute: number, completed: number, failed = 0): QueueSnapshot => ({
    measuredAt: new Date(Date.UTC(2026, 0, 1, 0, minute, 30)).toISOString(),
    kinds: [
      {
        kind: 'k',
        depth: 0,
        queued: 0,
        retrying: 0,
        ready: 0,
        scheduled: 0,
        scheduledCapped: false,
        running: 0,
        completed,
        failed,
        cancelled: 0,
        oldestAgeSeconds: null,
        completedPerMinute: null,
        failedPerMinute: null,
      },
    ],
  });

  it('reports per-minute differences, null where a minute is missing or a total went down', () => {
    const series = new MinuteSeries(5);
    series.record(snapshot(0, 10));
    series.record(snapshot(1, 15, 1));
    series.record(snapshot(1, 99)); // a second sample in the same minute is ignored
    series.record(snapshot(3, 20, 2)); // minute 2 was not watched
    series.record(snapshot(4, 4, 2)); // pruning lowered the total
    expect(series.rates('k')).toEqual({
      completed: [null, 5, null, null, null],
      failed: [null, 1, null, null, 0],
    });
    series.record(snapshot(5, 9, 3));
    expect(series.rates('k')).toEqual({ completed: [5, null, null, null, 5], failed: [1, null, null, 0, 1] });
    expect(series.rates('unknown')).toEqual({
      completed: [null, null, null, null, null],
      failed: [null, null, null, null, null],
    });
  });
});
