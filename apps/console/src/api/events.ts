// Server-sent events over fetch: EventSource cannot send an Authorization header, and the key
// must never go into a URL, so the stream is read and parsed here instead.
import { send } from './client.ts';

export interface StreamEvent {
  event: string;
  data: string;
}

/**
 * Reads the event stream at `url` until it ends or `signal` aborts, calling `onEvent` for each
 * event. Rejects with the client's ApiError/UnreachableError when the stream cannot be opened.
 */
export async function readEventStream(
  url: string,
  onEvent: (event: StreamEvent) => void,
  signal: AbortSignal,
  key?: string,
): Promise<void> {
  const response = await send(url, {
    signal,
    headers: { accept: 'text/event-stream' },
    ...(key === undefined ? {} : { key }),
  });
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
        const parsed = parseBlock(block);
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

function parseBlock(block: string): StreamEvent | undefined {
  let event = 'message';
  const data: string[] = [];
  for (const line of block.split('\n')) {
    if (line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    const value = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'event') event = value;
    else if (field === 'data') data.push(value);
  }
  return data.length === 0 ? undefined : { event, data: data.join('\n') };
}
