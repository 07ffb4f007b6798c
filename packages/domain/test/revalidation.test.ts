// The §2.1 rule, edge by edge. Expected dates are written out by hand (not computed with the
// calendar helpers under test) so that a wrong helper cannot agree with itself.
import { describe, expect, it } from 'vitest';
import {
  bucketOf,
  REVALIDATION_STATUSES,
  type RevalidationStatus,
  revalidationStatus,
  type TierSchedule,
  type ValidationFacts,
} from '../src/index.ts';

// Tier 1 of the seed inventory: M = 12 months, L = 60, G = 30, V = 90 days.
const TIER: TierSchedule = { revalidationMonths: 12, leadDays: 60, graceDays: 30, interimValidityDays: 90 };

const full = (approvedOn: string): ValidationFacts => ({ kind: 'full', status: 'approved', approvedOn });
const interim = (approvedOn: string): ValidationFacts => ({
  kind: 'interim',
  status: 'approved',
  approvedOn,
});
const planned: ValidationFacts = { kind: 'full', status: 'planned', approvedOn: null };
const inProgress: ValidationFacts = { kind: 'interim', status: 'in_progress', approvedOn: null };
const rejected = (kind: 'full' | 'interim', approvedOn: string | null = null): ValidationFacts => ({
  kind,
  status: 'rejected',
  approvedOn,
});

function status(validations: ValidationFacts[], asOf: string, tier: TierSchedule = TIER): RevalidationStatus {
  return revalidationStatus({ ...tier, validations }, asOf);
}

describe('revalidationStatus with a full validation', () => {
  // F = 2025-01-31, D = F + 12 months = 2026-01-31, D − L = 2025-12-02, D + G = 2026-03-02.
  const F = full('2025-01-31');

  it.each([
    ['2025-01-31', 'current'], // the day of approval
    ['2025-12-01', 'current'], // D − L − 1
    ['2025-12-02', 'should_create_request'], // D − L
    ['2025-12-03', 'should_create_request'], // D − L + 1
    ['2026-01-30', 'should_create_request'], // D − 1
    ['2026-01-31', 'in_grace'], // D
    ['2026-02-01', 'in_grace'], // D + 1
    ['2026-03-01', 'in_grace'], // D + G − 1
    ['2026-03-02', 'overdue'], // D + G
    ['2026-03-03', 'overdue'], // D + G + 1
    ['2030-01-01', 'overdue'],
  ] as const)('on %s: %s', (asOf, expected) => {
    expect(status([F], asOf)).toBe(expected);
  });

  it.each([
    ['2025-12-01', 'current'], // an open request does not matter before the lead window
    ['2025-12-02', 'in_progress'],
    ['2026-01-30', 'in_progress'],
    ['2026-01-31', 'in_grace'], // ...nor once the due date has passed
    ['2026-03-02', 'overdue'],
  ] as const)('with an open request, on %s: %s', (asOf, expected) => {
    expect(status([F, planned], asOf)).toBe(expected);
    expect(status([F, inProgress], asOf)).toBe(expected);
  });

  it('takes the latest of several approved fulls, in any order', () => {
    const fulls = [full('2023-02-10'), full('2025-01-31'), full('2024-01-20')];
    expect(status(fulls, '2025-12-01')).toBe('current');
    expect(status(fulls.reverse(), '2026-03-02')).toBe('overdue');
  });

  it('ignores rejected validations, even when they carry a later date', () => {
    const vs = [F, rejected('full', '2025-11-30'), rejected('interim', '2026-02-01'), rejected('full')];
    expect(status(vs, '2025-12-02')).toBe('should_create_request');
    expect(status(vs, '2026-02-15')).toBe('in_grace');
  });

  it('ignores an approved validation that has no approval date', () => {
    const undated: ValidationFacts = { kind: 'full', status: 'approved', approvedOn: null };
    expect(status([F, undated], '2026-03-02')).toBe('overdue');
    expect(status([undated], '2026-03-02')).toBe('never_validated');
  });
});

describe('revalidationStatus at month ends and leap days', () => {
  const noLeadNoGrace: TierSchedule = {
    revalidationMonths: 12,
    leadDays: 0,
    graceDays: 0,
    interimValidityDays: 90,
  };

  it('a full on Feb 29 falls due on Feb 28 of the next year', () => {
    expect(status([full('2028-02-29')], '2029-02-27', noLeadNoGrace)).toBe('current');
    expect(status([full('2028-02-29')], '2029-02-28', noLeadNoGrace)).toBe('overdue');
  });

  it('a full on Jan 31 with a 1-month cycle falls due on Feb 29 in a leap year, Feb 28 otherwise', () => {
    const monthly = { ...noLeadNoGrace, revalidationMonths: 1 };
    expect(status([full('2028-01-31')], '2028-02-28', monthly)).toBe('current');
    expect(status([full('2028-01-31')], '2028-02-29', monthly)).toBe('overdue');
    expect(status([full('2027-01-31')], '2027-02-27', monthly)).toBe('current');
    expect(status([full('2027-01-31')], '2027-02-28', monthly)).toBe('overdue');
  });

  it('a full on Aug 31 with a 6-month cycle falls due on the last day of February', () => {
    const halfYearly = { ...noLeadNoGrace, revalidationMonths: 6 };
    expect(status([full('2026-08-31')], '2027-02-27', halfYearly)).toBe('current');
    expect(status([full('2026-08-31')], '2027-02-28', halfYearly)).toBe('overdue');
    expect(status([full('2027-08-31')], '2028-02-28', halfYearly)).toBe('current');
    expect(status([full('2027-08-31')], '2028-02-29', halfYearly)).toBe('overdue');
  });

  it('counts lead and grace days across Feb 29', () => {
    // F = 2027-03-01, D = 2028-03-01; D − 2 days = 2028-02-28, D + 1 day = 2028-03-02.
    const tier = { ...TIER, leadDays: 2, graceDays: 1 };
    expect(status([full('2027-03-01')], '2028-02-27', tier)).toBe('current');
    expect(status([full('2027-03-01')], '2028-02-28', tier)).toBe('should_create_request');
    expect(status([full('2027-03-01')], '2028-02-29', tier)).toBe('should_create_request');
    expect(status([full('2027-03-01')], '2028-03-01', tier)).toBe('in_grace');
    expect(status([full('2027-03-01')], '2028-03-02', tier)).toBe('overdue');
  });

  it('with no grace, the due date itself is overdue', () => {
    expect(status([full('2025-01-31')], '2026-01-30', noLeadNoGrace)).toBe('current');
    expect(status([full('2025-01-31')], '2026-01-31', noLeadNoGrace)).toBe('overdue');
  });
});

describe('revalidationStatus with interim validations', () => {
  // F = 2025-01-31 (D = 2026-01-31, D + G = 2026-03-02); an interim on 2025-12-15 is valid
  // until 2026-03-15 (I + V), exclusive.
  const F = full('2025-01-31');
  const I = interim('2025-12-15');

  it.each([
    ['2025-12-01', 'current'], // an interim does not matter before the lead window...
    ['2025-12-20', 'should_create_request'], // ...nor before the due date
    ['2026-01-31', 'interim_valid'], // from D it replaces in_grace
    ['2026-03-02', 'interim_valid'], // and overdue, while it lasts
    ['2026-03-14', 'interim_valid'], // I + V − 1
    ['2026-03-15', 'interim_expired'], // I + V
    ['2026-03-16', 'interim_expired'], // I + V + 1
  ] as const)('after F, on %s: %s', (asOf, expected) => {
    expect(status([F, I], asOf)).toBe(expected);
  });

  it('an open request does not rescue an expired interim', () => {
    expect(status([F, I, planned], '2026-03-15')).toBe('interim_expired');
    expect(status([F, I, inProgress], '2026-01-20')).toBe('in_progress');
  });

  it('ignores interims approved before F or on the same day', () => {
    for (const before of ['2024-12-31', '2025-01-31']) {
      expect(status([F, interim(before)], '2026-01-31')).toBe('in_grace');
      expect(status([F, interim(before)], '2026-03-02')).toBe('overdue');
    }
    expect(status([F, interim('2025-02-01')], '2026-01-31')).toBe('interim_expired');
  });

  it('takes the latest interim after F', () => {
    const vs = [interim('2025-12-15'), F, interim('2025-06-01'), interim('2026-02-01')];
    expect(status(vs, '2026-04-30')).toBe('interim_valid'); // 2026-02-01 + 90 = 2026-05-02
    expect(status(vs, '2026-05-02')).toBe('interim_expired');
  });

  describe('with no full validation', () => {
    // I = 2025-06-01, I + V = 2025-08-30.
    const only = interim('2025-06-01');

    it.each([
      ['2025-06-01', 'interim_valid'],
      ['2025-08-29', 'interim_valid'], // I + V − 1
      ['2025-08-30', 'interim_expired'], // I + V
      ['2025-08-31', 'interim_expired'], // I + V + 1
    ] as const)('on %s: %s', (asOf, expected) => {
      expect(status([only], asOf)).toBe(expected);
    });

    it('takes the latest interim and ignores open requests', () => {
      expect(status([interim('2025-01-01'), only, planned], '2025-08-29')).toBe('interim_valid');
      expect(status([only, interim('2025-01-01'), inProgress], '2025-08-30')).toBe('interim_expired');
    });

    it('counts V days across Feb 29', () => {
      const tier = { ...TIER, interimValidityDays: 2 };
      expect(status([interim('2028-02-28')], '2028-02-29', tier)).toBe('interim_valid');
      expect(status([interim('2028-02-28')], '2028-03-01', tier)).toBe('interim_expired');
    });
  });
});

describe('revalidationStatus of a model never validated', () => {
  it('is never_validated with no validations, or only rejected ones', () => {
    expect(status([], '2026-01-01')).toBe('never_validated');
    expect(status([rejected('full'), rejected('interim', '2025-05-05')], '2026-01-01')).toBe(
      'never_validated',
    );
  });

  it('is in_progress while a first validation is open', () => {
    expect(status([planned], '2026-01-01')).toBe('in_progress');
    expect(status([rejected('full'), inProgress], '2026-01-01')).toBe('in_progress');
  });
});

describe('statuses and buckets', () => {
  it('lists the eight statuses in report order', () => {
    expect(REVALIDATION_STATUSES).toEqual([
      'current',
      'should_create_request',
      'in_progress',
      'interim_valid',
      'in_grace',
      'overdue',
      'interim_expired',
      'never_validated',
    ]);
  });

  it('maps each status to its §2.1 bucket', () => {
    const buckets = Object.fromEntries(REVALIDATION_STATUSES.map((s) => [s, bucketOf(s)]));
    expect(buckets).toEqual({
      current: 'compliant',
      should_create_request: 'compliant',
      in_progress: 'compliant',
      interim_valid: 'compliant',
      in_grace: 'atRisk',
      overdue: 'nonCompliant',
      interim_expired: 'nonCompliant',
      never_validated: 'nonCompliant',
    });
  });
});
