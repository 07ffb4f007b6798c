// Checks one record of a validations CSV (DESIGN §3: model_external_id,kind,status,approved_on).
// What a record alone can tell is checked here; whether its model exists is known only against
// the database, per batch, in write-validations.ts.

import {
  isIsoDate,
  VALIDATION_KINDS,
  VALIDATION_STATUSES,
  type ValidationKind,
  type ValidationStatus,
} from '@offload/domain';
import type { CsvRecord } from './parse.ts';
import { MODEL_LIMITS, quote, text } from './validate-models.ts';

export const VALIDATION_COLUMNS = ['model_external_id', 'kind', 'status', 'approved_on'] as const;

/** Approval dates before this are typing mistakes (and year 0 does not exist in PostgreSQL). */
const EARLIEST_APPROVAL = '1900-01-01';

/** A validations row ready to be written once its model is resolved. */
export interface ValidationRow {
  line: number;
  modelExternalId: string;
  kind: ValidationKind;
  status: ValidationStatus;
  approvedOn: string | null;
}

/**
 * The row to write, or why the record is rejected (every problem found). Fields are trimmed;
 * kind and status are matched case-insensitively; `approved_on` must be a real YYYY-MM-DD date
 * exactly when the status is approved (the database's validations_approved_on_check).
 */
export function validateValidation(record: CsvRecord): ValidationRow | string {
  const [rawModel, rawKind, rawStatus, rawApprovedOn] = record.fields;
  const modelExternalId = rawModel!.trim();
  const kind = rawKind!.trim().toLowerCase() as ValidationKind;
  const status = rawStatus!.trim().toLowerCase() as ValidationStatus;
  const approvedOn = rawApprovedOn!.trim();
  const problems: string[] = [];

  text(problems, 'model_external_id', modelExternalId, MODEL_LIMITS.external_id);
  if (!VALIDATION_KINDS.includes(kind)) {
    problems.push(`kind must be ${VALIDATION_KINDS.join(' or ')}, got ${quote(rawKind!.trim())}`);
  }
  if (!VALIDATION_STATUSES.includes(status)) {
    problems.push(`status must be one of ${VALIDATION_STATUSES.join(', ')}, got ${quote(rawStatus!.trim())}`);
  } else if (status === 'approved') {
    if (approvedOn.length === 0) problems.push('approved_on is required when status is approved');
    else if (!isIsoDate(approvedOn) || approvedOn < EARLIEST_APPROVAL) {
      problems.push(
        `approved_on ${quote(approvedOn)} is not a date as YYYY-MM-DD (from ${EARLIEST_APPROVAL})`,
      );
    }
  } else if (approvedOn.length > 0) {
    problems.push(`approved_on must be empty unless status is approved (status is ${status})`);
  }
  if (problems.length > 0) return problems.join('; ');
  return {
    line: record.line,
    modelExternalId,
    kind,
    status,
    approvedOn: status === 'approved' ? approvedOn : null,
  };
}
