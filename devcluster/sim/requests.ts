// What a pod asks of a node, computed the way the scheduler's NodeResourcesFit plugin does.
import { addAmounts, parseResourceList, type ResourceAmounts } from './quantity.ts';

/** The parts of a container spec that carry resources. */
export interface ContainerResources {
  resources?: { requests?: Record<string, string | number>; limits?: Record<string, string | number> };
  restartPolicy?: string;
}

/** The parts of a pod spec that carry resources. */
export interface PodResourcesSpec {
  containers?: ContainerResources[];
  initContainers?: ContainerResources[];
  overhead?: Record<string, string | number>;
}

/** A container's requests, where a resource with only a limit requests its limit (API defaulting). */
export function containerRequests(container: ContainerResources): ResourceAmounts {
  const requests = parseResourceList(container.resources?.requests);
  for (const [name, limit] of parseResourceList(container.resources?.limits)) {
    if (!requests.has(name)) requests.set(name, limit);
  }
  return requests;
}

/**
 * A pod's effective requests: the sum over app containers and sidecars (restartable init
 * containers), raised to any larger one-shot init container, plus the pod overhead.
 */
export function podRequests(spec: PodResourcesSpec): ResourceAmounts {
  const total: ResourceAmounts = new Map();
  for (const container of spec.containers ?? []) addAmounts(total, containerRequests(container));
  const sidecars: ResourceAmounts = new Map();
  const initPeak: ResourceAmounts = new Map();
  for (const init of spec.initContainers ?? []) {
    const requests = containerRequests(init);
    if (init.restartPolicy === 'Always') {
      addAmounts(total, requests);
      addAmounts(sidecars, requests);
      continue;
    }
    for (const [name, value] of requests) {
      initPeak.set(name, Math.max(initPeak.get(name) ?? 0, value + (sidecars.get(name) ?? 0)));
    }
  }
  for (const [name, peak] of initPeak) if (peak > (total.get(name) ?? 0)) total.set(name, peak);
  return addAmounts(total, parseResourceList(spec.overhead));
}
