// What an update keeps of the stored object, as the real registry's PrepareForUpdate: a write of
// the main resource cannot change status (where the type has a status subresource) or the
// server-set metadata; a `/status` write changes status alone. And when an update moves
// metadata.generation: when anything but metadata and status changed (status too, for a type
// without the subresource).
import { clone } from './objects.ts';
import { jsonEqual } from '../../operator/runtime/json-equal.ts';
import type { KubeObject, ResourceType } from './types.ts';

const SYSTEM_FIELDS = ['apiVersion', 'kind', 'metadata', 'status'];

/** The object an update of `old` with `incoming` stores (before admission); `incoming` is reused. */
export function mergeForUpdate(rt: ResourceType, old: KubeObject, incoming: KubeObject, subresource: 'status' | undefined): KubeObject {
  let next: KubeObject;
  if (subresource === 'status') {
    next = clone(old);
    if (incoming.status === undefined) delete next.status;
    else next.status = incoming.status;
  } else {
    next = incoming;
    if (rt.statusSubresource) {
      if (old.status === undefined) delete next.status;
      else next.status = clone(old.status);
    }
    const m = next.metadata;
    const om = old.metadata;
    m.uid = om.uid;
    m.creationTimestamp = om.creationTimestamp;
    m.generation = om.generation;
    if (om.deletionTimestamp !== undefined) m.deletionTimestamp = om.deletionTimestamp;
    else delete m.deletionTimestamp;
    if (om.deletionGracePeriodSeconds !== undefined) m.deletionGracePeriodSeconds = om.deletionGracePeriodSeconds;
    else delete m.deletionGracePeriodSeconds;
    if (m.managedFields === undefined && om.managedFields !== undefined) m.managedFields = clone(om.managedFields);
    if (rt.namespaced) m.namespace = om.namespace;
    delete m.generateName;
    if (om.generateName !== undefined) m.generateName = om.generateName;
  }
  return next;
}

/** Whether the update from `old` to `next` changed the spec (anything generation counts). */
export function specChanged(rt: ResourceType, old: KubeObject, next: KubeObject): boolean {
  const keys = new Set([...Object.keys(old), ...Object.keys(next)]);
  for (const k of keys) {
    if (SYSTEM_FIELDS.includes(k) && !(k === 'status' && !rt.statusSubresource)) continue;
    if (!jsonEqual(old[k], next[k])) return true;
  }
  return false;
}
