// What kube-controller-manager's garbage collector and namespace controller do, run synchronously
// after each removal: the dependents of a removed owner are deleted (Background, Foreground) unless
// another of their owners lives on; a Foreground owner goes once its last dependent has; Orphan
// strips the owner from its dependents; a Terminating namespace is emptied and goes once empty
// and without finalizers; an object created with owners that are all gone is collected.
import { BUILTINS } from './builtins.ts';
import { CONTROLLER_MANAGER } from './field-managers.ts';
import { clone } from './objects.ts';
import type { ObjectStorage } from './storage.ts';
import type { TypeRegistry } from './type-registry.ts';
import type { KubeObject, OwnerReference, ResourceType } from './types.ts';
import { storageKeyOf } from './versions.ts';

/** How a delete treats the object's dependents (objects whose ownerReferences name it). */
export type PropagationPolicy = 'Background' | 'Foreground' | 'Orphan';

/** The store's reads and writes the collector uses: its changes take the store's normal write path. */
export interface CollectedStore {
  peek(rt: ResourceType, namespace: string | undefined, name: string): KubeObject | undefined;
  writeUpdate(rt: ResourceType, old: KubeObject, next: KubeObject, opts: { fieldManager: string }): unknown;
  delete(rt: ResourceType, namespace: string | undefined, name: string, opts: { propagationPolicy: PropagationPolicy }): unknown;
}

/** Removes a stored object now (commits DELETED) and then calls back into the collector. */
export type Remove = (rt: ResourceType, obj: KubeObject, policy: PropagationPolicy) => void;

/** Cascades deletions through owner references and namespaces, writing through the store. */
export class GarbageCollector {
  readonly #store: CollectedStore;
  readonly #storage: ObjectStorage;
  readonly #registry: TypeRegistry;
  readonly #remove: Remove;

  constructor(store: CollectedStore, storage: ObjectStorage, registry: TypeRegistry, remove: Remove) {
    this.#store = store;
    this.#storage = storage;
    this.#registry = registry;
    this.#remove = remove;
  }

  /** After `stored` (of namespace `ns`, '' if cluster-scoped) was removed: its dependents, its Foreground owners, its namespace. */
  afterRemoval(stored: KubeObject, ns: string, policy: PropagationPolicy): void {
    const uid = stored.metadata.uid ?? '';
    if (policy !== 'Orphan') this.deleteDependents(uid, policy === 'Foreground' ? 'Foreground' : 'Background');
    for (const ref of stored.metadata.ownerReferences ?? []) this.#releaseForegroundOwner(ref);
    if (ns !== '') this.#finishNamespaceIfEmpty(ns);
  }

  /** Deletes the dependents of `ownerUid` with `policy`; one that has another live owner only loses this one. */
  deleteDependents(ownerUid: string, policy: PropagationPolicy): void {
    for (const depUid of [...this.#storage.dependentsOf(ownerUid)]) {
      const dep = this.#storage.byUid(depUid);
      if (!dep) continue;
      const liveOwners = (dep.object.metadata.ownerReferences ?? []).filter(
        (r) => r.uid !== ownerUid && this.#storage.has(r.uid) && this.#storage.byUid(r.uid)?.object.metadata.deletionTimestamp === undefined,
      );
      if (liveOwners.length > 0) {
        const next = clone(dep.object);
        next.metadata.ownerReferences = (next.metadata.ownerReferences ?? []).filter((r) => r.uid !== ownerUid);
        this.#store.writeUpdate(dep.rt, dep.object, next, { fieldManager: CONTROLLER_MANAGER });
        continue;
      }
      this.#store.delete(dep.rt, dep.object.metadata.namespace, dep.object.metadata.name, { propagationPolicy: policy });
    }
  }

  /** Removes the owner reference to `ownerUid` from each of its dependents. */
  orphanDependents(ownerUid: string): void {
    for (const depUid of [...this.#storage.dependentsOf(ownerUid)]) {
      const dep = this.#storage.byUid(depUid);
      if (!dep) continue;
      const next = clone(dep.object);
      next.metadata.ownerReferences = (next.metadata.ownerReferences ?? []).filter((r) => r.uid !== ownerUid);
      if (next.metadata.ownerReferences.length === 0) delete next.metadata.ownerReferences;
      this.#store.writeUpdate(dep.rt, dep.object, next, { fieldManager: CONTROLLER_MANAGER });
    }
  }

  /** Deletes everything in a Terminating namespace (each object honouring its finalizers), then the namespace once empty. */
  emptyNamespace(ns: string): void {
    for (const rt of this.#registry.all()) {
      if (!rt.namespaced || rt.group === 'events.k8s.io') continue;
      for (const obj of this.#storage.inNamespace(storageKeyOf(rt), ns)?.values() ?? []) {
        if (obj.metadata.deletionTimestamp === undefined) this.#store.delete(rt, ns, obj.metadata.name, { propagationPolicy: 'Background' });
      }
    }
    this.#finishNamespaceIfEmpty(ns);
  }

  /** Deletes `obj`, in the background, when none of its owners exists any more. */
  collectOrphans(obj: KubeObject, rt: ResourceType): void {
    const refs = obj.metadata.ownerReferences ?? [];
    if (refs.length === 0) return;
    if (refs.some((r) => this.#storage.has(r.uid))) return;
    setImmediate(() => {
      const current = this.#store.peek(rt, obj.metadata.namespace, obj.metadata.name);
      if (!current || current.metadata.uid !== obj.metadata.uid) return;
      if ((current.metadata.ownerReferences ?? []).some((r) => this.#storage.has(r.uid))) return;
      this.#store.delete(rt, current.metadata.namespace, current.metadata.name, { propagationPolicy: 'Background' });
    });
  }

  #releaseForegroundOwner(ref: OwnerReference): void {
    const owner = this.#storage.byUid(ref.uid);
    if (!owner || owner.object.metadata.deletionTimestamp === undefined) return;
    if (!(owner.object.metadata.finalizers ?? []).includes('foregroundDeletion')) return;
    if (this.#storage.dependentsOf(ref.uid).size > 0) return;
    const next = clone(owner.object);
    next.metadata.finalizers = (next.metadata.finalizers ?? []).filter((f) => f !== 'foregroundDeletion');
    if (next.metadata.finalizers.length === 0) delete next.metadata.finalizers;
    this.#store.writeUpdate(owner.rt, owner.object, next, { fieldManager: CONTROLLER_MANAGER });
  }

  #finishNamespaceIfEmpty(ns: string): void {
    const namespace = this.#store.peek(BUILTINS.namespaces, undefined, ns);
    if (!namespace || namespace.metadata.deletionTimestamp === undefined) return;
    if (this.#storage.countInNamespace(ns) > 0) return;
    if ((namespace.metadata.finalizers ?? []).length > 0) return;
    this.#remove(BUILTINS.namespaces, namespace, 'Background');
  }
}
