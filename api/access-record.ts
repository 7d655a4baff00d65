// The access record (Five Safes "safe people"): what the data access committee approved, and each
// extension of it, kept in the Enclave's status with who recorded it and when. It only grows, and
// the end of access in force never passes the latest end it holds.
import { effectiveExpiry } from './enclave.ts';
import type { EnclaveSpec } from './enclave.ts';

type Access = EnclaveSpec['access'];
type Extension = Access['extensions'][number];

/** One entry: the original approval (no justification) or an extension, as recorded. */
export interface AccessRecordEntry {
  until: string;
  approvedBy?: string | undefined;
  justification?: string | undefined;
  /** The user whose request made the change, as the API server authenticated them (admission); absent when unknown. */
  recordedBy?: string | undefined;
  recordedAt?: string | undefined;
}

/** A change to `spec.access` the record does not allow, naming the field. */
export interface AccessChangeProblem {
  field: string;
  message: string;
}

const sameExtension = (a: Pick<Extension, 'until' | 'justification' | 'approvedBy'>, b: Pick<Extension, 'until' | 'justification' | 'approvedBy'>): boolean =>
  Date.parse(a.until) === Date.parse(b.until) && a.justification === b.justification && a.approvedBy === b.approvedBy;

/**
 * The record after `access` was seen: every entry of `recorded` kept as it is (nothing is ever
 * rebuilt from the spec or removed with it); on first sight the original approval (`expiresAt`,
 * approved by `approvedBy`); and each extension the spec holds that the record lacks, appended
 * with who made the change and when. Returns `recorded` itself when nothing is new.
 */
export function appendToRecord(
  recorded: readonly AccessRecordEntry[] | undefined,
  access: Pick<Access, 'expiresAt' | 'extensions'>,
  change: { approvedBy: string; recordedBy?: string | undefined; at: Date },
): readonly AccessRecordEntry[] {
  const at = change.at.toISOString().replace(/\.\d{3}Z$/, 'Z');
  const by = change.recordedBy === undefined ? {} : { recordedBy: change.recordedBy };
  const entries: AccessRecordEntry[] = recorded === undefined || recorded.length === 0 ? [{ until: access.expiresAt, approvedBy: change.approvedBy, ...by, recordedAt: at }] : [];
  const known = [...(recorded ?? []), ...entries];
  for (const extension of access.extensions) {
    if (known.some((entry) => entry.justification !== undefined && sameExtension(entry as Extension, extension))) continue;
    const entry = { until: extension.until, approvedBy: extension.approvedBy, justification: extension.justification, ...by, recordedAt: at };
    entries.push(entry);
    known.push(entry);
  }
  return entries.length === 0 && recorded !== undefined ? recorded : [...(recorded ?? []), ...entries];
}

/**
 * The end of access in force: what the spec says, but never later than the latest end the record
 * holds. A spec that moved its end without an appended extension (written while admission was
 * not enforced, or under an older CRD) keeps the recorded end; a spec that shortens access is
 * honoured at once. Without a record yet, the spec's end.
 */
export function endInForce(access: Pick<Access, 'expiresAt' | 'extensions'>, recorded: readonly AccessRecordEntry[] | undefined): Date {
  const specified = effectiveExpiry({ access });
  if (recorded === undefined || recorded.length === 0) return specified;
  const latestRecorded = Math.max(...recorded.map((entry) => Date.parse(entry.until)));
  return new Date(Math.min(specified.getTime(), latestRecorded));
}

/**
 * What an update of `spec.access` from `before` to `after` may not do: move `validFrom` or
 * `expiresAt` once set; remove, reorder or edit an extension; append one that does not end later
 * than the end before it. Empty when the change keeps the record append-only.
 */
export function accessChangeProblems(before: Access, after: Access): AccessChangeProblem[] {
  const problems: AccessChangeProblem[] = [];
  if (before.validFrom !== undefined && (after.validFrom === undefined || Date.parse(after.validFrom) !== Date.parse(before.validFrom))) {
    problems.push({ field: 'spec.access.validFrom', message: `is fixed once set: expected ${before.validFrom}, found ${after.validFrom ?? 'none'}` });
  }
  if (Date.parse(after.expiresAt) !== Date.parse(before.expiresAt)) {
    problems.push({ field: 'spec.access.expiresAt', message: `is fixed once set: expected ${before.expiresAt}, found ${after.expiresAt}; extend access by appending an extension with its justification and approver` });
  }
  before.extensions.forEach((extension, i) => {
    const kept = after.extensions[i];
    if (kept === undefined) problems.push({ field: `spec.access.extensions[${i}]`, message: `may not be removed: extensions are append-only (expected the extension until ${extension.until} approved by ${extension.approvedBy})` });
    else if (!sameExtension(kept, extension)) problems.push({ field: `spec.access.extensions[${i}]`, message: `may not be edited: extensions are append-only (expected until ${extension.until}, approved by ${extension.approvedBy}, as recorded)` });
  });
  let end = effectiveExpiry({ access: before });
  after.extensions.slice(before.extensions.length).forEach((extension, offset) => {
    const i = before.extensions.length + offset;
    if (Date.parse(extension.until) <= end.getTime()) {
      problems.push({ field: `spec.access.extensions[${i}].until`, message: `must end later than the current end ${end.toISOString().replace(/\.\d{3}Z$/, 'Z')}; found ${extension.until}` });
    } else end = new Date(Date.parse(extension.until));
  });
  return problems;
}
