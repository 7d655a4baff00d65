// What a pod asks for, as quota and LimitRange see it: per-container requests and limits, and the
// pod's effective totals (sum of containers, or the largest init container if that is more).
import { parseQuantity } from '../store/quantity.ts';
import type { KubeObject } from '../store/types.ts';

/** A container's resources block. */
export interface ContainerResources {
  requests?: Record<string, string | number>;
  limits?: Record<string, string | number>;
}

/** The subset of a container the admission plugins read and default. */
export interface ContainerLike {
  name?: string;
  resources?: ContainerResources;
}

/** The pod's app and init containers (empty arrays when absent). */
export function podContainers(pod: KubeObject): { containers: ContainerLike[]; initContainers: ContainerLike[] } {
  const spec = (pod.spec ?? {}) as { containers?: ContainerLike[]; initContainers?: ContainerLike[] };
  return { containers: spec.containers ?? [], initContainers: spec.initContainers ?? [] };
}

function totals(containers: ContainerLike[], kind: 'requests' | 'limits'): Map<string, number> {
  const out = new Map<string, number>();
  for (const c of containers) {
    for (const [name, q] of Object.entries(c.resources?.[kind] ?? {})) out.set(name, (out.get(name) ?? 0) + parseQuantity(q));
  }
  return out;
}

/** The pod's effective requests or limits per resource name ('cpu', 'memory', 'nvidia.com/gpu'...). */
export function podTotals(pod: KubeObject, kind: 'requests' | 'limits'): Map<string, number> {
  const { containers, initContainers } = podContainers(pod);
  const sum = totals(containers, kind);
  for (const init of initContainers) {
    for (const [name, q] of Object.entries(init.resources?.[kind] ?? {})) {
      const v = parseQuantity(q);
      if (v > (sum.get(name) ?? 0)) sum.set(name, v);
    }
  }
  return sum;
}

/** True when the pod has finished and no longer holds resources (quota does not count it). */
export function podIsTerminal(pod: KubeObject): boolean {
  const phase = (pod.status as { phase?: string } | undefined)?.phase;
  return phase === 'Succeeded' || phase === 'Failed';
}
