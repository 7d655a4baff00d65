// The Deployment controller: one ReplicaSet per pod template (named by its pod-template-hash),
// the current one scaled to spec.replicas and older ones to 0 (a simplified rollout: no surge
// steps), old ones pruned past revisionHistoryLimit, and the Deployment's status rolled up.
import { BUILTINS } from '../store/builtins.ts';
import { CONTROLLER_MANAGER } from '../store/field-managers.ts';
import type { KubeObject } from '../store/types.ts';
import { byController } from './informer.ts';
import { BY_CONTROLLER, type SimContext } from './context.ts';
import { adopt, ownerSyncQueue, writeStatus } from './owner-controller.ts';
import { controllerRef, templateHash, withCondition, type Condition } from './ownership.ts';
import type { PodTemplate } from './pod-control.ts';
import type { SyncQueue } from './sync-queue.ts';
import { labelSelectorMatches, type LabelSelector } from '../../api/selectors.ts';

const COMPONENT = 'deployment-controller';
const HASH_LABEL = 'pod-template-hash';
const REVISION = 'deployment.kubernetes.io/revision';

interface DeploymentSpec {
  replicas?: number;
  paused?: boolean;
  revisionHistoryLimit?: number;
  selector?: LabelSelector;
  template?: PodTemplate;
  strategy?: { type?: string; rollingUpdate?: { maxUnavailable?: number | string; maxSurge?: number | string } };
}
interface ReplicaSetStatus { replicas?: number; readyReplicas?: number; availableReplicas?: number }

/** Rolls each Deployment's template out through ReplicaSets. */
export class DeploymentController {
  readonly #ctx: SimContext;
  readonly #queue: SyncQueue;

  constructor(ctx: SimContext) {
    this.#ctx = ctx;
    this.#queue = ownerSyncQueue(ctx, COMPONENT, ctx.informers.deployments, ctx.informers.replicasets, 'Deployment', (deployment, key) => this.#sync(deployment, key));
  }

  /** Stops the controller. */
  stop(): void {
    this.#queue.stop();
  }

  #sync(deployment: KubeObject, key: string): void {
    const spec = (deployment.spec ?? {}) as DeploymentSpec;
    const owned = this.#ctx.informers.replicasets.indexed(BY_CONTROLLER, deployment.metadata.uid ?? '');
    const hash = templateHash(spec.template ?? {});
    let current = owned.find((rs) => rs.metadata.labels?.[HASH_LABEL] === hash) ?? this.#adopt(deployment, spec, hash);
    let created = false;
    if (!spec.paused) {
      if (current === undefined) {
        current = this.#createReplicaSet(deployment, spec, hash, nextRevision(owned));
        created = true;
      } else {
        this.#scale(deployment, current, spec.replicas ?? 1, isLatest(current, owned) ? undefined : nextRevision(owned));
      }
      for (const old of owned) if (old !== current && replicasOf(old) > 0) this.#scale(deployment, old, 0);
      this.#prune(deployment, spec, current);
    }
    this.#writeStatus(key, spec, hash, created);
  }

  /**
   * Takes over this template's ReplicaSet when it was orphaned (`--cascade=orphan`), which would
   * otherwise block creating it again under the same name.
   */
  #adopt(deployment: KubeObject, spec: DeploymentSpec, hash: string): KubeObject | undefined {
    const key = `${deployment.metadata.namespace ?? 'default'}/${deployment.metadata.name}-${hash}`;
    const orphan = this.#ctx.informers.replicasets.get(key);
    if (orphan === undefined || orphan.metadata.deletionTimestamp !== undefined || byController(orphan).length > 0) return undefined;
    if (!labelSelectorMatches(spec.selector, orphan.metadata.labels)) return undefined;
    adopt(this.#ctx.store, BUILTINS.replicasets, orphan, deployment);
    return this.#ctx.informers.replicasets.get(key);
  }

  #createReplicaSet(deployment: KubeObject, spec: DeploymentSpec, hash: string, revision: number): KubeObject {
    const template = structuredClone(spec.template ?? {});
    template.metadata = { ...(template.metadata ?? {}), labels: { ...(template.metadata?.labels ?? {}), [HASH_LABEL]: hash } };
    const selector = structuredClone(spec.selector ?? {});
    selector.matchLabels = { ...(selector.matchLabels ?? {}), [HASH_LABEL]: hash };
    const name = `${deployment.metadata.name}-${hash}`;
    const rs = this.#ctx.store.create(BUILTINS.replicasets, {
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: {
        name,
        namespace: deployment.metadata.namespace ?? 'default',
        labels: { ...(template.metadata.labels ?? {}) },
        annotations: replicaAnnotations(spec, revision),
        ownerReferences: [controllerRef(deployment)],
      },
      spec: { replicas: spec.replicas ?? 1, selector, template },
    }, { fieldManager: CONTROLLER_MANAGER });
    this.#ctx.events.record(COMPONENT, deployment, 'Normal', 'ScalingReplicaSet', `Scaled up replica set ${name} from 0 to ${spec.replicas ?? 1}`);
    return rs;
  }

  #scale(deployment: KubeObject, rs: KubeObject, replicas: number, revision?: number): void {
    const from = replicasOf(rs);
    if (from === replicas && revision === undefined) return;
    const next = structuredClone(rs);
    (next.spec as { replicas: number }).replicas = replicas;
    const dspec = (deployment.spec ?? {}) as DeploymentSpec;
    if (revision !== undefined || replicas > 0) {
      next.metadata.annotations = { ...(next.metadata.annotations ?? {}), ...replicaAnnotations(dspec, revision ?? Number(rs.metadata.annotations?.[REVISION] ?? 1)) };
    }
    this.#ctx.store.update(BUILTINS.replicasets, next, { fieldManager: CONTROLLER_MANAGER });
    if (from !== replicas) {
      const verb = replicas > from ? 'up' : 'down';
      this.#ctx.events.record(COMPONENT, deployment, 'Normal', 'ScalingReplicaSet', `Scaled ${verb} replica set ${rs.metadata.name} from ${from} to ${replicas}`);
    }
  }

  /** Deletes the oldest idle ReplicaSets beyond revisionHistoryLimit. */
  #prune(deployment: KubeObject, spec: DeploymentSpec, current: KubeObject): void {
    const limit = spec.revisionHistoryLimit ?? 10;
    const idle = this.#ctx.informers.replicasets.indexed(BY_CONTROLLER, deployment.metadata.uid ?? '')
      .filter((rs) => rs.metadata.uid !== current.metadata.uid && replicasOf(rs) === 0 && ((rs.status ?? {}) as ReplicaSetStatus).replicas === 0)
      .sort((a, b) => revisionOf(a) - revisionOf(b));
    for (const rs of idle.slice(0, Math.max(0, idle.length - limit))) {
      this.#ctx.store.delete(BUILTINS.replicasets, rs.metadata.namespace, rs.metadata.name);
    }
  }

  #writeStatus(key: string, spec: DeploymentSpec, hash: string, created: boolean): void {
    const deployment = this.#ctx.informers.deployments.get(key);
    if (deployment === undefined) return;
    const owned = this.#ctx.informers.replicasets.indexed(BY_CONTROLLER, deployment.metadata.uid ?? '');
    const current = owned.find((rs) => rs.metadata.labels?.[HASH_LABEL] === hash);
    const sum = (field: keyof ReplicaSetStatus) => owned.reduce((n, rs) => n + (((rs.status ?? {}) as ReplicaSetStatus)[field] ?? 0), 0);
    const wanted = spec.replicas ?? 1;
    const replicas = sum('replicas');
    const updated = ((current?.status ?? {}) as ReplicaSetStatus).replicas ?? 0;
    const available = sum('availableReplicas');
    const old = (deployment.status ?? {}) as Record<string, unknown> & { conditions?: Condition[] };
    const minimum = wanted - maxUnavailable(spec, wanted);
    let conditions = withCondition(old.conditions, available >= minimum
      ? { type: 'Available', status: 'True', reason: 'MinimumReplicasAvailable', message: 'Deployment has minimum availability.' }
      : { type: 'Available', status: 'False', reason: 'MinimumReplicasUnavailable', message: 'Deployment does not have minimum availability.' }, true);
    const rsName = current?.metadata.name ?? `${deployment.metadata.name}-${hash}`;
    const complete = updated === wanted && replicas === wanted && available === wanted;
    const progressing: Condition = spec.paused
      ? { type: 'Progressing', status: 'Unknown', reason: 'DeploymentPaused', message: 'Deployment is paused' }
      : complete
        ? { type: 'Progressing', status: 'True', reason: 'NewReplicaSetAvailable', message: `ReplicaSet "${rsName}" has successfully progressed.` }
        : created
          ? { type: 'Progressing', status: 'True', reason: 'NewReplicaSetCreated', message: `Created new replica set "${rsName}"` }
          : { type: 'Progressing', status: 'True', reason: 'ReplicaSetUpdated', message: `ReplicaSet "${rsName}" is progressing.` };
    const before = old.conditions?.find((c) => c.type === 'Progressing');
    if (!(before?.reason === 'NewReplicaSetCreated' && progressing.reason === 'ReplicaSetUpdated')) {
      conditions = withCondition(conditions, progressing, true);
    }
    const status: Record<string, unknown> = {
      observedGeneration: deployment.metadata.generation ?? 1,
      replicas,
      updatedReplicas: updated,
      readyReplicas: sum('readyReplicas'),
      availableReplicas: available,
      ...(Math.max(0, replicas - available) > 0 ? { unavailableReplicas: Math.max(0, replicas - available) } : {}),
      conditions,
    };
    writeStatus(this.#ctx.store, BUILTINS.deployments, deployment, status);
  }
}

function replicasOf(rs: KubeObject): number {
  return ((rs.spec ?? {}) as { replicas?: number }).replicas ?? 1;
}

function revisionOf(rs: KubeObject): number {
  return Number(rs.metadata.annotations?.[REVISION] ?? 0);
}

function nextRevision(owned: KubeObject[]): number {
  return owned.reduce((max, rs) => Math.max(max, revisionOf(rs)), 0) + 1;
}

function isLatest(rs: KubeObject, owned: KubeObject[]): boolean {
  return owned.every((other) => revisionOf(other) <= revisionOf(rs));
}

function replicaAnnotations(spec: DeploymentSpec, revision: number): Record<string, string> {
  const replicas = spec.replicas ?? 1;
  return {
    'deployment.kubernetes.io/desired-replicas': String(replicas),
    'deployment.kubernetes.io/max-replicas': String(replicas + maxSurge(spec, replicas)),
    [REVISION]: String(revision),
  };
}

/** maxUnavailable as the Available condition uses it: 25% (rounded down) unless set; 0 for Recreate. */
function maxUnavailable(spec: DeploymentSpec, replicas: number): number {
  if (spec.strategy?.type === 'Recreate' || replicas === 0) return 0;
  return Math.min(replicas, resolve(spec.strategy?.rollingUpdate?.maxUnavailable ?? '25%', replicas, Math.floor));
}

function maxSurge(spec: DeploymentSpec, replicas: number): number {
  if (spec.strategy?.type === 'Recreate') return 0;
  return resolve(spec.strategy?.rollingUpdate?.maxSurge ?? '25%', replicas, Math.ceil);
}

function resolve(value: number | string, replicas: number, round: (n: number) => number): number {
  if (typeof value === 'number') return value;
  const percent = /^(\d+)%$/.exec(value);
  return percent ? round((Number(percent[1]) * replicas) / 100) : Number(value) || 0;
}
