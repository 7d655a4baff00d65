// Status conditions by the Kubernetes API convention (metav1.Condition).

/** One status condition: `lastTransitionTime` is when `status` last flipped, not when it was last written. */
export interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
  lastTransitionTime: string;
  observedGeneration?: number;
}

/** What a reconciler says about one concern; the helpers fill in the times. */
export interface ConditionUpdate {
  type: string;
  status: Condition['status'];
  reason: string;
  message?: string;
}

/** A condition reason that is not CamelCase; reasons double as metric labels so they must be well-formed. */
export class InvalidConditionReasonError extends Error {
  override readonly name = 'InvalidConditionReasonError';

  constructor(type: string, reason: string) {
    super(`expected condition ${type} to have a CamelCase reason like "QuotaExceeded", but found "${reason}"`);
  }
}

const CAMEL_CASE = /^[A-Z][A-Za-z0-9]*$/;

/** The condition of `type`, if present. */
export function findCondition(conditions: readonly Condition[] | undefined, type: string): Condition | undefined {
  return conditions?.find((condition) => condition.type === type);
}

/**
 * Returns a new list with `update` set: its `lastTransitionTime` is kept from the existing condition
 * unless `status` flips (or the condition is new), then it becomes `now`. Order is stable; the input
 * is not modified. Throws {@link InvalidConditionReasonError} for a reason that is not CamelCase.
 */
export function setCondition(
  conditions: readonly Condition[] | undefined,
  update: ConditionUpdate,
  options: { now?: Date; observedGeneration?: number } = {},
): Condition[] {
  if (!CAMEL_CASE.test(update.reason)) throw new InvalidConditionReasonError(update.type, update.reason);
  const list = [...(conditions ?? [])];
  const index = list.findIndex((condition) => condition.type === update.type);
  const existing = index >= 0 ? list[index] : undefined;
  const next: Condition = {
    type: update.type,
    status: update.status,
    reason: update.reason,
    message: update.message ?? '',
    lastTransitionTime:
      existing && existing.status === update.status
        ? existing.lastTransitionTime
        : formatConditionTime(options.now ?? new Date()),
    ...(options.observedGeneration !== undefined ? { observedGeneration: options.observedGeneration } : {}),
  };
  if (index >= 0) list[index] = next;
  else list.push(next);
  return list;
}

/** Returns a new list of conditions with each update applied in turn by {@link setCondition}. */
export function setConditions(
  conditions: readonly Condition[] | undefined,
  updates: readonly ConditionUpdate[],
  options: { now?: Date; observedGeneration?: number } = {},
): Condition[] {
  return updates.reduce<Condition[]>((list, update) => setCondition(list, update, options), [...(conditions ?? [])]);
}

/**
 * The `Ready` summary of the given concern conditions: `True` with reason `Ready` when all of
 * `types` are `True`; otherwise `False` (or `Unknown` if none is `False`), carrying the reason and
 * message of the first concern that is not `True`, so `kubectl get` shows why.
 */
export function summarizeReady(conditions: readonly Condition[] | undefined, types: readonly string[]): ConditionUpdate {
  const concerns = types.map((type) => findCondition(conditions, type) ?? { type, status: 'Unknown' as const, reason: 'Pending', message: `${type} not yet reported` });
  const blocking = concerns.find((condition) => condition.status === 'False') ?? concerns.find((condition) => condition.status !== 'True');
  if (!blocking) return { type: 'Ready', status: 'True', reason: 'Ready', message: 'all conditions are met' };
  return {
    type: 'Ready',
    status: blocking.status === 'False' ? 'False' : 'Unknown',
    reason: blocking.reason,
    message: `${blocking.type}: ${blocking.message}`,
  };
}

/** RFC 3339 at second precision, as metav1.Time serialises, so a round trip through the API is stable. */
export function formatConditionTime(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}
