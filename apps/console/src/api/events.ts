// Server-sent events over fetch: EventSource cannot send an Authorization header, and the key
// must never go into a URL, so the stream is read and parsed here instead, and
// `followEventStream` does what EventSource would: reconnect after a blip with Last-Event-ID,
// waiting the stream's `retry:` (or a 429's Retry-After), longer after each failure in a row.
import { ApiError, send } from './client.ts';

export interface StreamEvent {
  event: string;
  data: string;
  /** The event's `id:`, when it has one. */
  id?: string;
}

/** What a stream tells its reader besides events. */
interface StreamControl {
  /** The last `id:` seen, sent back as Last-Event-ID on reconnection. */
  lastEventId?: string;
  /** The last `retry:` seen, in ms. */
  retryMs?: number;
}

export type StreamStatus = 'live' | 'reconnecting';

/** Never waits longer than this between attempts. */
const MAX_RETRY_MS = 30_000;
const DEFAULT_RETRY_MS = 2000;

/**
 * Follows the event stream at `url` until `finished()` says it has said all it will (a job's
 * terminal state) or `signal` aborts, reconnecting whenever the stream drops or cannot be opened
 * (the server restarting, a network blip, too many streams open: 429). `onStatus` hears
 * 'reconnecting' when it dropped and 'live' once it is open again. Rejects only when reconnecting
 * cannot help: the key or the resource is gone (401, 403, 404).
 */
export async function followEventStream(
  url: string,
  onEvent: (event: StreamEvent) => void,
  signal: AbortSignal,
  options: { finished: () => boolean; onStatus?: (status: StreamStatus) => void },
): Promise<void> {
  const control: StreamControl = {};
  let failures = 0;
  let status: StreamStatus = 'live';
  const tell = (next: StreamStatus): void => {
    if (next === status) return;
    status = next;
    options.onStatus?.(next);
  };
  while (!signal.aborted && !options.finished()) {
    let waitMs = control.retryMs ?? DEFAULT_RETRY_MS;
    try {
      await readEventStream(url, onEvent, signal, undefined, control, () => {
        failures = 0;
        tell('live');
      });
    } catch (error) {
      if (signal.aborted) return;
      const code = error instanceof ApiError ? error.status : undefined;
      if (code === 401 || code === 403 || code === 404) throw error;
      failures += 1;
      const retryAfter = error instanceof ApiError ? Number(error.retryAfter) : Number.NaN;
      waitMs =
        Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter * 1000 : waitMs * 2 ** (failures - 1);
    }
    if (signal.aborted || options.finished()) return;
    tell('reconnecting');
    await pause(Math.min(waitMs, MAX_RETRY_MS), signal);
  }
}

function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/**
 * Reads the event stream at `url` until it ends or `signal` aborts, calling `onEvent` for each
 * event. Rejects with the client's ApiError/UnreachableError when the stream cannot be opened.
 * With `control`, resumes after its `lastEventId` and records the stream's `id:` and `retry:`;
 * `onOpen` hears when the stream is open.
 */
export async function readEventStream(
  url: string,
  onEvent: (event: StreamEvent) => void,
  signal: AbortSignal,
  key?: string,
  control: StreamControl = {},
  onOpen?: () => void,
): Promise<void> {
  const response = await send(url, {
    signal,
    headers: {
      accept: 'text/event-stream',
      ...(control.lastEventId === undefined ? {} : { 'last-event-id': control.lastEventId }),
    },
    ...(key === undefined ? {} : { key }),
  });
  onOpen?.();
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += value.replace(/\r\n?/g, '\n');
      let end = buffer.indexOf('\n\n');
      while (end !== -1) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const parsed = parseBlock(block, control);
        if (parsed !== undefined) onEvent(parsed);
        end = buffer.indexOf('\n\n');
      }
    }
  } catch (error) {
    if (signal.aborted) return;
    throw error;
  } finally {
    reader.releaseLock();
  }
}

function parseBlock(block: string, control: StreamControl): StreamEvent | undefined {
  let event = 'message';
  let id: string | undefined;
  const data: string[] = [];
  for (const line of block.split('\n')) {
    if (line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    const value = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'event') event = value;
    else if (field === 'data') data.push(value);
    else if (field === 'id') id = value;
    else if (field === 'retry' && /^\d+$/.test(value)) control.retryMs = Number(value);
  }
  if (id !== undefined) control.lastEventId = id;
  if (data.length === 0) return undefined;
  return id === undefined ? { event, data: data.join('\n') } : { event, data: data.join('\n'), id };
}
