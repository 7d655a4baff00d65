// Time-limited access (Five Safes "safe people"): where an enclave stands against its clock, and
// when that next changes, so the reconciler can set a timer instead of polling.
import { endInForce } from '../../api/access-record.ts';
import type { AccessRecordEntry } from '../../api/access-record.ts';
import { enclaveSpec, enclaveStatus } from '../../api/enclave.ts';
import type { EnclaveSpec } from '../../api/enclave.ts';

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

// Timers longer than this are re-armed instead (setTimeout overflows at 2^31 ms).
const MAX_TIMER_MS = 6 * 3_600_000;
// Wake slightly after the instant, so the clock reads past it.
const TIMER_SLACK_MS = 20;

/** The reconcile result that wakes a reconciler at the next access change (validFrom, warning, expiry): a timer, not a poll. */
export function nextWake(access: AccessState, now: Date): { requeueAfter: number } | undefined {
  if (access.nextChange === undefined) return undefined;
  return { requeueAfter: Math.min(MAX_TIMER_MS, Math.max(0, access.nextChange.getTime() - now.getTime()) + TIMER_SLACK_MS) };
}

/**
 * Sets the wake for the next access change on the reconcile's context, where it holds even if the
 * reconcile then fails (a retry's backoff must not decide when access ends), and returns it as
 * the reconcile's result too. Call it as soon as the access is known.
 */
export function wakeAtNextChange(ctx: { wakeAfter(delayMs: number): void }, access: AccessState, now: Date): { requeueAfter: number } | undefined {
  const wake = nextWake(access, now);
  if (wake) ctx.wakeAfter(wake.requeueAfter);
  return wake;
}

/** Parses a Go-style duration ("168h", "1h30m", "45s") into milliseconds. */
export function durationMs(text: string): number {
  const units: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1_000 };
  let total = 0;
  for (const [, n, unit] of text.matchAll(/([0-9]+)(h|m|s)/g)) total += Number(n) * (units[unit as string] ?? 0);
  return total;
}
