// Telling users what happened to their object: a refusal as the SpecValid (or another concern's)
// condition, Ready and a Warning Event; an apply the API server refused, or one that left what
// Kubernetes fixes at creation as it was, as the Applied condition.
import type { KubernetesObject } from '@kubernetes/client-node';
import { ApplyError, findCondition, isTransientStatus, OwnerConflictError, setConditions, statusCodeOf } from './runtime/index.ts';
import type { ApplyResult, Condition, ConditionUpdate, ReconcileContext } from './runtime/index.ts';
import type { Refusal } from './spec-check.ts';

/**
 * The Applied condition after an apply that went through: every desired object applied, or (still
 * True, reason FixedAtCreation) all but the fields Kubernetes fixed when an object was created,
 * named with `consequence` (what stays as it was, and what to do about it).
 */
export function appliedCondition(result: ApplyResult, consequence: string): ConditionUpdate {
  if (result.fixed.length === 0) return { type: 'Applied', status: 'True', reason: 'Applied', message: 'every desired object is applied' };
  const fixed = result.fixed.map((f) => `${f.object.kind} ${f.object.metadata?.name ?? ""}: ${f.fields.join(', ')}`).join('; ');
  return { type: 'Applied', status: 'True', reason: 'FixedAtCreation', message: `every desired object is applied but what Kubernetes fixes when an object is created (${fixed}): ${consequence}` };
}

/** A Warning Event the first time the Applied condition says something was fixed at creation. */
export async function recordFixedAtCreation(ctx: ReconcileContext, previous: readonly Condition[] | undefined, applied: ConditionUpdate): Promise<void> {
  if (applied.reason === 'FixedAtCreation' && findCondition(previous, 'Applied')?.reason !== 'FixedAtCreation') {
    await ctx.recordEvent({ type: 'Warning', reason: 'FixedAtCreation', message: applied.message ?? '' });
  }
}

// Reasons that only mean "not yet": reported as Pending, without a Warning Event.
const TRANSIENT = new Set(['EnclaveNotReady']);

/**
 * Reports a refusal on the primary: its `concern` condition (SpecValid unless said otherwise) and
 * Ready go False with the refusal's reason and message, phase Failed, and a Warning Event is
 * recorded when the message is new (a transient reason such as EnclaveNotReady is Pending and
 * records none). `also` adds conditions that hold regardless (an enclave's ended access). Nothing
 * else is written: no child is created or removed.
 */
export async function refuse(ctx: ReconcileContext, refusal: Refusal, options: { now: Date; concern?: string; also?: readonly ConditionUpdate[] }): Promise<void> {
  const live = ctx.primary() as (KubernetesObject & { status?: { conditions?: Condition[] } }) | undefined;
  if (live === undefined) return;
  const concern = options.concern ?? 'SpecValid';
  const generation = live.metadata?.generation;
  const previous = live.status?.conditions;
  const conditions = setConditions(previous, [
    ...(options.also ?? []),
    ...(concern === 'SpecValid' ? [] : [{ type: 'SpecValid', status: 'True' as const, reason: 'Valid', message: 'the spec passed validation' }]),
    { type: concern, status: 'False', reason: refusal.reason, message: refusal.message },
    { type: 'Ready', status: 'False', reason: refusal.reason, message: `${concern}: ${refusal.message}` },
  ], { now: options.now, ...(generation !== undefined ? { observedGeneration: generation } : {}) });
  await ctx.patchStatus({ phase: TRANSIENT.has(refusal.reason) ? 'Pending' : 'Failed', observedGeneration: generation, conditions });
  const before = findCondition(previous, concern);
  if (TRANSIENT.has(refusal.reason)) return;
  if (before?.status !== 'False' || before.message !== refusal.message) await ctx.recordEvent({ type: 'Warning', reason: refusal.reason, message: refusal.message });
  ctx.log.info({ reason: refusal.reason }, refusal.message);
}

function isTransient(code: number | undefined): boolean {
  return code === undefined || code === 409 || isTransientStatus(code);
}

/**
 * Applies the desired state. When the API server refuses part of it (a quota, an admission rule),
 * the primary gets an `Applied` condition naming the object and the server's answer — reason
 * QuotaExceeded or ApplyFailed, or NameConflict when another owner has the name — before the error is rethrown for a retry with backoff, so a
 * stuck reconcile is never silent. Returns what the apply wrote.
 */
export async function applyOrReport(ctx: ReconcileContext, desired: readonly KubernetesObject[], now: Date): Promise<ApplyResult> {
  try {
    return await ctx.apply(desired);
  } catch (error) {
    // A refusal (403 quota, 422 admission…) is the user's to see; a busy or failing API server
    // (409, 429, 5xx) is only retried, so the report itself adds no load while it struggles.
    const refused = error instanceof ApplyError && error.failures.some((f) => f.error instanceof OwnerConflictError || !isTransient(statusCodeOf(f.error)));
    if (refused && error.failures.length > 0) {
      const message = error.failures.map((f) => `${f.identity}: ${f.error instanceof Error ? f.error.message : String(f.error)}`).join('; ');
      const reason = error.failures.some((f) => f.error instanceof OwnerConflictError) ? 'NameConflict' : /exceeded quota/.test(message) ? 'QuotaExceeded' : 'ApplyFailed';
      await refuse(ctx, { reason, message }, { now, concern: 'Applied' });
    }
    throw error;
  }
}
