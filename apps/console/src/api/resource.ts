// The data layer: every page reads server state through useResource, which caches answers by
// key for a short time (so going back to a page shows it at once, then refreshes it), shares a
// request in flight between components, and lets an action invalidate what it changed.
import { useCallback, useEffect, useState } from 'preact/hooks';
import { describeError } from './client.ts';

interface Entry {
  data?: unknown;
  error?: string;
  fetchedAt: number;
  inFlight?: Promise<void>;
  /** Bumped by invalidate: an answer to a request sent before it is shown, but not kept fresh. */
  generation: number;
}

const FRESH_MS = 5000;
const cache = new Map<string, Entry>();
const listeners = new Map<string, Set<() => void>>();

function notify(key: string): void {
  for (const listener of listeners.get(key) ?? []) listener();
}

function load(key: string, loader: () => Promise<unknown>): Promise<void> {
  const entry = cache.get(key) ?? { fetchedAt: 0, generation: 0 };
  cache.set(key, entry);
  const generation = entry.generation;
  entry.inFlight ??= loader()
    .then(
      (data) => {
        entry.data = data;
        entry.error = undefined;
      },
      (error: unknown) => {
        entry.error = describeError(error);
      },
    )
    .finally(() => {
      // Invalidated while in flight: the answer may predate the change, so load again.
      entry.fetchedAt = entry.generation === generation ? Date.now() : 0;
      entry.inFlight = undefined;
      notify(key);
    });
  return entry.inFlight;
}

/**
 * Forgets every cached answer: they were read with the key of a session that has ended, and
 * the next key may not be allowed to see them.
 */
export function forgetAll(): void {
  cache.clear();
}

/** Drops cached answers whose key starts with `prefix`; watching components reload. */
export function invalidate(prefix: string): void {
  for (const key of [...cache.keys()]) {
    if (!key.startsWith(prefix)) continue;
    const entry = cache.get(key)!;
    entry.fetchedAt = 0;
    entry.generation += 1;
    notify(key);
  }
}

export interface Resource<T> {
  data: T | undefined;
  error: string | undefined;
  loading: boolean;
  reload(): void;
  /** Replaces the cached value (an action's answer) without a request. */
  put(value: T): void;
}

export function useResource<T>(key: string, loader: () => Promise<T>): Resource<T> {
  const [, setTick] = useState(0);
  const entry = cache.get(key);
  useEffect(() => {
    const listener = () => setTick((tick) => tick + 1);
    const set = listeners.get(key) ?? new Set();
    listeners.set(key, set);
    set.add(listener);
    const current = cache.get(key);
    if (current === undefined || Date.now() - current.fetchedAt > FRESH_MS) void load(key, loader);
    return () => {
      set.delete(listener);
    };
    // The key names what is loaded: a loader for the same key loads the same thing.
  }, [key]);
  useEffect(() => {
    if (entry !== undefined && entry.fetchedAt === 0 && entry.inFlight === undefined) void load(key, loader);
  });
  const reload = useCallback(() => void load(key, loader), [key]);
  const put = useCallback(
    (value: T) => {
      cache.set(key, { data: value, fetchedAt: Date.now(), generation: 0 });
      notify(key);
    },
    [key],
  );
  return {
    data: entry?.data as T | undefined,
    error: entry?.error,
    loading: entry === undefined || entry.inFlight !== undefined,
    reload,
    put,
  };
}
