// The stored objects, by storage key (versions.ts), namespace and name, with the indexes the write
// path needs: each object by uid, each owner's dependents (for the garbage collector) and how many
// objects each namespace holds (for namespace deletion). Objects go in and come out as they are:
// the store replaces a stored object on every write and never edits one in place.
import type { KubeObject, ResourceType } from './types.ts';

/** Where an object with a given uid is stored. */
interface Location {
  rt: ResourceType;
  key: string;
  ns: string;
  name: string;
}

/** The objects of every served type, and their uid, owner and namespace indexes. */
export class ObjectStorage {
  readonly #objects = new Map<string, Map<string, Map<string, KubeObject>>>();
  readonly #byUid = new Map<string, Location>();
  readonly #dependents = new Map<string, Set<string>>();
  readonly #nsCounts = new Map<string, number>();

  /** Makes room for the objects kept under `key`; those already there stay. */
  open(key: string): void {
    if (!this.#objects.has(key)) this.#objects.set(key, new Map());
  }

  /** Forgets the objects kept under `key` (the caller has removed them one by one first). */
  close(key: string): void {
    this.#objects.delete(key);
  }

  /** The object stored under `key` in namespace `ns` ('' when cluster-scoped). */
  get(key: string, ns: string, name: string): KubeObject | undefined {
    return this.#objects.get(key)?.get(ns)?.get(name);
  }

  /** The namespaces holding objects under `key` ('' for cluster-scoped ones), or undefined for a key never opened. */
  namespaces(key: string): string[] | undefined {
    const byNs = this.#objects.get(key);
    return byNs === undefined ? undefined : [...byNs.keys()];
  }

  /** The live map of one namespace's objects under `key`, by name. */
  inNamespace(key: string, ns: string): ReadonlyMap<string, KubeObject> | undefined {
    return this.#objects.get(key)?.get(ns);
  }

  /** Every object stored under `key`, namespace by namespace. */
  *all(key: string): Iterable<KubeObject> {
    for (const byName of this.#objects.get(key)?.values() ?? []) yield* byName.values();
  }

  /** Stores `obj` of type `rt` under `key` and indexes it by uid, owners and namespace. */
  put(rt: ResourceType, key: string, obj: KubeObject): void {
    const ns = rt.namespaced ? (obj.metadata.namespace ?? '') : '';
    let byNs = this.#objects.get(key);
    if (!byNs) {
      byNs = new Map();
      this.#objects.set(key, byNs);
    }
    let byName = byNs.get(ns);
    if (!byName) {
      byName = new Map();
      byNs.set(ns, byName);
    }
    const existed = byName.has(obj.metadata.name);
    byName.set(obj.metadata.name, obj);
    if (!existed && ns !== '') this.#nsCounts.set(ns, (this.#nsCounts.get(ns) ?? 0) + 1);
    const uid = obj.metadata.uid ?? '';
    this.#byUid.set(uid, { rt, key, ns, name: obj.metadata.name });
    for (const ref of obj.metadata.ownerReferences ?? []) {
      const set = this.#dependents.get(ref.uid) ?? new Set();
      set.add(uid);
      this.#dependents.set(ref.uid, set);
    }
  }

  /** Removes `obj` (as it was stored) and its index entries. */
  remove(rt: ResourceType, key: string, obj: KubeObject): void {
    const ns = rt.namespaced ? (obj.metadata.namespace ?? '') : '';
    const byName = this.#objects.get(key)?.get(ns);
    if (byName?.delete(obj.metadata.name) && ns !== '') {
      const n = (this.#nsCounts.get(ns) ?? 1) - 1;
      if (n <= 0) this.#nsCounts.delete(ns);
      else this.#nsCounts.set(ns, n);
    }
    const uid = obj.metadata.uid ?? '';
    this.#byUid.delete(uid);
    for (const ref of obj.metadata.ownerReferences ?? []) {
      const set = this.#dependents.get(ref.uid);
      set?.delete(uid);
      if (set?.size === 0) this.#dependents.delete(ref.uid);
    }
  }

  /** Whether an object with this uid is stored. */
  has(uid: string): boolean {
    return this.#byUid.has(uid);
  }

  /** The object with this uid and its type, if it is still stored. */
  byUid(uid: string): { rt: ResourceType; object: KubeObject } | undefined {
    const at = this.#byUid.get(uid);
    if (!at) return undefined;
    const object = this.get(at.key, at.ns, at.name);
    return object === undefined ? undefined : { rt: at.rt, object };
  }

  /** The uids of the objects whose ownerReferences name `ownerUid`. */
  dependentsOf(ownerUid: string): ReadonlySet<string> {
    return this.#dependents.get(ownerUid) ?? EMPTY;
  }

  /** How many objects (of any type) namespace `ns` holds. */
  countInNamespace(ns: string): number {
    return this.#nsCounts.get(ns) ?? 0;
  }
}

const EMPTY: ReadonlySet<string> = new Set();
