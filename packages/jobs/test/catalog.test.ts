import { describe, expect, it } from 'vitest';
import {
  findJobKind,
  InvalidJobPayloadError,
  JOB_KINDS,
  jobKindNames,
  parseJobPayload,
  payloadJsonSchema,
  systemEcho,
  UnknownJobKindError,
} from '../src/index.ts';

describe('job catalog', () => {
  it('lists each kind once, with complete defaults', () => {
    const names = jobKindNames();
    expect(new Set(names).size).toBe(names.length);
    expect(names).toContain('system.echo');
    for (const kind of JOB_KINDS) {
      expect(kind.name).toMatch(/^[a-z]+(\.[a-z]+)+$/);
      expect(kind.description.length).toBeGreaterThan(0);
      expect(kind.defaults.maxAttempts).toBeGreaterThanOrEqual(1);
      expect(kind.defaults.leaseSeconds).toBeGreaterThan(0);
      expect(kind.defaults.backoff.baseMs).toBeLessThanOrEqual(kind.defaults.backoff.maxMs);
    }
    expect(findJobKind('system.echo')).toBe(systemEcho);
    expect(findJobKind('nope')).toBeUndefined();
  });

  it('accepts a valid system.echo payload and returns it parsed', () => {
    expect(parseJobPayload('system.echo', { sleepMs: 0 })).toEqual({ sleepMs: 0 });
    expect(parseJobPayload('system.echo', { sleepMs: 600_000, cpuMs: 60_000, fail: true })).toEqual({
      sleepMs: 600_000,
      cpuMs: 60_000,
      fail: true,
    });
  });

  it('refuses unknown fields, out-of-range values and wrong types, naming each field', () => {
    try {
      parseJobPayload('system.echo', { sleepMs: -1, cpuMs: 60_001, fail: 'yes', extra: 1 });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(InvalidJobPayloadError);
      const paths = (error as InvalidJobPayloadError).issues.map((issue) => issue.path.join('.')).sort();
      expect(paths).toEqual(['cpuMs', 'extra', 'fail', 'sleepMs']);
    }
    expect(() => parseJobPayload('system.echo', {})).toThrow(InvalidJobPayloadError);
    expect(() => parseJobPayload('system.echo', null)).toThrow(InvalidJobPayloadError);
  });

  it('refuses a kind it does not know', () => {
    expect(() => parseJobPayload('system.nope', {})).toThrow(UnknownJobKindError);
  });

  it('describes payloads as JSON Schema 2020-12 without $schema, refusing extra fields', () => {
    const schema = payloadJsonSchema('system.echo');
    expect(schema.$schema).toBeUndefined();
    expect(schema).toMatchObject({
      type: 'object',
      required: ['sleepMs'],
      additionalProperties: false,
      properties: { sleepMs: { type: 'number', minimum: 0, maximum: 600_000 } },
    });
  });
});
