// Finalizers, the kube-rs way: added before any side effect, removed only if still where we saw it.
import type { KubernetesObject } from '@kubernetes/client-node';
import type { JsonPatchOperation, KubeClient } from './kube.ts';
import type { ResourceType } from './resources.ts';

function hasFinalizer(object: Readonly<KubernetesObject>, finalizer: string): boolean {
  return object.metadata?.finalizers?.includes(finalizer) ?? false;
}

/** True when deletion has been requested: cleanup runs now, then the finalizer is removed. */
export function isDeleting(object: Readonly<KubernetesObject>): boolean {
  return Boolean(object.metadata?.deletionTimestamp);
}

/**
 * Adds `finalizer` to `object` unless it is there; returns the stored object when it wrote. The
 * JSON Patch first tests the list as we saw it (or, when there was none, the resourceVersion), so
 * a concurrent change makes the write fail (and the reconcile retry) instead of losing someone
 * else's finalizer.
 */
export async function addFinalizer(client: KubeClient, type: ResourceType, object: Readonly<KubernetesObject>, finalizer: string): Promise<KubernetesObject | undefined> {
  if (hasFinalizer(object, finalizer)) return undefined;
  const current = object.metadata?.finalizers;
  const operations: JsonPatchOperation[] = current
    ? [
        { op: 'test', path: '/metadata/finalizers', value: current },
        { op: 'add', path: '/metadata/finalizers/-', value: finalizer },
      ]
    : [
        // Not `test … null`: RFC 6902 says testing a missing path fails, and servers differ on it.
        { op: 'test', path: '/metadata/resourceVersion', value: object.metadata?.resourceVersion },
        { op: 'add', path: '/metadata/finalizers', value: [finalizer] },
      ];
  return client.jsonPatch(type, object.metadata?.name ?? '', object.metadata?.namespace, operations);
}

/**
 * Removes `finalizer` from `object` if present; returns the stored object when it wrote (the
 * object may then be gone). A JSON Patch `test`+`remove` on its index, so it removes exactly that
 * entry or fails if the list changed meanwhile.
 */
export async function removeFinalizer(client: KubeClient, type: ResourceType, object: Readonly<KubernetesObject>, finalizer: string): Promise<KubernetesObject | undefined> {
  const index = object.metadata?.finalizers?.indexOf(finalizer) ?? -1;
  if (index < 0) return undefined;
  return client.jsonPatch(type, object.metadata?.name ?? '', object.metadata?.namespace, [
    { op: 'test', path: `/metadata/finalizers/${index}`, value: finalizer },
    { op: 'remove', path: `/metadata/finalizers/${index}` },
  ]);
}
