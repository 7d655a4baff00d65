// The simulated controllers' informers, as client-go's shared index informers serve
// kube-controller-manager: a local copy of one resource type kept current by a synchronous watch
// of the in-process store, with secondary indexes (owner, node, claim) so controllers never scan
// every object to find the few they care about, and change handlers that enqueue work.
import type { ClusterStore } from '../store/cluster-store.ts';
import type { KubeObject, ResourceType } from '../store/types.ts';

/** What changed; `previous` is the cached object before a MODIFIED or DELETED. */
export type ChangeType = 'ADDED' | 'MODIFIED' | 'DELETED';
/** Called after the cache has applied a change; must only enqueue work, never write. */
export type ChangeHandler = (type: ChangeType, object: KubeObject, previous: KubeObject | undefined) => void;
/** Maps an object to the index values it is filed under. */
export type IndexFunction = (object: KubeObject) => readonly string[];

/** `namespace/name`, or `name` for cluster-scoped objects: the sync-queue key of an object. */
export function keyOf(object: KubeObject): string {
  return object.metadata.namespace ? `${object.metadata.namespace}/${object.metadata.name}` : object.metadata.name;
}

/** The uid of the object's controlling owner, if it has one. */
function controllerUid(object: KubeObject): string | undefined {
  return object.metadata.ownerReferences?.find((ref) => ref.controller === true)?.uid;
}

/** Index of objects by their controlling owner's uid. */
export const byController: IndexFunction = (object) => {
  const uid = controllerUid(object);
  return uid === undefined ? [] : [uid];
};

/**
 * The cached objects of one resource type. Objects handed out are the cache's own copies: they
 * never change in place (a change replaces them), and callers must clone before editing.
 */
export class Informer {
  readonly rt: ResourceType;
  readonly #store: ClusterStore;
  readonly #objects = new Map<string, KubeObject>();
  readonly #indexes = new Map<string, { of: IndexFunction; entries: Map<string, Map<string, KubeObject>> }>();
  readonly #handlers: ChangeHandler[] = [];
  #unsubscribe: (() => void) | undefined;

  constructor(store: ClusterStore, rt: ResourceType) {
    this.#store = store;
    this.rt = rt;
  }

  /** Files every object under the values `of` returns; add indexes before start(). */
  addIndex(name: string, of: IndexFunction): void {
    this.#indexes.set(name, { of, entries: new Map() });
  }

  /** Registers a handler; handlers added before start() also see the initial objects as ADDED. */
  onChange(handler: ChangeHandler): void {
    this.#handlers.push(handler);
  }

  /**
   * Loads the current objects and follows every later change. It watches rather than subscribes
   * because a watch hands over the stored objects without copying them (the store replaces,
   * never edits, a stored object); this cache never edits them either, and copying every change
   * of every object was most of the simulation's cost.
   */
  start(): void {
    this.#unsubscribe = this.#store.watch(this.rt, {}, (type, object) => {
      if (type !== 'BOOKMARK') this.#apply(type, object);
    });
  }

  /** Stops following the store. */
  stop(): void {
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
  }

  /** The cached object, or undefined. */
  get(key: string): KubeObject | undefined {
    return this.#objects.get(key);
  }

  /** Every cached object, in insertion order. */
  values(): IterableIterator<KubeObject> {
    return this.#objects.values();
  }

  /** The objects filed under `value` in the named index. */
  indexed(name: string, value: string): KubeObject[] {
    const entries = this.#indexes.get(name)?.entries.get(value);
    return entries === undefined ? [] : [...entries.values()];
  }

  #apply(type: ChangeType, object: KubeObject): void {
    const key = keyOf(object);
    const previous = this.#objects.get(key);
    if (previous !== undefined) this.#unindex(key, previous);
    if (type === 'DELETED') this.#objects.delete(key);
    else {
      this.#objects.set(key, object);
      this.#index(key, object);
    }
    for (const handler of this.#handlers) handler(type, object, previous);
  }

  #index(key: string, object: KubeObject): void {
    for (const { of, entries } of this.#indexes.values()) {
      for (const value of of(object)) {
        let bucket = entries.get(value);
        if (bucket === undefined) entries.set(value, (bucket = new Map()));
        bucket.set(key, object);
      }
    }
  }

  #unindex(key: string, object: KubeObject): void {
    for (const { of, entries } of this.#indexes.values()) {
      for (const value of of(object)) {
        const bucket = entries.get(value);
        bucket?.delete(key);
        if (bucket?.size === 0) entries.delete(value);
      }
    }
  }
}
