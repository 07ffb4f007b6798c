// Invariants of the §2.1 rule over thousands of random models, from a seeded generator so a
// failure reproduces: the failing case's index is in the assertion message.
import { describe, expect, it } from 'vitest';
import {
  addDays,
  addMonthsClamped,
  compareDates,
  createRng,
  fromEpochDay,
  REVALIDATION_STATUSES,
  type RevalidationInput,
  type RevalidationStatus,
  type Rng,
  revalidationStatus,
  toEpochDay,
  VALIDATION_STATUSES,
  type ValidationFacts,
} from '../src/index.ts';

const CASES = 5000;
const ANCHOR = toEpochDay('2026-01-01');

// Dates cluster around a few month ends and Feb 29 so that clamping and exact boundaries come
// up often, not once in a blue moon.
function randomDay(rng: Rng): number {
  if (rng.chance(0.3)) {
    return toEpochDay(rng.pick(['2024-02-29', '2024-01-31', '2025-08-31', '2023-03-31', '2027-02-28']));
  }
  return ANCHOR + rng.int(-4 * 365, 2 * 365);
}

function randomInput(rng: Rng): RevalidationInput {
  const validations: ValidationFacts[] = [];
  const count = rng.int(0, 6);
  for (let i = 0; i < count; i++) {
    const status = rng.pick(VALIDATION_STATUSES);
    const dated = status === 'approved' ? rng.chance(0.97) : rng.chance(0.1);
    validations.push({
      kind: rng.chance(0.6) ? 'full' : 'interim',
      status,
      approvedOn: dated ? fromEpochDay(randomDay(rng)) : null,
    });
  }
  return {
    revalidationMonths: rng.pick([1, 6, 12, 24, 36, 48, rng.int(1, 60)]),
    leadDays: rng.pick([0, 30, 60, 90, rng.int(0, 120)]),
    graceDays: rng.pick([0, 30, 60, 90, rng.int(0, 120)]),
    interimValidityDays: rng.pick([0, 90, 120, 180, rng.int(0, 365)]),
    validations,
  };
}

function shuffled<T>(rng: Rng, items: readonly T[]): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = rng.int(0, i);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

// An independent statement of §2.1 on day numbers, with month arithmetic through Date's own
// rollover, to catch a mistake the reference and its calendar helpers could share.
function oracle(input: RevalidationInput, asOfDate: string): RevalidationStatus {
  const asOf = toEpochDay(asOfDate);
  const approved = (kind: string) =>
    input.validations
      .filter((v) => v.kind === kind && v.status === 'approved' && v.approvedOn !== null)
      .map((v) => toEpochDay(v.approvedOn!));
  const fulls = approved('full');
  const F = fulls.length ? Math.max(...fulls) : null;
  const interims = approved('interim').filter((d) => F === null || d > F);
  const I = interims.length ? Math.max(...interims) : null;
  const open = input.validations.some((v) => v.status === 'planned' || v.status === 'in_progress');
  const interimStatus = (i: number) =>
    asOf < i + input.interimValidityDays ? 'interim_valid' : 'interim_expired';
  if (F === null) return I === null ? (open ? 'in_progress' : 'never_validated') : interimStatus(I);
  const f = new Date(F * 86_400_000);
  const firstOfTarget = Date.UTC(f.getUTCFullYear(), f.getUTCMonth() + input.revalidationMonths, 1);
  const lastOfTarget = new Date(
    Date.UTC(f.getUTCFullYear(), f.getUTCMonth() + input.revalidationMonths + 1, 0),
  ).getUTCDate();
  const D = firstOfTarget / 86_400_000 + Math.min(f.getUTCDate(), lastOfTarget) - 1;
  if (asOf < D - input.leadDays) return 'current';
  if (asOf < D) return open ? 'in_progress' : 'should_create_request';
  if (I !== null) return interimStatus(I);
  return asOf < D + input.graceDays ? 'in_grace' : 'overdue';
}

// Where a status sits on a model's timeline once its validations are fixed: as asOf moves on,
// a model only moves forward (current → lead window → due → expired).
const PHASE: Record<RevalidationStatus, number> = {
  current: 0,
  should_create_request: 1,
  in_progress: 1,
  interim_valid: 2,
  in_grace: 2,
  interim_expired: 3,
  overdue: 3,
  never_validated: 0,
};

describe('revalidationStatus on random models', () => {
  const rng = createRng(20260101);
  const cases = Array.from({ length: CASES }, () => ({
    input: randomInput(rng),
    asOf: fromEpochDay(randomDay(rng)),
  }));

  it('matches an independent statement of the rule', () => {
    const seen = new Set<RevalidationStatus>();
    cases.forEach(({ input, asOf }, i) => {
      const status = revalidationStatus(input, asOf);
      expect(REVALIDATION_STATUSES, `case ${i}`).toContain(status);
      expect(status, `case ${i}`).toBe(oracle(input, asOf));
      seen.add(status);
    });
    // The generator must reach every branch, or the comparison proves little.
    expect([...seen].sort()).toEqual([...REVALIDATION_STATUSES].sort());
  });

  it('does not depend on the order of validations', () => {
    cases.forEach(({ input, asOf }, i) => {
      const reordered = { ...input, validations: shuffled(rng, input.validations) };
      expect(revalidationStatus(reordered, asOf), `case ${i}`).toBe(revalidationStatus(input, asOf));
    });
  });

  it('ignores rejected validations', () => {
    cases.forEach(({ input, asOf }, i) => {
      const withoutRejected = {
        ...input,
        validations: input.validations.filter((v) => v.status !== 'rejected'),
      };
      expect(revalidationStatus(withoutRejected, asOf), `case ${i}`).toBe(revalidationStatus(input, asOf));
    });
  });

  it('says in_progress only when a validation is open, and never_validated only when none is approved', () => {
    cases.forEach(({ input, asOf }, i) => {
      const status = revalidationStatus(input, asOf);
      const open = input.validations.some((v) => v.status === 'planned' || v.status === 'in_progress');
      const anyApproved = input.validations.some((v) => v.status === 'approved' && v.approvedOn !== null);
      if (status === 'in_progress') expect(open, `case ${i}`).toBe(true);
      if (status === 'never_validated') expect(open || anyApproved, `case ${i}`).toBe(false);
      if (!anyApproved) expect(status, `case ${i}`).toBe(open ? 'in_progress' : 'never_validated');
    });
  });

  it('is current after a new full validation approved on asOf, when the lead window has not begun', () => {
    let checked = 0;
    cases.forEach(({ input, asOf }, i) => {
      const latestApproval = input.validations.reduce<string | null>(
        (max, v) => (v.approvedOn !== null && (max === null || v.approvedOn > max) ? v.approvedOn : max),
        null,
      );
      if (latestApproval !== null && compareDates(latestApproval, asOf) > 0) return;
      // "M months > L days", stated on the calendar so month-end clamping is accounted for.
      const leadStarts = addDays(addMonthsClamped(asOf, input.revalidationMonths), -input.leadDays);
      if (compareDates(leadStarts, asOf) <= 0) return;
      const validations = [
        ...input.validations,
        { kind: 'full', status: 'approved', approvedOn: asOf } as const,
      ];
      expect(revalidationStatus({ ...input, validations }, asOf), `case ${i}`).toBe('current');
      checked++;
    });
    expect(checked).toBeGreaterThan(CASES / 2);
  });

  it('only moves forward along the timeline as asOf advances', () => {
    const backwards: string[] = [];
    cases.slice(0, 300).forEach(({ input }, i) => {
      let previous = -1;
      for (let day = ANCHOR - 5 * 365; day <= ANCHOR + 6 * 365; day += 7) {
        const phase = PHASE[revalidationStatus(input, fromEpochDay(day))];
        if (phase < previous) backwards.push(`case ${i} on ${fromEpochDay(day)}`);
        previous = phase;
      }
    });
    expect(backwards).toEqual([]);
  });
});
