// The revalidation rule of DESIGN.md §2.1, as one plain function per model.
//
// This is the reference: the KPI rebuild computes the same statuses for the whole inventory
// in set-based SQL, and golden tests hold that SQL to this function on generated edge cases.
// So it follows the design's pseudo-code line for line, and any change to the rule starts
// here and in §2.1 together.
//
// Only active models have a revalidation status. Callers exclude retired models before they
// ask (the KPI counts active models only); the function cannot tell, as it is not given the
// model's status.
//
// Validations are taken as given: the function does not drop approvals dated after `asOf`,
// because §2.1 does not. Callers that want a view "as it was known on asOf" filter first.

import { addDays, addMonthsClamped, compareDates, type IsoDate } from './calendar.ts';

/** Every revalidation status, in the order reports list them (compliant first). */
export const REVALIDATION_STATUSES = [
  'current',
  'should_create_request',
  'in_progress',
  'interim_valid',
  'in_grace',
  'overdue',
  'interim_expired',
  'never_validated',
] as const;

export type RevalidationStatus = (typeof REVALIDATION_STATUSES)[number];

/** The buckets of §2.1, in report order. */
export const COMPLIANCE_BUCKETS = ['compliant', 'atRisk', 'nonCompliant'] as const;

export type ComplianceBucket = (typeof COMPLIANCE_BUCKETS)[number];

const BUCKET_OF: Readonly<Record<RevalidationStatus, ComplianceBucket>> = {
  current: 'compliant',
  should_create_request: 'compliant',
  in_progress: 'compliant',
  interim_valid: 'compliant',
  in_grace: 'atRisk',
  overdue: 'nonCompliant',
  interim_expired: 'nonCompliant',
  never_validated: 'nonCompliant',
};

export function bucketOf(status: RevalidationStatus): ComplianceBucket {
  return BUCKET_OF[status];
}

export const VALIDATION_KINDS = ['full', 'interim'] as const;
export type ValidationKind = (typeof VALIDATION_KINDS)[number];

export const VALIDATION_STATUSES = ['planned', 'in_progress', 'approved', 'rejected'] as const;
export type ValidationStatus = (typeof VALIDATION_STATUSES)[number];

/** The schedule a model's risk tier imposes (the `risk_tiers` columns, camel-cased). */
export interface TierSchedule {
  /** M: a full validation is due this many calendar months after the last one. */
  revalidationMonths: number;
  /** L: days before the due date from which a new request should exist. */
  leadDays: number;
  /** G: days after the due date during which the model is at risk, not yet overdue. */
  graceDays: number;
  /** V: days an approved interim validation covers. */
  interimValidityDays: number;
}

export interface ValidationFacts {
  kind: ValidationKind;
  status: ValidationStatus;
  /** Set for approved validations; an approved one without a date cannot count and is ignored. */
  approvedOn: IsoDate | null;
}

export interface RevalidationInput extends TierSchedule {
  validations: readonly ValidationFacts[];
}

function latest(a: IsoDate | null, b: IsoDate): IsoDate {
  return a === null || compareDates(b, a) > 0 ? b : a;
}

/**
 * The §2.1 status of one model on `asOf` ('YYYY-MM-DD', UTC). Only active models have one:
 * callers leave retired models out rather than ask.
 */
export function revalidationStatus(input: RevalidationInput, asOf: IsoDate): RevalidationStatus {
  const { validations } = input;

  let fullOn: IsoDate | null = null;
  let open = false;
  for (const v of validations) {
    if (v.status === 'planned' || v.status === 'in_progress') open = true;
    else if (v.status === 'approved' && v.kind === 'full' && v.approvedOn !== null) {
      fullOn = latest(fullOn, v.approvedOn);
    }
  }
  // I needs F first: only interims strictly after the latest full count.
  let interimOn: IsoDate | null = null;
  for (const v of validations) {
    if (v.status !== 'approved' || v.kind !== 'interim' || v.approvedOn === null) continue;
    if (fullOn === null || compareDates(v.approvedOn, fullOn) > 0)
      interimOn = latest(interimOn, v.approvedOn);
  }

  const before = (date: IsoDate): boolean => compareDates(asOf, date) < 0;
  const interimStatus = (on: IsoDate): RevalidationStatus =>
    before(addDays(on, input.interimValidityDays)) ? 'interim_valid' : 'interim_expired';

  if (fullOn === null) {
    if (interimOn === null) return open ? 'in_progress' : 'never_validated';
    return interimStatus(interimOn);
  }
  const due = addMonthsClamped(fullOn, input.revalidationMonths);
  if (before(addDays(due, -input.leadDays))) return 'current';
  if (before(due)) return open ? 'in_progress' : 'should_create_request';
  if (interimOn !== null) return interimStatus(interimOn);
  if (before(addDays(due, input.graceDays))) return 'in_grace';
  return 'overdue';
}
