// The ReplicaSet controller: keeps spec.replicas active pods from the template, deleting the
// least useful surplus first, and reports replicas, ready and available counts.
import { BUILTINS } from '../store/builtins.ts';
import type { KubeObject } from '../store/types.ts';
import { keyOf } from './informer.ts';
import { BY_CONTROLLER, ORPHANS, type SimContext } from './context.ts';
import { adopt, ownerSyncQueue, writeStatus } from './owner-controller.ts';
import { generatedName, withCondition, withoutCondition, type Condition } from './ownership.ts';
import { PodControl, podFromTemplate, type PodTemplate } from './pod-control.ts';
import { deletionOrder, isPodActive, isPodReady, podCondition } from './pods.ts';
import type { SyncQueue } from './sync-queue.ts';
import { labelSelectorMatches, type LabelSelector } from '../../api/selectors.ts';

const COMPONENT = 'replicaset-controller';
const BURST = 500;
const QUOTA_RETRY_MS = 1_000;

interface ReplicaSetSpec { replicas?: number; minReadySeconds?: number; selector?: LabelSelector; template?: PodTemplate }

/** Keeps each ReplicaSet's pods at its replica count. */
export class ReplicaSetController {
  readonly #ctx: SimContext;
  readonly #queue: SyncQueue;
  readonly #pods: PodControl;

  constructor(ctx: SimContext) {
    this.#ctx = ctx;
    this.#pods = new PodControl(ctx, COMPONENT);
    this.#queue = ownerSyncQueue(ctx, COMPONENT, ctx.informers.replicasets, ctx.informers.pods, 'ReplicaSet', (rs, key) => this.#sync(rs, key));
  }

  /** Stops the controller and its timers. */
  stop(): void {
    this.#queue.stop();
  }

  #sync(rs: KubeObject, key: string): void {
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
      for (const pod of [...active].sort(deletionOrder).slice(0, active.length - wanted)) this.#pods.delete(rs, pod);
    }
    this.#writeStatus(key, spec, failure);
  }

  /** Takes over active pods without a controller that the selector matches, as the real controller adopts. */
  #adoptOrphans(rs: KubeObject, spec: ReplicaSetSpec): void {
    if (spec.selector === undefined) return;
    for (const orphan of this.#ctx.informers.pods.indexed(ORPHANS, rs.metadata.namespace ?? 'default')) {
      if (isPodActive(orphan) && labelSelectorMatches(spec.selector, orphan.metadata.labels)) adopt(this.#ctx.store, BUILTINS.pods, orphan, rs);
    }
  }

  /** Creates pods; returns the admission failure message when one was refused (quota...). */
  #createPods(rs: KubeObject, spec: ReplicaSetSpec, count: number): string | undefined {
    for (let i = 0; i < count; i += 1) {
      const refused = this.#pods.create(rs, podFromTemplate(rs, spec.template, generatedName(`${rs.metadata.name}-`)));
      if (refused !== undefined) {
        this.#queue.addAfter(keyOf(rs), QUOTA_RETRY_MS);
        return refused;
      }
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
    writeStatus(this.#ctx.store, BUILTINS.replicasets, rs, status);
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
