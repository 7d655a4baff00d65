// Which primaries a watch event reconciles: a child maps to its owner, and a change can be one
// the reconciler does not read (a status it ignores).
import type { KubernetesObject } from '@kubernetes/client-node';
import type { CacheEvent } from './cache.ts';
import { jsonEqual } from './json-equal.ts';
import { groupOf, type WatchedType } from './resources.ts';

/**
 * Which changes of a watched kind reconcile: `'all'`; `'spec'`, ignoring changes confined to
 * `status` (see {@link statusOnlyChange}); or a function deciding per event.
 */
export type Changes = 'all' | 'spec' | ((event: CacheEvent) => boolean);

/** True when `event` is one of the `changes` that reconcile (all of them when unset). */
export function reconciles(changes: Changes | undefined, event: CacheEvent): boolean {
  if (changes === 'spec') return !statusOnlyChange(event);
  return typeof changes === 'function' ? changes(event) : true;
}

/**
 * True for a MODIFIED event that changed nothing but `status`, with the resourceVersion that
 * comes with any write and the server's record of who set which field (`managedFields`):
 * controller-runtime's predicates filter these for watches whose status the reconciler never
 * reads. A status write changes `managedFields` whenever its writer takes fields over from
 * another: on kube-apiserver 1.23 a ResourceQuota's usage passes back and forth between quota
 * admission and the quota controller as objects are created in its namespace. Any other change
 * to metadata (labels, owners, finalizers, deletion) or to the rest of the object counts, so
 * drift in a child's spec, rules or subjects still reconciles.
 */
export function statusOnlyChange(event: CacheEvent): boolean {
  if (event.type !== 'MODIFIED' || event.previous === undefined) return false;
  const before = event.previous as Readonly<Record<string, unknown>>;
  const after = event.object as Readonly<Record<string, unknown>>;
  return sameExcept(before, after, 'status', 'metadata') && sameExcept((before.metadata ?? {}) as Record<string, unknown>, (after.metadata ?? {}) as Record<string, unknown>, 'resourceVersion', 'managedFields');
}

/**
 * True when `a` and `b` hold equal values under every key but those skipped. The cache shares an
 * unchanged subtree between an object's versions, so most values are the same object.
 */
function sameExcept(a: Readonly<Record<string, unknown>>, b: Readonly<Record<string, unknown>>, ...skipped: string[]): boolean {
  for (const key of new Set([...Object.keys(a), ...Object.keys(b)])) {
    if (!skipped.includes(key) && !jsonEqual(a[key], b[key])) return false;
  }
  return true;
}

/**
 * The keys of the primaries `child` belongs to: named by an owner reference with
 * `controller: true` to the primary's kind and API group, or by the value of `ownerLabel`. For a
 * namespaced primary the key is the child's namespace plus that name.
 */
export function ownerKeys(primary: WatchedType, ownerLabel: string | undefined, child: Readonly<KubernetesObject>): string[] {
  const keys = new Set<string>();
  const namespacePrefix = primary.namespaced ? `${child.metadata?.namespace ?? ''}/` : '';
  for (const reference of child.metadata?.ownerReferences ?? []) {
    if (reference.controller && reference.kind === primary.kind && groupOf(reference.apiVersion) === groupOf(primary.apiVersion)) {
      keys.add(`${namespacePrefix}${reference.name}`);
    }
  }
  const labelled = ownerLabel ? child.metadata?.labels?.[ownerLabel] : undefined;
  if (labelled) keys.add(`${namespacePrefix}${labelled}`);
  return [...keys];
}

/** The owners' keys of a changed child, before and after the change (a removed reference still reconciles its old owner). */
export function ownerKeysOfEvent(primary: WatchedType, ownerLabel: string | undefined, event: CacheEvent): string[] {
  const keys = new Set<string>();
  for (const object of event.previous ? [event.previous, event.object] : [event.object]) {
    for (const key of ownerKeys(primary, ownerLabel, object)) keys.add(key);
  }
  return [...keys];
}
