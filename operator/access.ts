// Access ends on time, as the reconcilers carry it out: each wakes at the next change of its
// enclave's access (a timer, not a poll), and at the end of access the enclave's member bindings
// go first. The rule itself is api/access.ts.
import type { AccessState } from '../api/access.ts';
import { enclaveChildrenSelector } from '../constructs/labels.ts';
import { Owned } from './kinds.ts';
import type { ReconcileContext } from './runtime/index.ts';

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

/** Deletes every member RoleBinding of enclave `name` in `namespace` (one request); true when there were any. */
export async function revokeMembers(ctx: ReconcileContext, name: string, namespace: string): Promise<boolean> {
  const revoked = await ctx.prune({ selector: enclaveChildrenSelector(name), keep: [], types: [Owned.RoleBinding], namespace, collections: [Owned.RoleBinding] });
  return revoked.deleted.length > 0;
}
