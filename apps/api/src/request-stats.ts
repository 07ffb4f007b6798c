// What /stats shows of this process's traffic: per route (method and matched pattern, never the
// raw URL), the requests of the last minute, their rate, their 5xx count and their latency
// percentiles. Each route keeps its last SAMPLES durations in a ring, so memory is bounded
// whatever the traffic; a percentile over a busy minute is then over its latest requests.
// Prometheus (/metrics) has the long-term histograms; this is the at-a-glance view.
import type { FinishedRequest } from './request-log.ts';

const SAMPLES = 1024;
export const STATS_WINDOW_SECONDS = 60;

interface Ring {
  method: string;
  route: string;
  at: Float64Array;
  ms: Float64Array;
  status: Uint16Array;
  next: number;
  size: number;
}

export interface RouteStats {
  method: string;
  route: string;
  requests: number;
  perSecond: number;
  errors: number;
  latencyMs: { p50: number; p95: number; p99: number };
}

export class RequestStats {
  readonly #routes = new Map<string, Ring>();
  readonly #now: () => number;
  readonly #startedAt: number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
    this.#startedAt = now();
  }

  record({ method, route, status, durationSeconds }: FinishedRequest): void {
    const key = `${method} ${route}`;
    let ring = this.#routes.get(key);
    if (ring === undefined) {
      ring = {
        method,
        route,
        at: new Float64Array(SAMPLES),
        ms: new Float64Array(SAMPLES),
        status: new Uint16Array(SAMPLES),
        next: 0,
        size: 0,
      };
      this.#routes.set(key, ring);
    }
    ring.at[ring.next] = this.#now();
    ring.ms[ring.next] = durationSeconds * 1000;
    ring.status[ring.next] = status;
    ring.next = (ring.next + 1) % SAMPLES;
    ring.size = Math.min(ring.size + 1, SAMPLES);
  }

  /** Routes with a request in the last window, busiest first. */
  snapshot(): RouteStats[] {
    const now = this.#now();
    const since = now - STATS_WINDOW_SECONDS * 1000;
    // Rates over the window, or over the process's life while it is younger than the window.
    const spanSeconds = Math.max(1, Math.min(STATS_WINDOW_SECONDS, (now - this.#startedAt) / 1000));
    const routes: RouteStats[] = [];
    for (const ring of this.#routes.values()) {
      const durations: number[] = [];
      let errors = 0;
      for (let i = 0; i < ring.size; i++) {
        if (ring.at[i]! < since) continue;
        durations.push(ring.ms[i]!);
        if (ring.status[i]! >= 500) errors++;
      }
      if (durations.length === 0) continue;
      durations.sort((a, b) => a - b);
      routes.push({
        method: ring.method,
        route: ring.route,
        requests: durations.length,
        perSecond: round(durations.length / spanSeconds),
        errors,
        latencyMs: {
          p50: percentile(durations, 0.5),
          p95: percentile(durations, 0.95),
          p99: percentile(durations, 0.99),
        },
      });
    }
    return routes.sort((a, b) => b.requests - a.requests);
  }
}

/** Nearest-rank percentile of sorted values. */
function percentile(sorted: number[], p: number): number {
  return round(sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)]!);
}

function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}
