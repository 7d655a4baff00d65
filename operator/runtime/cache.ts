// The read-only object cache a reflector fills: lookups, indexes and "has it caught up with my write?".
import type { KubernetesObject } from '@kubernetes/client-node';
import { matchesLabels, type LabelSelector } from './label-selector.ts';
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

// Cached objects share what they have in common. JSON.parse makes new strings and objects for
// every event, yet a thousand enclaves' children repeat the same label values, owner references,
// role rules and pod-template parts thousands of times (measured on the 200-enclave fleet's
// 6,204 objects: 8.2 MB on the heap each on its own, 3.2 MB with equal values and subtrees
// shared). Cached objects are deeply frozen, so an equal subtree can be one object: each is
// hashed bottom-up and looked up in a table of those seen before (equal when they hold the same
// keys, in order, with identical values: their children were shared first). Short strings the
// same way. Each table has two generations of at most SHARE_GENERATION entries: a value seen
// again survives a turnover, a one-off (a uid, a resourceVersion) goes with its generation.
const SHARE_GENERATION = 50_000;
const INTERN_MAX_LENGTH = 128;
const UNIQUE_KEYS = new Set(['uid', 'resourceVersion']);

class Generations<K, V> {
  #young = new Map<K, V>();
  #old = new Map<K, V>();

  get(key: K): V | undefined {
    const young = this.#young.get(key);
    if (young !== undefined) return young;
    const old = this.#old.get(key);
    if (old !== undefined) this.set(key, old);
    return old;
  }

  set(key: K, value: V): void {
    if (this.#young.size >= SHARE_GENERATION) {
      this.#old = this.#young;
      this.#young = new Map();
    }
    this.#young.set(key, value);
  }
}

const strings = new Generations<string, string>();
const subtrees = new Generations<number, object>();

function intern(text: string): string {
  const known = strings.get(text);
  if (known !== undefined) return known;
  strings.set(text, text);
  return text;
}

// The hash of the value last shared by `shared` (a second return value without allocating).
let lastHash = 0;

const mix = (hash: number, value: number): number => Math.imul(hash ^ value, 0x01000193) >>> 0;

function stringHash(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) hash = mix(hash, text.charCodeAt(i));
  return hash;
}

function valueHash(value: unknown): number {
  if (typeof value === 'string') return stringHash(value);
  if (typeof value === 'number') return Number.isInteger(value) ? mix(0x9e3779b9, value | 0) : stringHash(String(value));
  return value === true ? 1 : value === false ? 2 : 3;
}

/** True when two frozen subtrees hold the same keys in the same order with identical values. */
function sameShape(a: object, b: object): boolean {
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  const left = Object.keys(a);
  const right = Object.keys(b);
  if (left.length !== right.length) return false;
  for (let i = 0; i < left.length; i++) {
    const key = left[i] as string;
    if (key !== right[i] || (a as Record<string, unknown>)[key] !== (b as Record<string, unknown>)[key]) return false;
  }
  return true;
}

/**
 * Freezes `value` (fresh from JSON, not yet shared) with its children replaced by shared equal
 * ones, and returns the shared equal of the whole, or `value` itself when it is the first of its
 * kind or `unique` (an object's root and metadata: their uid and resourceVersion make them so).
 * Sets {@link lastHash}. A subtree frozen before it got here is kept as is and not looked up.
 */
function shared<T>(value: T, key = '', unique = false): T {
  if (typeof value === 'string') {
    lastHash = stringHash(value);
    return (value.length <= INTERN_MAX_LENGTH && !UNIQUE_KEYS.has(key) ? intern(value) : value) as T;
  }
  if (value === null || typeof value !== 'object') {
    lastHash = valueHash(value);
    return value;
  }
  if (Object.isFrozen(value)) {
    lastHash = 0;
    return value;
  }
  let hash = Array.isArray(value) ? 0x2545f491 : 0x3c6ef372;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      value[i] = shared(value[i]);
      hash = mix(hash, lastHash);
    }
  } else {
    const record = value as Record<string, unknown>;
    for (const name of Object.keys(record)) {
      record[name] = shared(record[name], name);
      hash = mix(mix(hash, stringHash(name)), lastHash);
    }
  }
  Object.freeze(value);
  lastHash = hash;
  if (unique) return value;
  const known = subtrees.get(hash);
  if (known !== undefined && sameShape(known, value)) return known as T;
  subtrees.set(hash, value);
  return value;
}

/**
 * Shares and freezes an object (see {@link shared}); its root and metadata stay its own. For the
 * cache, and for desired states kept between reconciles: what they have in common with the live
 * objects is then the same object, and comparing the two is mostly identity.
 */
export function shareObject(object: KubernetesObject): Readonly<KubernetesObject> {
  const record = object as unknown as Record<string, unknown>;
  for (const name of Object.keys(record)) record[name] = shared(record[name], name, name === 'metadata');
  return Object.freeze(object);
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
    this.noteResourceVersion(object.metadata?.resourceVersion);
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
    const seen = new Set<string>();
    for (const object of objects) {
      seen.add(objectKey(object));
      const { namespace, name } = this.#where(object);
      const previous = this.#byNamespace.get(namespace)?.get(name);
      if (!previous || previous.metadata?.resourceVersion !== object.metadata?.resourceVersion) this.upsert(object);
    }
    for (const object of this.list()) if (!seen.has(objectKey(object))) this.remove({ ...object, metadata: { ...object.metadata } });
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

  #emit(event: CacheEvent): void {
    for (const handler of this.#handlers) handler(event);
    this.#checkWaiters();
  }
}
