import { afterEach, describe, expect, it, vi } from 'vitest';
import { ConflictError, TransientError, withRetry } from '../src/index.ts';

const busy = () => Object.assign(new Error('database is locked'), { code: 'SQLITE_BUSY' });

/** Fails with `errors` in turn, then returns 'ok'. */
function flaky(...errors: Error[]) {
  const fn = vi.fn(async () => {
    const next = errors.shift();
    if (next !== undefined) throw next;
    return 'ok';
  });
  return fn;
}

describe('withRetry', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('returns at once when the first call succeeds', async () => {
    const fn = flaky();
    expect(await withRetry(fn)).toBe('ok');
    expect(fn).toHaveBeenCalledTimes(1);
  });

  it('retries transient errors until the call succeeds', async () => {
    const fn = flaky(
      busy(),
      Object.assign(new Error('x'), { code: '40001' }),
      new Error('Connection terminated'),
    );
    const attempts: number[] = [];
    expect(await withRetry(fn, { baseMs: 1, onRetry: (_err, attempt) => attempts.push(attempt) })).toBe('ok');
    expect(fn).toHaveBeenCalledTimes(4);
    expect(attempts).toEqual([1, 2, 3]);
  });

  it('gives up after `retries` retries and throws the mapped transient error', async () => {
    const fn = flaky(busy(), busy(), busy(), busy());
    const err = await withRetry(fn, { retries: 2, baseMs: 1 }).catch((e) => e);
    expect(err).toBeInstanceOf(TransientError);
    expect(err.code).toBe('SQLITE_BUSY');
    expect(fn).toHaveBeenCalledTimes(3);
  });

  it('does not retry other errors, and rethrows them mapped', async () => {
    const fn = flaky(
      Object.assign(new Error('dup'), { code: '23505', constraint: 'models_external_id_unique' }),
    );
    const err = await withRetry(fn, { baseMs: 1 }).catch((e) => e);
    expect(err).toBeInstanceOf(ConflictError);
    expect(fn).toHaveBeenCalledTimes(1);
    const plain = new TypeError('bug');
    await expect(withRetry(flaky(plain))).rejects.toBe(plain);
  });

  it('waits a full-jitter exponential backoff capped at maxMs', async () => {
    const delays: number[] = [];
    vi.spyOn(Math, 'random').mockReturnValue(0.5);
    await withRetry(flaky(busy(), busy(), busy(), busy(), busy()), {
      baseMs: 2,
      maxMs: 10,
      onRetry: (_err, _attempt, delayMs) => delays.push(delayMs),
    });
    // 0.5 × min(10, 2·2^n)
    expect(delays).toEqual([1, 2, 4, 5, 5]);
  });

  it('spreads waits over [0, cap)', async () => {
    const delays: number[] = [];
    vi.spyOn(Math, 'random').mockReturnValueOnce(0).mockReturnValueOnce(0.999);
    await withRetry(flaky(busy(), busy()), { baseMs: 4, onRetry: (_e, _a, ms) => delays.push(ms) });
    expect(delays[0]).toBe(0);
    expect(delays[1]).toBeCloseTo(7.992);
  });

  it('with retries: 0 calls once', async () => {
    const fn = flaky(busy());
    await expect(withRetry(fn, { retries: 0 })).rejects.toBeInstanceOf(TransientError);
    expect(fn).toHaveBeenCalledTimes(1);
  });
});
