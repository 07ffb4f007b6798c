// Helpers every test suite shares, exported through `@offload/db/testing` (the one testing entry
// point): poll with a deadline instead of sleeping, and a free port for a child process.
import { once } from 'node:events';
import { createServer } from 'node:net';

/**
 * Polls `probe` until it returns something other than undefined or false, and returns it; fails
 * at the deadline, saying what it waited for (`what`, or `what()` then: what was last seen). A
 * probe that throws fails at once. `options` may be the timeout alone (ms).
 */
export async function eventually<T>(
  what: string | (() => string),
  probe: () => Promise<T | undefined | false> | T | undefined | false,
  options: number | { timeoutMs?: number; intervalMs?: number } = {},
): Promise<T> {
  const { timeoutMs = 10_000, intervalMs = 20 } =
    typeof options === 'number' ? { timeoutMs: options } : options;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) {
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${typeof what === 'string' ? what : what()}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** A TCP port free on 127.0.0.1 right now (for a child that cannot be given port 0). */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}
