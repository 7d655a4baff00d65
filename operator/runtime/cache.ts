// The read-only object cache a reflector fills: lookups, indexes and "has it caught up with my write?".
import type { KubernetesObject } from '@kubernetes/client-node';
import { matchesLabels, parseSelectorString, type EqualitySelector as LabelSelector } from '../../api/selectors.ts';
import { objectKey, type WatchedType } from './resources.ts';
import { shareObject } from './share-object.ts';

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
 * `metadata.managedFields` and kubectl's last-applied annotation are dropped on the way in (as
 * client-go's transforms do): nothing here reads them and they can double an object's memory.
 * The type's own `transform`, if any, runs first; equal values and subtrees are shared between objects.
 */
export interface ObjectCache {
  readonly type: WatchedType;
  /** True once the first full list has been stored; before that the cache may be incomplete. */
  readonly hasSynced: boolean;
  /** The newest resourceVersion the cache has seen (list, event or bookmark). */
  readonly resourceVersion: string;
  readonly size: number;
  get(name: string, namespace?: string): Readonly<KubernetesObject> | undefined;
  /**
   * Objects, optionally only in `namespace` and/or matching every `labels` entry. Objects are
   * kept by namespace, so a namespace makes this cost what that namespace holds; without one it
   * goes through the whole cache (fine for startup and metrics, not for every reconcile).
   */
  list(filter?: { namespace?: string; labels?: LabelSelector }): Readonly<KubernetesObject>[];
  /** Number of objects carrying `key=value`; goes through the whole cache (for metrics). */
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

/** Annotations no reader of the cache needs and that can be as large as the object itself. */
const DROPPED_ANNOTATIONS = ['kubectl.kubernetes.io/last-applied-configuration'];

/**
 * The mutable store behind an {@link ObjectCache}; only its reflector writes to it. Objects are
 * kept by namespace, then by name (no `namespace/name` keys: a thousand enclaves' children made
 * 150,000 concatenated key strings, and per-label and per-owner index sets cost as much again).
 */
export class Store implements ObjectCache {
  readonly type: WatchedType;
  #synced = false;
  #resourceVersion = '';
  /** Objects by namespace ('' for cluster-scoped kinds), then by name. */
  readonly #byNamespace = new Map<string, Map<string, Readonly<KubernetesObject>>>();
  #size = 0;
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
    return this.#size;
  }

  get(name: string, namespace?: string): Readonly<KubernetesObject> | undefined {
    return this.#byNamespace.get(this.type.namespaced ? (namespace ?? '') : '')?.get(name);
  }

  list(filter: { namespace?: string; labels?: LabelSelector } = {}): Readonly<KubernetesObject>[] {
    const groups = filter.namespace !== undefined ? [this.#byNamespace.get(filter.namespace)] : this.#byNamespace.values();
    const labels = filter.labels ?? {};
    const result: Readonly<KubernetesObject>[] = [];
    for (const group of groups) {
      if (group === undefined) continue;
      for (const object of group.values()) if (matchesLabels(object.metadata?.labels, labels)) result.push(object);
    }
    return result;
  }

  countLabelled(key: string, value: string): number {
    let count = 0;
    for (const group of this.#byNamespace.values()) for (const object of group.values()) if (object.metadata?.labels?.[key] === value) count += 1;
    return count;
  }

  #where(object: Readonly<KubernetesObject>): { namespace: string; name: string } {
    return { namespace: this.type.namespaced ? (object.metadata?.namespace ?? '') : '', name: object.metadata?.name ?? '' };
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
  upsert(received: KubernetesObject): void {
    this.#upsert(received, true);
  }

  /**
   * {@link upsert}, noting the object's resourceVersion as seen only when `noteVersion`: an
   * object of a list arriving is no sign that the objects listed before it are stored.
   */
  #upsert(received: KubernetesObject, noteVersion: boolean): void {
    const object = this.type.transform ? this.type.transform(received) : received;
    const { namespace, name } = this.#where(object);
    let group = this.#byNamespace.get(namespace);
    const previous = group?.get(name);
    const { managedFields: _managedFields, ...metadata } = object.metadata ?? {};
    if (metadata.annotations && DROPPED_ANNOTATIONS.some((name) => name in metadata.annotations!)) {
      metadata.annotations = Object.fromEntries(Object.entries(metadata.annotations).filter(([name]) => !DROPPED_ANNOTATIONS.includes(name)));
    }
    const frozen = shareObject({ ...object, apiVersion: this.type.apiVersion, kind: this.type.kind, metadata });
    if (group === undefined) this.#byNamespace.set(namespace, (group = new Map()));
    // The shared name string, not the one JSON.parse made for this event, is what the map keeps.
    group.set(frozen.metadata?.name ?? name, frozen);
    if (previous === undefined) this.#size += 1;
    if (noteVersion) this.noteResourceVersion(object.metadata?.resourceVersion);
    this.#emit(previous ? { type: 'MODIFIED', object: frozen, previous } : { type: 'ADDED', object: frozen });
  }

  /** Forgets a deleted object and tells subscribers (with its last known state). */
  remove(object: KubernetesObject): void {
    const { namespace, name } = this.#where(object);
    const group = this.#byNamespace.get(namespace);
    const previous = group?.get(name);
    this.noteResourceVersion(object.metadata?.resourceVersion);
    if (!group || !previous) return;
    group.delete(name);
    if (group.size === 0) this.#byNamespace.delete(namespace);
    this.#size -= 1;
    this.#emit({ type: 'DELETED', object: previous });
  }

  /**
   * Replaces the content with a full list, emitting only real differences: new objects as ADDED,
   * objects whose resourceVersion changed as MODIFIED, vanished ones as DELETED. Marks the cache synced.
   */
  replace(objects: readonly KubernetesObject[], resourceVersion: string): void {
    const replacing = this.startReplace();
    for (const object of objects) replacing.add(object);
    replacing.finish(resourceVersion);
  }

  /**
   * {@link replace} given the list an object at a time, so a list need not be held whole: each
   * object is stored (and told) as it comes, an unchanged one is dropped at once, and `finish`
   * removes those the list did not hold and marks the cache synced. The cache's resourceVersion
   * moves to the list's only at `finish`: a list does not come in resourceVersion order (etcd
   * lists by key), so until its end an object written before one already stored may still be on
   * its way, and a reconcile waiting to see its own write must not go on without it (it did: a
   * dataset volume not yet relisted was applied again, its claim binding undone, the claim lost).
   */
  startReplace(): { add(object: KubernetesObject): void; finish(resourceVersion: string): void } {
    const seen = new Set<string>();
    return {
      add: (object) => {
        seen.add(objectKey(object));
        const { namespace, name } = this.#where(object);
        const previous = this.#byNamespace.get(namespace)?.get(name);
        if (!previous || previous.metadata?.resourceVersion !== object.metadata?.resourceVersion) this.#upsert(object, false);
      },
      finish: (resourceVersion) => {
        for (const object of this.list()) if (!seen.has(objectKey(object))) this.remove({ ...object, metadata: { ...object.metadata } });
        this.noteResourceVersion(resourceVersion);
        if (!this.#synced) {
          this.#synced = true;
          const waiters = this.#syncWaiters;
          this.#syncWaiters = [];
          for (const resolve of waiters) resolve();
        }
      },
    };
  }

  /** Settles every pending `waitForResourceVersion`/`waitUntil` with false and releases `whenSynced` waiters; for shutdown. */
  close(): void {
    for (const waiter of [...this.#waiters]) waiter.resolve(false);
    const waiters = this.#syncWaiters;
    this.#syncWaiters = [];
    for (const resolve of waiters) resolve();
  }

  #emit(event: CacheEvent): void {
    for (const handler of this.#handlers) handler(event);
    this.#checkWaiters();
  }
}

/**
 * The cache of a type that is a view of a broader one ({@link WatchedType.viewOf}): the objects of
 * `base` that `type.labelSelector` selects, and only their events. An object that comes to carry
 * the labels is ADDED to the view, one that loses them DELETED. Freshness (resourceVersion, sync)
 * is the base's: one watch feeds both.
 */
export class CacheView implements ObjectCache {
  readonly type: WatchedType;
  readonly #base: ObjectCache;
  readonly #selector: LabelSelector;

  constructor(base: ObjectCache, type: WatchedType) {
    this.type = type;
    this.#base = base;
    this.#selector = parseSelectorString(type.labelSelector ?? '');
  }

  get hasSynced(): boolean {
    return this.#base.hasSynced;
  }

  get resourceVersion(): string {
    return this.#base.resourceVersion;
  }

  get size(): number {
    return this.list().length;
  }

  #selects(object: Readonly<KubernetesObject> | undefined): boolean {
    return object !== undefined && matchesLabels(object.metadata?.labels, this.#selector);
  }

  get(name: string, namespace?: string): Readonly<KubernetesObject> | undefined {
    const object = this.#base.get(name, namespace);
    return this.#selects(object) ? object : undefined;
  }

  list(filter: { namespace?: string; labels?: LabelSelector } = {}): Readonly<KubernetesObject>[] {
    return this.#base.list(filter).filter((object) => this.#selects(object));
  }

  countLabelled(key: string, value: string): number {
    return this.list({ labels: { [key]: value } }).length;
  }

  subscribe(handler: (event: CacheEvent) => void): () => void {
    return this.#base.subscribe((event) => {
      const was = event.type === 'MODIFIED' ? this.#selects(event.previous) : event.type === 'DELETED' && this.#selects(event.object);
      const is = event.type !== 'DELETED' && this.#selects(event.object);
      if (was && is) handler(event);
      else if (is) handler({ type: 'ADDED', object: event.object });
      // As the view last had it: an object whose labels no longer select it left the view as it was.
      else if (was) handler({ type: 'DELETED', object: event.previous ?? event.object });
    });
  }

  whenSynced(): Promise<void> {
    return this.#base.whenSynced();
  }

  waitForResourceVersion(resourceVersion: string, timeoutMs: number): Promise<boolean> {
    return this.#base.waitForResourceVersion(resourceVersion, timeoutMs);
  }

  waitUntil(condition: () => boolean, timeoutMs: number): Promise<boolean> {
    return this.#base.waitUntil(condition, timeoutMs);
  }
}
