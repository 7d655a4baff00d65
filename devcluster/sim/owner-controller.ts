// What the simulated workload controllers (ReplicaSet, Deployment, StatefulSet, Job) share, as
// kube-controller-manager's controllers share it: a sync queue fed by the owners a controller
// keeps and by the objects they own, adoption of an orphan the owner's selector matches, and a
// status written only when it changed.
import type { ClusterStore } from '../store/cluster-store.ts';
import { CONTROLLER_MANAGER } from '../store/field-managers.ts';
import { jsonEqual } from '../../operator/runtime/json-equal.ts';
import type { KubeObject, ResourceType } from '../store/types.ts';
import type { SimContext } from './context.ts';
import { keyOf, type Informer } from './informer.ts';
import { controllerRef } from './ownership.ts';
import { SyncQueue } from './sync-queue.ts';

/** The `namespace/name` key of the object's controlling owner when it is of `kind`. */
function controllerKey(object: KubeObject, kind: string): string | undefined {
  const ref = object.metadata.ownerReferences?.find((r) => r.controller === true);
  return ref?.kind === kind ? `${object.metadata.namespace ?? 'default'}/${ref.name}` : undefined;
}

/**
 * The queue of a controller of `owners` whose children are in `owned`, wired as controller-
 * runtime's `For(owner).Owns(owned)`: an owner added or changed is synced, and so is the `kind`
 * owner controlling a child that changes. `sync` gets the cached owner, never one being deleted.
 */
export function ownerSyncQueue(
  ctx: SimContext,
  component: string,
  owners: Informer,
  owned: Informer,
  kind: string,
  sync: (owner: KubeObject, key: string) => void,
): SyncQueue {
  const queue = new SyncQueue(component, (key) => {
    const owner = owners.get(key);
    if (owner === undefined || owner.metadata.deletionTimestamp !== undefined) return;
    sync(owner, key);
  }, ctx.report);
  owners.onChange((type, owner) => {
    if (type !== 'DELETED') queue.add(keyOf(owner));
  });
  owned.onChange((_type, object) => {
    const owner = controllerKey(object, kind);
    if (owner !== undefined) queue.add(owner);
  });
  return queue;
}

/** Makes `owner` the controller of `orphan` (of type `rt`) by adding its controller reference. */
export function adopt(store: ClusterStore, rt: ResourceType, orphan: KubeObject, owner: KubeObject): void {
  const next = structuredClone(orphan);
  next.metadata.ownerReferences = [...(next.metadata.ownerReferences ?? []), controllerRef(owner)];
  store.update(rt, next, { fieldManager: CONTROLLER_MANAGER });
}

/** Writes `status` through `/status` as kube-controller-manager does, unless the object already has it. */
export function writeStatus(store: ClusterStore, rt: ResourceType, object: KubeObject, status: Record<string, unknown>): void {
  if (jsonEqual(object.status ?? {}, status)) return;
  store.update(rt, { ...object, status }, { subresource: 'status', fieldManager: CONTROLLER_MANAGER });
}
