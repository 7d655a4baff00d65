// What a pod asks for and may use, computed once the way Kubernetes' resource helpers do
// (PodRequests, PodLimits): the scheduler's NodeResourcesFit, ResourceQuota and LimitRange all
// read the same totals, as they do in the real control plane.
import type { KubeObject } from '../store/types.ts';
import { addAmounts, parseResourceList, type ResourceAmounts } from './quantity.ts';

/** A container's resources block. */
export interface ResourceRequirements {
  requests?: Record<string, string | number>;
  limits?: Record<string, string | number>;
}

/** The parts of a container that carry resources; `restartPolicy: Always` marks a sidecar init container. */
export interface ContainerLike {
  name?: string;
  resources?: ResourceRequirements;
  restartPolicy?: string;
}

/** The parts of a pod spec that carry resources. */
export interface PodResourcesSpec {
  containers?: ContainerLike[];
  initContainers?: ContainerLike[];
  overhead?: Record<string, string | number>;
}

/** The pod's app and init containers (empty arrays when absent), the live objects for defaulting. */
export function podContainers(pod: KubeObject): { containers: ContainerLike[]; initContainers: ContainerLike[] } {
  const spec = (pod.spec ?? {}) as PodResourcesSpec;
  return { containers: spec.containers ?? [], initContainers: spec.initContainers ?? [] };
}

/** A container's requests, where a resource with only a limit requests its limit (API defaulting). */
function containerRequests(container: ContainerLike): ResourceAmounts {
  const requests = parseResourceList(container.resources?.requests);
  for (const [name, limit] of parseResourceList(container.resources?.limits)) {
    if (!requests.has(name)) requests.set(name, limit);
  }
  return requests;
}

function containerLimits(container: ContainerLike): ResourceAmounts {
  return parseResourceList(container.resources?.limits);
}

// The sum over app containers and sidecars (restartable init containers), raised to any larger
// one-shot init container together with the sidecars started before it.
function podTotals(spec: PodResourcesSpec, perContainer: (c: ContainerLike) => ResourceAmounts): ResourceAmounts {
  const total: ResourceAmounts = new Map();
  for (const container of spec.containers ?? []) addAmounts(total, perContainer(container));
  const sidecars: ResourceAmounts = new Map();
  const initPeak: ResourceAmounts = new Map();
  for (const init of spec.initContainers ?? []) {
    const amounts = perContainer(init);
    if (init.restartPolicy === 'Always') {
      addAmounts(total, amounts);
      addAmounts(sidecars, amounts);
      continue;
    }
    for (const [name, value] of amounts) {
      initPeak.set(name, Math.max(initPeak.get(name) ?? 0, value + (sidecars.get(name) ?? 0)));
    }
  }
  for (const [name, peak] of initPeak) if (peak > (total.get(name) ?? 0)) total.set(name, peak);
  return total;
}

/** A pod's effective requests in milli-units: containers, sidecars and init peaks, plus the pod overhead. */
export function podRequests(spec: PodResourcesSpec): ResourceAmounts {
  return addAmounts(podTotals(spec, containerRequests), parseResourceList(spec.overhead));
}

/** A pod's effective limits in milli-units; the overhead is added only to resources that have a limit. */
export function podLimits(spec: PodResourcesSpec): ResourceAmounts {
  const limits = podTotals(spec, containerLimits);
  for (const [name, value] of parseResourceList(spec.overhead)) {
    const limit = limits.get(name);
    if (limit !== undefined) limits.set(name, limit + value);
  }
  return limits;
}

/** True when the pod has finished and no longer holds resources (quota does not count it). */
export function podIsTerminal(pod: KubeObject): boolean {
  const phase = (pod.status as { phase?: string } | undefined)?.phase;
  return phase === 'Succeeded' || phase === 'Failed';
}
