// The ReplicaSet controller: keeps spec.replicas active pods from the template, deleting the
// least useful surplus first, and reports replicas, ready and available counts.
import { deepEqual } from '../store/objects.ts';
import { BUILTINS } from '../store/builtins.ts';
import { CONTROLLER_MANAGER } from '../store/field-managers.ts';
import { ApiError } from '../store/errors.ts';
import type { KubeObject } from '../store/types.ts';
import { enqueueOwnersOf, keyOf } from './informer.ts';
import { BY_CONTROLLER, ORPHANS, type SimContext } from './context.ts';
import { controllerRef, generatedName, withCondition, withoutCondition, type Condition } from './ownership.ts';
import { deletionOrder, isPodActive, isPodReady, podCondition } from './pods.ts';
import { SyncQueue } from './sync-queue.ts';
import { labelSelectorMatches, type LabelSelector } from '../store/selectors.ts';

const COMPONENT = 'replicaset-controller';
const BURST = 500;
const QUOTA_RETRY_MS = 1_000;

/** A pod template: metadata (labels, annotations) and a pod spec. */
export interface PodTemplate { metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> }; spec?: Record<string, unknown> }

interface ReplicaSetSpec { replicas?: number; minReadySeconds?: number; selector?: LabelSelector; template?: PodTemplate }

/** Keeps each ReplicaSet's pods at its replica count. */
export class ReplicaSetController {
  readonly #ctx: SimContext;
  readonly #queue: SyncQueue;

  constructor(ctx: SimContext) {
    this.#ctx = ctx;
    this.#queue = new SyncQueue(COMPONENT, (key) => this.#sync(key), ctx.report);
    enqueueOwnersOf(ctx.informers.replicasets, ctx.informers.pods, 'ReplicaSet', (key) => this.#queue.add(key));
  }

  /** Stops the controller and its timers. */
  stop(): void {
    this.#queue.stop();
  }

  #sync(key: string): void {
    const rs = this.#ctx.informers.replicasets.get(key);
    if (rs === undefined || rs.metadata.deletionTimestamp !== undefined) return;
    const spec = (rs.spec ?? {}) as ReplicaSetSpec;
    const uid = rs.metadata.uid ?? '';
    const wanted = spec.replicas ?? 1;
    if (this.#ctx.informers.pods.indexed(BY_CONTROLLER, uid).filter(isPodActive).length < wanted) this.#adoptOrphans(rs, spec);
    const owned = this.#ctx.informers.pods.indexed(BY_CONTROLLER, uid);
    const active = owned.filter(isPodActive);
    let failure: string | undefined;
    if (active.length < wanted) {
      failure = this.#createPods(rs, spec, Math.min(BURST, wanted - active.length));
    } else if (active.length > wanted) {
      for (const pod of [...active].sort(deletionOrder).slice(0, active.length - wanted)) {
        this.#ctx.store.delete(BUILTINS.pods, pod.metadata.namespace, pod.metadata.name);
        this.#ctx.events.record(COMPONENT, rs, 'Normal', 'SuccessfulDelete', `Deleted pod: ${pod.metadata.name}`);
      }
    }
    this.#writeStatus(key, spec, failure);
  }

  /** Takes over active pods without a controller that the selector matches, as the real controller adopts. */
  #adoptOrphans(rs: KubeObject, spec: ReplicaSetSpec): void {
    if (spec.selector === undefined) return;
    for (const orphan of this.#ctx.informers.pods.indexed(ORPHANS, rs.metadata.namespace ?? 'default')) {
      if (!isPodActive(orphan) || !labelSelectorMatches(spec.selector, orphan.metadata.labels)) continue;
      const next = structuredClone(orphan);
      next.metadata.ownerReferences = [...(next.metadata.ownerReferences ?? []), controllerRef(rs)];
      this.#ctx.store.update(BUILTINS.pods, next, { fieldManager: CONTROLLER_MANAGER });
    }
  }

  /** Creates pods; returns the admission failure message when one was refused (quota...). */
  #createPods(rs: KubeObject, spec: ReplicaSetSpec, count: number): string | undefined {
    for (let i = 0; i < count; i += 1) {
      const pod = podFromTemplate(rs, spec.template, generatedName(`${rs.metadata.name}-`));
      try {
        this.#ctx.store.create(BUILTINS.pods, pod, { fieldManager: CONTROLLER_MANAGER });
      } catch (error) {
        if (!(error instanceof ApiError) || error.code === 409) throw error;
        this.#ctx.events.record(COMPONENT, rs, 'Warning', 'FailedCreate', `Error creating: ${error.message}`);
        this.#queue.addAfter(keyOf(rs), QUOTA_RETRY_MS);
        return error.message;
      }
      this.#ctx.events.record(COMPONENT, rs, 'Normal', 'SuccessfulCreate', `Created pod: ${pod.metadata.name}`);
    }
    return undefined;
  }

  #writeStatus(key: string, spec: ReplicaSetSpec, failure: string | undefined): void {
    const rs = this.#ctx.informers.replicasets.get(key);
    if (rs === undefined) return;
    const active = this.#ctx.informers.pods.indexed(BY_CONTROLLER, rs.metadata.uid ?? '').filter(isPodActive);
    const ready = active.filter(isPodReady);
    const available = ready.filter((pod) => this.#availableNow(rs, pod, spec.minReadySeconds ?? 0));
    const templateLabels = spec.template?.metadata?.labels ?? {};
    const old = (rs.status ?? {}) as Record<string, unknown> & { conditions?: Condition[] };
    const conditions = failure === undefined
      ? withoutCondition(old.conditions, 'ReplicaFailure')
      : withCondition(old.conditions, { type: 'ReplicaFailure', status: 'True', reason: 'FailedCreate', message: failure });
    const status: Record<string, unknown> = {
      replicas: active.length,
      fullyLabeledReplicas: active.filter((pod) => labelSelectorMatches({ matchLabels: templateLabels }, pod.metadata.labels)).length,
      readyReplicas: ready.length,
      availableReplicas: available.length,
      observedGeneration: rs.metadata.generation ?? 1,
      ...(conditions.length > 0 ? { conditions } : {}),
    };
    if (deepEqual(old, status)) return;
    this.#ctx.store.update(BUILTINS.replicasets, { ...rs, status }, { subresource: 'status', fieldManager: CONTROLLER_MANAGER });
  }

  /** Ready for minReadySeconds; when not yet, checks again once it will be. */
  #availableNow(rs: KubeObject, pod: KubeObject, minReadySeconds: number): boolean {
    if (minReadySeconds <= 0) return true;
    const since = Date.parse(podCondition(pod, 'Ready')?.lastTransitionTime ?? '');
    const left = (Number.isNaN(since) ? 0 : since) + minReadySeconds * 1000 - Date.now();
    if (left <= 0) return true;
    this.#queue.addAfter(keyOf(rs), left + 5);
    return false;
  }
}

/** A new pod from a controller's template, owned by the controller. */
export function podFromTemplate(owner: KubeObject, template: PodTemplate | undefined, name: string): KubeObject {
  const metadata: KubeObject['metadata'] = {
    name,
    namespace: owner.metadata.namespace ?? 'default',
    labels: { ...(template?.metadata?.labels ?? {}) },
    ownerReferences: [controllerRef(owner)],
  };
  if (template?.metadata?.annotations) metadata.annotations = { ...template.metadata.annotations };
  return { apiVersion: 'v1', kind: 'Pod', metadata, spec: structuredClone(template?.spec ?? {}) };
}
