// The read-only object cache a reflector fills: lookups, indexes and "has it caught up with my write?".
import type { KubernetesObject } from '@kubernetes/client-node';
import { matchesLabels, type LabelSelector } from './labels.ts';
import { objectKey, type WatchedType } from './resources.ts';

/** A change the cache applied, as handed to subscribers; objects are frozen. */
export interface CacheEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  object: Readonly<KubernetesObject>;
  /** The object before a MODIFIED; lets owner mapping see a reference that was removed. */
  previous?: Readonly<KubernetesObject>;
}

/**
 * A read-only view of one resource type as last seen by its watch. Every object handed out is
 * deeply frozen: it is shared with every other reader, so copy (`structuredClone`) before changing.
 * `metadata.managedFields` is dropped on the way in (as client-go's transform does): nothing here
 * reads it and it roughly doubles the memory of a cached object.
 */
export interface ObjectCache {
  readonly type: WatchedType;
  /** True once the first full list has been stored; before that the cache may be incomplete. */
  readonly hasSynced: boolean;
  /** The newest resourceVersion the cache has seen (list, event or bookmark). */
  readonly resourceVersion: string;
  readonly size: number;
  get(name: string, namespace?: string): Readonly<KubernetesObject> | undefined;
  /** Objects, optionally only in `namespace` and/or matching every `labels` entry. */
  list(filter?: { namespace?: string; labels?: LabelSelector }): Readonly<KubernetesObject>[];
  /** Objects whose ownerReferences name `uid`. */
  byOwner(uid: string): Readonly<KubernetesObject>[];
  /** Number of objects carrying `key=value`; answered from the label index. */
  countLabelled(key: string, value: string): number;
  /** Calls `handler` after each change; returns the unsubscribe function. */
  subscribe(handler: (event: CacheEvent) => void): () => void;
  /** Resolves once the cache has synced for the first time, or when it is closed (check `hasSynced`). */
  whenSynced(): Promise<void>;
  /**
   * Resolves true once the cache has seen `resourceVersion` or later, false after `timeoutMs`.
   * Caveat: it orders resourceVersions as integers, which etcd-backed servers (and the dev cluster)
   * issue; for non-numeric versions it resolves true at once, as the API calls them opaque.
   */
  waitForResourceVersion(resourceVersion: string, timeoutMs: number): Promise<boolean>;
  /** Resolves true once `condition()` holds (checked after every change), false after `timeoutMs`. */
  waitUntil(condition: () => boolean, timeoutMs: number): Promise<boolean>;
}

/** Compares two resourceVersions as integers; undefined when either is not numeric. */
export function compareResourceVersions(a: string, b: string): number | undefined {
  if (!/^\d+$/.test(a) || !/^\d+$/.test(b)) return undefined;
  const left = BigInt(a);
  const right = BigInt(b);
  return left === right ? 0 : left < right ? -1 : 1;
}

/** Freezes `value` and everything reachable from it; returns it. */
export function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

function addToIndex(index: Map<string, Set<string>>, indexKey: string, key: string): void {
  let keys = index.get(indexKey);
  if (!keys) index.set(indexKey, (keys = new Set()));
  keys.add(key);
}

function removeFromIndex(index: Map<string, Set<string>>, indexKey: string, key: string): void {
  const keys = index.get(indexKey);
  if (!keys) return;
  keys.delete(key);
  if (keys.size === 0) index.delete(indexKey);
}

/**
 * The mutable store behind an {@link ObjectCache}; only its reflector writes to it. Indexes by
 * namespace, by `label=value` and by owner uid are kept in step with every change.
 */
export class Store implements ObjectCache {
  readonly type: WatchedType;
  #synced = false;
  #resourceVersion = '';
  readonly #objects = new Map<string, Readonly<KubernetesObject>>();
  readonly #byNamespace = new Map<string, Set<string>>();
  readonly #byLabel = new Map<string, Set<string>>();
  readonly #byOwner = new Map<string, Set<string>>();
  readonly #handlers = new Set<(event: CacheEvent) => void>();
  #syncWaiters: Array<() => void> = [];
  #waiters: Array<{ condition: () => boolean; resolve: (met: boolean) => void }> = [];

  constructor(type: WatchedType) {
    this.type = type;
  }

  get hasSynced(): boolean {
    return this.#synced;
  }

  get resourceVersion(): string {
    return this.#resourceVersion;
  }

  get size(): number {
    return this.#objects.size;
  }

  get(name: string, namespace?: string): Readonly<KubernetesObject> | undefined {
    return this.#objects.get(this.type.namespaced && namespace ? `${namespace}/${name}` : name);
  }

  list(filter: { namespace?: string; labels?: LabelSelector } = {}): Readonly<KubernetesObject>[] {
    let keys: Iterable<string>;
    const labelEntries = Object.entries(filter.labels ?? {});
    if (filter.namespace !== undefined) keys = this.#byNamespace.get(filter.namespace) ?? [];
    else if (labelEntries.length > 0) keys = this.#byLabel.get(`${labelEntries[0]![0]}=${labelEntries[0]![1]}`) ?? [];
    else keys = this.#objects.keys();
    const result: Readonly<KubernetesObject>[] = [];
    for (const key of keys) {
      const object = this.#objects.get(key);
      if (object && matchesLabels(object.metadata?.labels, filter.labels ?? {})) result.push(object);
    }
    return result;
  }

  byOwner(uid: string): Readonly<KubernetesObject>[] {
    return [...(this.#byOwner.get(uid) ?? [])].flatMap((key) => this.#objects.get(key) ?? []);
  }

  countLabelled(key: string, value: string): number {
    return this.#byLabel.get(`${key}=${value}`)?.size ?? 0;
  }

  subscribe(handler: (event: CacheEvent) => void): () => void {
    this.#handlers.add(handler);
    return () => this.#handlers.delete(handler);
  }

  whenSynced(): Promise<void> {
    if (this.#synced) return Promise.resolve();
    return new Promise((resolve) => this.#syncWaiters.push(resolve));
  }

  waitForResourceVersion(resourceVersion: string, timeoutMs: number): Promise<boolean> {
    return this.waitUntil(() => this.#hasSeen(resourceVersion), timeoutMs);
  }

  waitUntil(condition: () => boolean, timeoutMs: number): Promise<boolean> {
    if (condition()) return Promise.resolve(true);
    return new Promise((resolve) => {
      const waiter = {
        condition,
        resolve: (met: boolean) => {
          clearTimeout(timer);
          this.#waiters = this.#waiters.filter((other) => other !== waiter);
          resolve(met);
        },
      };
      const timer = setTimeout(() => waiter.resolve(false), timeoutMs);
      timer.unref();
      this.#waiters.push(waiter);
    });
  }

  #checkWaiters(): void {
    for (const waiter of [...this.#waiters]) if (waiter.condition()) waiter.resolve(true);
  }

  #hasSeen(resourceVersion: string): boolean {
    const order = compareResourceVersions(this.#resourceVersion, resourceVersion);
    return order === undefined || order >= 0;
  }

  /** Records the newest resourceVersion seen (from a list, an event or a bookmark). */
  noteResourceVersion(resourceVersion: string | undefined): void {
    if (!resourceVersion) return;
    const order = compareResourceVersions(resourceVersion, this.#resourceVersion);
    if (this.#resourceVersion !== '' && order !== undefined && order <= 0) return;
    this.#resourceVersion = resourceVersion;
    this.#checkWaiters();
  }

  /** Stores an added or modified object and tells subscribers. */
  upsert(object: KubernetesObject): void {
    const key = objectKey(object);
    const previous = this.#objects.get(key);
    const { managedFields: _managedFields, ...metadata } = object.metadata ?? {};
    const frozen = deepFreeze({ ...object, apiVersion: this.type.apiVersion, kind: this.type.kind, metadata });
    if (previous) this.#unindex(key, previous);
    this.#objects.set(key, frozen);
    this.#index(key, frozen);
    this.noteResourceVersion(object.metadata?.resourceVersion);
    this.#emit(previous ? { type: 'MODIFIED', object: frozen, previous } : { type: 'ADDED', object: frozen });
  }

  /** Forgets a deleted object and tells subscribers (with its last known state). */
  remove(object: KubernetesObject): void {
    const key = objectKey(object);
    const previous = this.#objects.get(key);
    this.noteResourceVersion(object.metadata?.resourceVersion);
    if (!previous) return;
    this.#unindex(key, previous);
    this.#objects.delete(key);
    this.#emit({ type: 'DELETED', object: previous });
  }

  /**
   * Replaces the content with a full list, emitting only real differences: new objects as ADDED,
   * objects whose resourceVersion changed as MODIFIED, vanished ones as DELETED. Marks the cache synced.
   */
  replace(objects: readonly KubernetesObject[], resourceVersion: string): void {
    const seen = new Set<string>();
    for (const object of objects) {
      const key = objectKey(object);
      seen.add(key);
      const previous = this.#objects.get(key);
      if (!previous || previous.metadata?.resourceVersion !== object.metadata?.resourceVersion) this.upsert(object);
    }
    for (const [key, object] of [...this.#objects]) if (!seen.has(key)) this.remove({ ...object, metadata: { ...object.metadata } });
    this.noteResourceVersion(resourceVersion);
    if (!this.#synced) {
      this.#synced = true;
      const waiters = this.#syncWaiters;
      this.#syncWaiters = [];
      for (const resolve of waiters) resolve();
    }
  }

  /** Settles every pending `waitForResourceVersion`/`waitUntil` with false and releases `whenSynced` waiters; for shutdown. */
  close(): void {
    for (const waiter of [...this.#waiters]) waiter.resolve(false);
    const waiters = this.#syncWaiters;
    this.#syncWaiters = [];
    for (const resolve of waiters) resolve();
  }

  #index(key: string, object: Readonly<KubernetesObject>): void {
    addToIndex(this.#byNamespace, object.metadata?.namespace ?? '', key);
    for (const [label, value] of Object.entries(object.metadata?.labels ?? {})) addToIndex(this.#byLabel, `${label}=${value}`, key);
    for (const owner of object.metadata?.ownerReferences ?? []) addToIndex(this.#byOwner, owner.uid, key);
  }

  #unindex(key: string, object: Readonly<KubernetesObject>): void {
    removeFromIndex(this.#byNamespace, object.metadata?.namespace ?? '', key);
    for (const [label, value] of Object.entries(object.metadata?.labels ?? {})) removeFromIndex(this.#byLabel, `${label}=${value}`, key);
    for (const owner of object.metadata?.ownerReferences ?? []) removeFromIndex(this.#byOwner, owner.uid, key);
  }

  #emit(event: CacheEvent): void {
    for (const handler of this.#handlers) handler(event);
    this.#checkWaiters();
  }
}
