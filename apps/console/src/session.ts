// The signed-in key and what it may do. The key lives in sessionStorage (gone when the tab
// closes), is sent only as a Bearer header, and never goes into a URL or a cookie.
//
// Signing in opens the tab's one queue statistics stream (GET /v1/queues/stream) with the key:
// its first event names the key's owner and scopes, so a bad key is refused right there (401),
// and the same stream then feeds the overview. The stream stays open while signed in:
//   live         stats arrive every two seconds;
//   unreachable  the server went away: the pages keep their last figures under a banner, and
//                the stream is opened again every few seconds;
//   crowded      the server refused the stream (429: the key's other tabs and clients hold all
//                the event streams it may): as unreachable, with a banner saying so;
//   expired      the key was revoked (the stream ended, the next open met a 401): signed out
//                with a message saying so.
import { readEventStream } from './api/events.ts';
import type { QueueStats } from './api/live-types.ts';
import { forgetAll } from './api/resource.ts';
import { createStore } from './store.ts';

const STORAGE_KEY = 'offload.console.key';
const RETRY_MS = 3000;

export interface Session {
  owner: string;
  scopes: string[];
}

export interface SessionState {
  session: Session | undefined;
  connection: 'connecting' | 'live' | 'unreachable' | 'crowded';
  /** Why the sign-in page is showing, when it is not the first visit. */
  notice: string | undefined;
  stats: QueueStats | undefined;
}

export const sessionStore = createStore<SessionState>({
  session: undefined,
  connection: 'connecting',
  notice: undefined,
  stats: undefined,
});

let key: string | undefined;
let controller: AbortController | undefined;

export function currentKey(): string | undefined {
  return key;
}

export function storedKey(): string | undefined {
  return sessionStorage.getItem(STORAGE_KEY) ?? undefined;
}

export function can(scope: 'submit' | 'read' | 'admin'): boolean {
  return sessionStore.get().session?.scopes.includes(scope) ?? false;
}

/**
 * Opens the stream with `candidate`; resolves once the server named the key's scopes, rejects
 * with the client's ApiError (401: unknown key) or UnreachableError otherwise.
 */
export function signIn(candidate: string): Promise<void> {
  controller?.abort();
  const current = new AbortController();
  controller = current;
  return new Promise<void>((resolve, reject) => {
    let signedIn = false;
    const connect = (): void => {
      readEventStream(
        '/v1/queues/stream',
        (event) => {
          if (event.event === 'session') {
            const session = JSON.parse(event.data) as Session;
            if (!signedIn) {
              signedIn = true;
              key = candidate;
              sessionStorage.setItem(STORAGE_KEY, candidate);
              resolve();
            }
            sessionStore.update((state) => ({ ...state, session, connection: 'live', notice: undefined }));
          } else if (event.event === 'stats') {
            const stats = JSON.parse(event.data) as QueueStats;
            sessionStore.update((state) => ({ ...state, stats, connection: 'live' }));
          }
        },
        current.signal,
        candidate,
      ).then(
        // The stream ended (revoked key, or the server stopping): open it again; a revoked key
        // then meets its 401 below.
        () => retry(),
        (error: unknown) => {
          if (current.signal.aborted) return;
          const status = (error as { status?: number }).status;
          if (!signedIn) {
            reject(error);
            return;
          }
          if (status === 401) {
            endSession('expired');
            return;
          }
          sessionStore.update((state) => ({
            ...state,
            connection: status === 429 ? 'crowded' : 'unreachable',
          }));
          retry();
        },
      );
    };
    const retry = (): void => {
      if (current.signal.aborted) return;
      setTimeout(() => current.signal.aborted || connect(), RETRY_MS);
    };
    connect();
  });
}

export function endSession(reason: 'expired' | 'signed-out'): void {
  controller?.abort();
  controller = undefined;
  key = undefined;
  sessionStorage.removeItem(STORAGE_KEY);
  forgetAll();
  sessionStore.set({
    session: undefined,
    connection: 'connecting',
    stats: undefined,
    notice:
      reason === 'expired'
        ? 'Your session has ended: the API key was revoked or is no longer known. Sign in with a valid key.'
        : undefined,
  });
}
