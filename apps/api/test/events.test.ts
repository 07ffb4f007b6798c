// GET /v1/jobs/:id/events through HTTP on both databases, with a worker simulated through the
// backend: the initial state, progress, the terminal state (with the result), the stream
// closing, and the listener going away when the client disconnects; event ids and `retry:`,
// resuming with Last-Event-ID after a dropped connection; the caps per key and per process,
// and a revoked key's stream ending.
import { testDatabases } from '@offload/db/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey, revokeApiKey } from '../src/api-keys.ts';
import { JobEventLogs } from '../src/job-event-log.ts';
import { claimJob, eventually, startTestApi, type TestApi } from './harness.ts';

const ECHO = 'system.echo';

interface SseEvent {
  id?: string;
  event: string;
  // biome-ignore lint/suspicious/noExplicitAny: event data is JSON the assertions walk into
  data: any;
}

/** Reads a server-sent event stream, parsing events as they arrive. */
class SseReader {
  readonly events: SseEvent[] = [];
  comments = 0;
  retry: number | undefined;
  ended = false;
  readonly #waiters = new Set<() => void>();
  readonly #controller = new AbortController();
  response!: Response;

  static async open(url: string, key: string, lastEventId?: string): Promise<SseReader> {
    const reader = new SseReader();
    reader.response = await fetch(url, {
      headers: {
        authorization: `Bearer ${key}`,
        accept: 'text/event-stream',
        ...(lastEventId === undefined ? {} : { 'last-event-id': lastEventId }),
      },
      signal: reader.#controller.signal,
    });
    void reader.#pump();
    return reader;
  }

  async #pump(): Promise<void> {
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for await (const chunk of this.response.body!) {
        buffer += decoder.decode(chunk, { stream: true });
        let end = buffer.indexOf('\n\n');
        while (end !== -1) {
          this.#parse(buffer.slice(0, end));
          buffer = buffer.slice(end + 2);
          end = buffer.indexOf('\n\n');
        }
        this.#wake();
      }
    } catch {
      // Aborted by the test.
    }
    this.ended = true;
    this.#wake();
  }

  #parse(block: string): void {
    let event = 'message';
    let id: string | undefined;
    const data: string[] = [];
    for (const line of block.split('\n')) {
      if (line.startsWith(':')) this.comments += 1;
      else if (line.startsWith('event: ')) event = line.slice(7);
      else if (line.startsWith('data: ')) data.push(line.slice(6));
      else if (line.startsWith('id: ')) id = line.slice(4);
      else if (line.startsWith('retry: ')) this.retry = Number(line.slice(7));
    }
    if (data.length > 0) {
      this.events.push({ ...(id === undefined ? {} : { id }), event, data: JSON.parse(data.join('\n')) });
    }
  }

  #wake(): void {
    for (const waiter of this.#waiters) waiter();
  }

  /** Resolves once `predicate` holds, failing after `timeoutMs`. */
  until(what: string, predicate: () => boolean, timeoutMs = 10_000): Promise<void> {
    if (predicate()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters.delete(check);
        reject(new Error(`timed out waiting for ${what}; got ${JSON.stringify(this.events)}`));
      }, timeoutMs);
      const check = () => {
        if (!predicate()) return;
        clearTimeout(timer);
        this.#waiters.delete(check);
        resolve();
      };
      this.#waiters.add(check);
    });
  }

  close(): void {
    this.#controller.abort();
  }
}

for (const kind of testDatabases()) {
  describe(`job events (${kind})`, () => {
    let api: TestApi;
    let key: string;

    beforeAll(async () => {
      api = await startTestApi(kind, { options: { sseHeartbeatMs: 200, sseResumeWindowMs: 2000 } });
      key = await api.key('watcher', ['submit', 'read']);
    });
    afterAll(() => api?.close());

    const submit = async (payload: unknown): Promise<string> => {
      const res = await api.request('POST', '/v1/jobs', { key, body: { kind: ECHO, payload } });
      expect(res.status).toBe(202);
      return res.body.id;
    };

    it('streams the initial state, progress and the terminal state, then closes', async () => {
      const id = await submit({ sleepMs: 10 });
      const stream = await SseReader.open(`${api.url}/v1/jobs/${id}/events`, key);
      expect(stream.response.status).toBe(200);
      expect(stream.response.headers.get('content-type')).toMatch(/^text\/event-stream/);
      await stream.until('the initial state', () => stream.events.length >= 1);
      expect(stream.events[0]).toMatchObject({ event: 'state', data: { id, state: 'queued' } });

      const claim = await claimJob(api.backend, ECHO, id);
      await stream.until('active', () =>
        stream.events.some((e) => e.event === 'state' && e.data.state === 'active'),
      );
      await api.backend.jobProgress({
        id,
        leaseToken: claim.leaseToken,
        progress: { stage: 'sleeping', done: 1 },
      });
      await stream.until('progress', () => stream.events.some((e) => e.event === 'progress'));
      const progress = stream.events.find((e) => e.event === 'progress')!;
      expect(progress.data).toMatchObject({ id, progress: { stage: 'sleeping', done: 1 } });

      await api.backend.jobComplete({ id, leaseToken: claim.leaseToken, result: { sleepMs: 10 } });
      await stream.until('the end of the stream', () => stream.ended);
      const last = stream.events.at(-1)!;
      expect(last).toMatchObject({
        event: 'state',
        data: { id, state: 'completed', result: { sleepMs: 10 } },
      });
      // Each state is sent once, in order.
      const states = stream.events.filter((e) => e.event === 'state').map((e) => e.data.state);
      expect(states).toEqual(['queued', 'active', 'completed']);
    });

    it('sends one state event and closes for a job that already ended', async () => {
      const id = await submit({ sleepMs: 1 });
      await api.request('POST', `/v1/jobs/${id}/cancel`, { key });
      const stream = await SseReader.open(`${api.url}/v1/jobs/${id}/events`, key);
      await stream.until('the end of the stream', () => stream.ended);
      expect(stream.events).toEqual([
        { id: expect.any(String), event: 'state', data: expect.objectContaining({ id, state: 'cancelled' }) },
      ]);
    });

    it('ends with the cancelled state when the job is cancelled while watched', async () => {
      const id = await submit({ sleepMs: 1 });
      const stream = await SseReader.open(`${api.url}/v1/jobs/${id}/events`, key);
      await stream.until('the initial state', () => stream.events.length >= 1);
      await api.request('POST', `/v1/jobs/${id}/cancel`, { key });
      await stream.until('the end of the stream', () => stream.ended);
      expect(stream.events.at(-1)).toMatchObject({ event: 'state', data: { state: 'cancelled' } });
    });

    it('sends heartbeat comments and lets go of its subscription when the client leaves', async () => {
      const id = await submit({ sleepMs: 1 });
      // Count the subscriptions the route holds on the queue.
      let live = 0;
      const subscribe = api.queue.subscribe.bind(api.queue);
      api.queue.subscribe = async (listener, filter) => {
        const unsubscribe = await subscribe(listener, filter);
        live += 1;
        return async () => {
          live -= 1;
          await unsubscribe();
        };
      };
      try {
        const stream = await SseReader.open(`${api.url}/v1/jobs/${id}/events`, key);
        await stream.until('two heartbeats', () => stream.comments >= 2);
        expect(live).toBe(1);
        stream.close();
        // Once the window in which a reconnect resumes has passed.
        await eventually('the subscription to be released', () => live === 0, 30_000);
      } finally {
        api.queue.subscribe = subscribe;
      }
    });

    it('gives every event an id, sends retry:, and resumes after a dropped connection', async () => {
      const id = await submit({ sleepMs: 10 });
      const first = await SseReader.open(`${api.url}/v1/jobs/${id}/events`, key);
      await first.until('the initial state', () => first.events.length >= 1);
      expect(first.retry).toBeGreaterThan(0);
      const seen = first.events[0]!;
      expect(seen.id).toEqual(expect.any(String));
      first.close();

      // What happens while no one listens: the job starts and makes progress twice.
      const claim = await claimJob(api.backend, ECHO, id);
      await api.backend.jobProgress({ id, leaseToken: claim.leaseToken, progress: { done: 1 } });
      await api.backend.jobProgress({ id, leaseToken: claim.leaseToken, progress: { done: 2 } });
      // Polled, not slept on: the job's log records them as the notifications arrive.
      await eventually('the progress to be stored', async () => {
        const job = await api.queue.get(id);
        return job?.progress?.done === 2;
      });

      const resumed = await SseReader.open(`${api.url}/v1/jobs/${id}/events`, key, seen.id);
      await resumed.until('the missed progress', () =>
        resumed.events.some((e) => e.event === 'progress' && e.data.progress.done === 2),
      );
      await api.backend.jobComplete({ id, leaseToken: claim.leaseToken, result: { sleepMs: 10 } });
      await resumed.until('the end of the stream', () => resumed.ended);
      // Exactly what was missed, in order, each with its own id: nothing sent twice.
      expect(resumed.events.map((e) => [e.event, e.data.state ?? e.data.progress])).toEqual([
        ['state', 'active'],
        ['progress', { done: 1 }],
        ['progress', { done: 2 }],
        ['state', 'completed'],
      ]);
      const ids = [seen.id, ...resumed.events.map((e) => e.id)];
      expect(new Set(ids).size).toBe(ids.length);

      // An id from elsewhere (another process, an expired window) gets the job as it is now.
      const stranger = await SseReader.open(`${api.url}/v1/jobs/${id}/events`, key, 'elsewhere-3');
      await stranger.until('the end of the stream', () => stranger.ended);
      expect(stranger.events).toEqual([
        expect.objectContaining({ event: 'state', data: expect.objectContaining({ state: 'completed' }) }),
      ]);
    });

    it('keeps at most maxLingering logs of jobs no stream follows, dropping the oldest', async () => {
      const logs = new JobEventLogs({
        queue: api.queue,
        refreshMs: 60_000,
        maxLingering: 2,
        onError: () => {},
      });
      try {
        for (let i = 0; i < 3; i++) {
          const job = (await api.queue.get(await submit({ sleepMs: 1 })))!;
          const { detach } = await logs.attach(job, () => {});
          detach();
        }
        await eventually('the oldest log to go', () => logs.size === 2);
      } finally {
        await logs.close();
      }
    });
  });
}

for (const kind of testDatabases()) {
  describe(`job event stream caps (${kind})`, () => {
    let api: TestApi;

    beforeAll(async () => {
      api = await startTestApi(kind, {
        settings: { sseMaxStreamsPerKey: 1, sseMaxStreams: 2, sseKeyCheckMs: 100 },
      });
    });
    afterAll(() => api?.close());

    const waitingJob = async (key: string): Promise<string> => {
      const res = await api.request('POST', '/v1/jobs', {
        key,
        body: { kind: ECHO, payload: { sleepMs: 1 } },
      });
      expect(res.status).toBe(202);
      return res.body.id;
    };

    it('refuses streams past the per-key and the per-process caps with 429 and Retry-After', async () => {
      const [a, b, c] = await Promise.all(['a', 'b', 'c'].map((owner) => api.key(owner, ['submit', 'read'])));
      const open = async (key: string) => {
        const stream = await SseReader.open(`${api.url}/v1/jobs/${await waitingJob(key)}/events`, key);
        return stream;
      };
      const first = await open(a!);
      expect(first.response.status).toBe(200);
      const again = await open(a!);
      expect(again.response.status).toBe(429);
      expect(Number(again.response.headers.get('retry-after'))).toBeGreaterThan(0);
      const second = await open(b!);
      expect(second.response.status).toBe(200);
      const third = await open(c!);
      expect(third.response.status).toBe(429);
      // A stream that ends gives its place back.
      first.close();
      await eventually('a place to free', async () => {
        const retry = await open(c!);
        retry.close();
        return retry.response.status === 200;
      });
      second.close();
    });

    it('ends the stream of a key revoked while it is open', async () => {
      const { key, record } = await createApiKey(api.testDb.db, {
        name: 'soon revoked',
        owner: 'revoked',
        scopes: ['submit', 'read'],
      });
      const stream = await SseReader.open(`${api.url}/v1/jobs/${await waitingJob(key)}/events`, key);
      await stream.until('the initial state', () => stream.events.length >= 1);
      await revokeApiKey(api.testDb.db, record.id);
      await stream.until('the stream to end', () => stream.ended, 20_000);
      expect(stream.events.at(-1)!.data.state).toBe('queued');
    });
  });
}
