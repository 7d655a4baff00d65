// Time-limited access (Five Safes "safe people"), the one home of "access ends on time" as a rule:
// the access period a spec states, the access record (what the data access committee approved and
// each extension, kept in the Enclave's status with who recorded it and when: it only grows, and
// the end in force never passes the latest end it holds), and where access stands at an instant and
// when that next changes, so reconcilers set a timer instead of polling. Pure; the operator's side
// (waking, revoking, stopping) is operator/access.ts.
import { enclaveSpec, enclaveStatus } from './enclave.ts';
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

/** The end the spec states: the latest of expiresAt and every extension's until (the record may hold it shorter: {@link endInForce}). */
export function effectiveExpiry(spec: Pick<EnclaveSpec, 'access'>): Date {
  const ends = [spec.access.expiresAt, ...spec.access.extensions.map((e) => e.until)].map((t) => Date.parse(t));
  return new Date(Math.max(...ends));
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

/** Why access is or is not in force. */
export type AccessReason = 'Active' | 'NotYetValid' | 'Expired';

/** The access state at one instant. */
export interface AccessState {
  active: boolean;
  reason: AccessReason;
  effectiveExpiresAt: Date;
  /** True within `warnBeforeMs` of the effective expiry while access is active. */
  expiringSoon: boolean;
  /** The next instant at which any of the above changes; undefined once expired for good. */
  nextChange: Date | undefined;
}

/**
 * Access at `now` under `access` and the access record (`recorded`, the Enclave's
 * status.accessHistory): the end in force never passes the record's latest end
 * (`endInForce`). `warnBeforeMs` is how long before expiry members are warned.
 */
export function accessState(access: EnclaveSpec['access'], recorded: readonly AccessRecordEntry[] | undefined, now: Date, warnBeforeMs: number): AccessState {
  const t = now.getTime();
  const from = access.validFrom === undefined ? undefined : Date.parse(access.validFrom);
  const end = endInForce(access, recorded);
  const warnAt = end.getTime() - warnBeforeMs;
  if (from !== undefined && t < from) {
    return { active: false, reason: 'NotYetValid', effectiveExpiresAt: end, expiringSoon: false, nextChange: new Date(from) };
  }
  if (t >= end.getTime()) {
    return { active: false, reason: 'Expired', effectiveExpiresAt: end, expiringSoon: false, nextChange: undefined };
  }
  const expiringSoon = t >= warnAt;
  return { active: true, reason: 'Active', effectiveExpiresAt: end, expiringSoon, nextChange: new Date(expiringSoon ? end.getTime() : warnAt) };
}

/**
 * Access of a live Enclave read from its `spec.access` and its recorded `status.accessHistory`
 * alone, so its clock runs even when another part of the spec fails the schema (stored under an
 * older, looser CRD, say): an invalid dataset must not keep members in past their end. Undefined
 * when the access block itself is unreadable; an unreadable record counts as none.
 */
export function liveAccessState(live: unknown, now: Date, warnBeforeMs: number): AccessState | undefined {
  const object = live as { spec?: { access?: unknown }; status?: { accessHistory?: unknown } } | undefined;
  const parsed = enclaveSpec.shape.access.safeParse(object?.spec?.access);
  if (!parsed.success) return undefined;
  const recorded = enclaveStatus.shape.accessHistory.safeParse(object?.status?.accessHistory);
  return accessState(parsed.data, recorded.success ? recorded.data : undefined, now, warnBeforeMs);
}

/** True while members may use the enclave by its spec alone: after validFrom (if any) and before the end it states. */
export function accessActive(access: EnclaveSpec['access'], now: Date): boolean {
  return accessState(access, undefined, now, 0).active;
}
