// Specs are validated again at reconcile entry: an invalid one becomes a condition whose message
// names the field, never a crash loop.
import type { KubernetesObject } from '@kubernetes/client-node';
import type { z } from 'zod';
import { problemsFromIssues } from '../api/problems.ts';
import type { Finding } from '../policy/index.ts';
import { ApplyError, findCondition, isTransientStatus, OwnerConflictError, setConditions, shareObject, statusCodeOf } from './runtime/index.ts';
import type { ApplyResult, Condition, ConditionUpdate, ReconcileContext } from './runtime/index.ts';

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

/** Why a spec cannot be acted on: a CamelCase reason and a message naming the fields. */
export interface Refusal {
  reason: string;
  message: string;
}

/** A spec that passed its schema, or the refusal saying which fields did not. */
export type Checked<T> = { ok: true; value: T } | { ok: false; refusal: Refusal };

/**
 * Parses the cached object's apiVersion, kind, metadata and spec with `schema` (status is the
 * operator's own and is not judged). The parsed value is deeply frozen and, for a frozen (cached)
 * object, computed once: callers copy before changing it.
 */
export function checkSpec<T>(schema: z.ZodType<T>, live: Readonly<KubernetesObject>): Checked<T> {
  // A cached object is frozen and replaced, never changed: its verdict can be kept with it.
  let verdicts = checkedByObject.get(schema);
  const known = verdicts?.get(live);
  if (known !== undefined) return known as Checked<T>;
  const { apiVersion, kind, metadata, spec } = live as KubernetesObject & { spec?: unknown };
  const result = schema.safeParse({ apiVersion, kind, metadata, spec });
  let checked: Checked<T>;
  // Frozen, its parts shared with equal ones in the cache: the parsed spec repeats the cached one.
  if (result.success) checked = { ok: true, value: shareObject(result.data as KubernetesObject) as T };
  else {
    const fields = problemsFromIssues(result.error.issues, { source: '', index: 0 }).map((p) => `${p.path}: ${p.message}`);
    checked = { ok: false, refusal: { reason: 'InvalidSpec', message: fields.join('; ') } };
  }
  if (Object.isFrozen(live)) {
    if (verdicts === undefined) checkedByObject.set(schema, (verdicts = new WeakMap()));
    verdicts.set(live, checked);
  }
  return checked;
}

// Verdicts by schema and frozen cached object; entries go when the cache drops the object.
const checkedByObject = new WeakMap<object, WeakMap<object, Checked<unknown>>>();

/** The refusal for broken site rules: the first finding's reason, every finding's field and message. */
export function refusalFromFindings(findings: readonly Finding[]): Refusal | undefined {
  const first = findings[0];
  if (first === undefined) return undefined;
  return { reason: first.reason, message: findings.map((f) => `${f.field}: ${f.message}`).join('; ') };
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
