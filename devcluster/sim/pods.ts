// Pod state as the simulated components read it: phase and conditions, ready, terminal, active,
// its node, and the order in which a controller deletes surplus pods.
import type { KubeObject } from '../store/types.ts';
import type { Condition } from './ownership.ts';

/** A pod's status phase, Pending when unset. */
export function podPhase(pod: KubeObject): string {
  return ((pod.status as { phase?: string } | undefined)?.phase) ?? 'Pending';
}

/** The named pod condition, if set. */
export function podCondition(pod: KubeObject, type: string): Condition | undefined {
  return ((pod.status as { conditions?: Condition[] } | undefined)?.conditions ?? []).find((c) => c.type === type);
}

/** Running with the Ready condition True. */
export function isPodReady(pod: KubeObject): boolean {
  return podPhase(pod) === 'Running' && podCondition(pod, 'Ready')?.status === 'True';
}

/** Succeeded or Failed: it will never run again. */
export function isPodTerminal(pod: KubeObject): boolean {
  const phase = podPhase(pod);
  return phase === 'Succeeded' || phase === 'Failed';
}

/** Neither terminal nor being deleted: it counts towards a controller's replicas. */
export function isPodActive(pod: KubeObject): boolean {
  return !isPodTerminal(pod) && pod.metadata.deletionTimestamp === undefined;
}

/** The pod's node, once the scheduler has bound it. */
export function podNodeName(pod: KubeObject): string | undefined {
  const name = (pod.spec as { nodeName?: string } | undefined)?.nodeName;
  return name === undefined || name === '' ? undefined : name;
}

/**
 * The order in which a controller deletes surplus pods, as client-go's ActivePods sort: unbound
 * before bound, Pending before Running, not ready before ready, newer before older.
 */
export function deletionOrder(a: KubeObject, b: KubeObject): number {
  const rank = (pod: KubeObject): number[] => [
    podNodeName(pod) === undefined ? 0 : 1,
    podPhase(pod) === 'Pending' ? 0 : 1,
    isPodReady(pod) ? 1 : 0,
  ];
  const [ra, rb] = [rank(a), rank(b)];
  for (let i = 0; i < ra.length; i += 1) if (ra[i] !== rb[i]) return (ra[i] as number) - (rb[i] as number);
  const ta = a.metadata.creationTimestamp ?? '';
  const tb = b.metadata.creationTimestamp ?? '';
  return ta === tb ? 0 : ta > tb ? -1 : 1;
}
