// Kubernetes Events from the simulated components, as `kubectl describe` and `kubectl get events`
// show them. Repeats of the same event are folded into one with a count, as client-go's recorder does.
import type { ClusterStore } from '../store/cluster-store.ts';
import { BUILTINS } from '../store/builtins.ts';
import { timestamp } from '../store/timestamps.ts';
import { CONTROLLER_MANAGER, KUBELET_MANAGER, SCHEDULER_MANAGER } from '../store/field-managers.ts';
import type { KubeObject } from '../store/types.ts';

const REMEMBERED = 4096;

/** The binary a component runs in, which names its writes (the Event's source names the component). */
function managerOf(component: string): string {
  if (component === 'default-scheduler') return SCHEDULER_MANAGER;
  return component === 'kubelet' ? KUBELET_MANAGER : CONTROLLER_MANAGER;
}

/** Records core/v1 Events about objects on behalf of one component (default-scheduler, kubelet...). */
export class EventRecorder {
  readonly #store: ClusterStore;
  readonly #enabled: boolean;
  readonly #seen = new Map<string, { namespace: string; name: string }>();
  #sequence = 0;

  constructor(store: ClusterStore, enabled: boolean) {
    this.#store = store;
    this.#enabled = enabled;
  }

  /** Records (or counts again) an event; never throws, since events are best effort. */
  record(component: string, about: KubeObject, type: 'Normal' | 'Warning', reason: string, message: string, host?: string): void {
    if (!this.#enabled) return;
    const namespace = about.metadata.namespace ?? 'default';
    const at = timestamp();
    const identity = `${component}|${about.metadata.uid ?? about.metadata.name}|${type}|${reason}|${message}`;
    try {
      const earlier = this.#seen.get(identity);
      const existing = earlier && this.#store.peek(BUILTINS.events, earlier.namespace, earlier.name);
      if (existing) {
        const next = structuredClone(existing);
        next.count = ((existing.count as number | undefined) ?? 1) + 1;
        next.lastTimestamp = at;
        this.#store.update(BUILTINS.events, next, { fieldManager: managerOf(component) });
        return;
      }
      const name = `${about.metadata.name}.${(BigInt(Date.now()) * 1_000_000n + BigInt(this.#sequence++ % 1_000_000)).toString(16)}`;
      this.#store.create(BUILTINS.events, {
        apiVersion: 'v1',
        kind: 'Event',
        metadata: { name, namespace },
        involvedObject: {
          apiVersion: about.apiVersion, kind: about.kind, name: about.metadata.name,
          ...(about.metadata.namespace ? { namespace: about.metadata.namespace } : {}),
          uid: about.metadata.uid, resourceVersion: about.metadata.resourceVersion,
        },
        reason, message, type,
        source: { component, ...(host ? { host } : {}) },
        firstTimestamp: at, lastTimestamp: at, count: 1,
        reportingComponent: component, reportingInstance: host ?? '',
      }, { fieldManager: managerOf(component) });
      this.#seen.set(identity, { namespace, name });
      if (this.#seen.size > REMEMBERED) this.#seen.delete(this.#seen.keys().next().value as string);
    } catch {
      // Events are best effort, as in client-go: a namespace being deleted must not stall a controller.
    }
  }
}
