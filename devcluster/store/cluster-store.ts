// The devcluster's store: the single source of truth behind the HTTP API and the simulated
// cluster, as kube-apiserver's registry and etcd are for a real one. It ties the other files of
// this folder together along the write path: names and namespaces checked, uid, resourceVersion
// (one monotonic counter) and timestamps set, the admission plugins run (their contract is here;
// the plugins are in devcluster/admission/), generation moved on spec changes, optimistic
// concurrency, finalizers and delete propagation (garbage-collector.ts), and each committed
// change recorded for watches to resume from (history.ts) and fanned out (change-fan-out.ts).
import { randomUUID } from 'node:crypto';
import { BUILTINS, INITIAL_NAMESPACES } from './builtins.ts';
import { ChangeFanOut, watchFilter } from './change-fan-out.ts';
import type { CommittedChange, ListenerErrorHandler } from './change-fan-out.ts';
import { ApiError, alreadyExists, badRequest, forbidden, notFound, staleConflict } from './errors.ts';
import { GarbageCollector } from './garbage-collector.ts';
import type { PropagationPolicy } from './garbage-collector.ts';
import { WatchHistory } from './history.ts';
import type { HistoryEntry } from './history.ts';
import { page, scan } from './listing.ts';
import type { ListOptions, ListPage, PageOptions } from './listing.ts';
import { validateName } from './object-names.ts';
import { clone, randomSuffix } from './objects.ts';
import { jsonEqual } from '../../operator/runtime/json-equal.ts';
import { snapshotOf } from './snapshot.ts';
import type { Snapshot } from './snapshot.ts';
import { ObjectStorage } from './storage.ts';
import { timestamp } from './timestamps.ts';
import { TypeRegistry, typeKeyOf } from './type-registry.ts';
import type { KubeObject, ResourceType, StoreEvent, WatchEventType } from './types.ts';
import { mergeForUpdate, specChanged } from './update-merge.ts';
import { apiVersionOf, asServed, asStored, storageKeyOf } from './versions.ts';

/** The `fieldValidation` query parameter of writes. */
export type FieldValidation = 'Strict' | 'Warn' | 'Ignore';

/** What an admission plugin is told about the write it is admitting. */
export interface AdmissionContext {
  store: ClusterStore;
  rt: ResourceType;
  operation: 'CREATE' | 'UPDATE';
  old?: KubeObject;
  subresource?: 'status';
  fieldManager?: string;
  /** How to treat unknown fields: 'Strict' rejects them (400), otherwise they are pruned. */
  fieldValidation?: FieldValidation;
}

/**
 * Hooks into the write path, run in the order added, as a real API server runs its admission
 * chain. `admit` may default (mutate `obj`) or throw an ApiError to reject; `afterCommit` may
 * write other objects (quota status, CRD establishment). A plugin is handed the store itself,
 * which is why this contract lives beside it.
 */
export interface StorePlugin {
  readonly name: string;
  admit?(obj: KubeObject, ctx: AdmissionContext): void;
  afterCommit?(change: CommittedChange, store: ClusterStore): void;
}

/** Options common to create and update. */
export interface WriteOptions {
  fieldManager?: string;
  dryRun?: boolean;
  fieldValidation?: FieldValidation;
  /** The caller already set metadata.managedFields (server-side apply); skip update tracking. */
  managedFieldsSet?: boolean;
}

/** Options for creating the store. */
export interface StoreOptions {
  /** Changes kept for watches to resume from; older resourceVersions get 410 Gone. */
  historySize?: number;
  plugins?: StorePlugin[];
  /** Clock, for tests that need deterministic timestamps. */
  now?: () => Date;
  /** Told when a subscriber or plugin throws while a committed change is delivered (default: stderr). */
  onListenerError?: ListenerErrorHandler;
}

/** Updates another plugin may need to make managedFields and other derived metadata current. */
export interface FieldTracker {
  track(rt: ResourceType, previous: KubeObject | undefined, next: KubeObject, manager: string, subresource: 'status' | undefined): void;
}

/** The whole cluster's state, as kube-apiserver's storage holds it (not a cache of it); every method is synchronous and every write is committed atomically. */
export class ClusterStore {
  #rv = 0;
  readonly #registry = new TypeRegistry();
  readonly #storage = new ObjectStorage();
  readonly #history: WatchHistory;
  readonly #plugins: StorePlugin[];
  readonly #fanOut: ChangeFanOut;
  readonly #gc: GarbageCollector;
  readonly #now: () => Date;
  /** Set by the server-side-apply module to keep managedFields current on every write. */
  fieldTracker: FieldTracker | undefined;

  constructor(opts: StoreOptions = {}) {
    this.#history = new WatchHistory(opts.historySize ?? 50_000);
    this.#plugins = [...(opts.plugins ?? [])];
    this.#now = opts.now ?? (() => new Date());
    const onListenerError: ListenerErrorHandler = opts.onListenerError
      ?? ((err, change) => console.error(`devcluster: a listener failed on ${change.type} ${change.resource.resource}/${change.object.metadata.name}:`, err));
    const afterCommit = (change: CommittedChange, guarded: (fn: () => void) => void): void => {
      for (const p of this.#plugins) if (p.afterCommit) guarded(() => p.afterCommit?.(change, this));
    };
    this.#fanOut = new ChangeFanOut(afterCommit, onListenerError);
    this.#gc = new GarbageCollector(this, this.#storage, this.#registry, (rt, obj, policy) => this.#removeNow(rt, obj, policy));
    for (const rt of Object.values(BUILTINS)) this.registerType(rt);
    for (const name of INITIAL_NAMESPACES) {
      this.create(BUILTINS.namespaces, { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
    }
  }

  /** Adds an admission/after-commit plugin (plugins run in the order added); returns its removal. */
  use(plugin: StorePlugin): () => void {
    this.#plugins.push(plugin);
    return () => {
      const at = this.#plugins.indexOf(plugin);
      if (at >= 0) this.#plugins.splice(at, 1);
    };
  }

  /** Calls `hook` after every committed write (persistence uses it to schedule a save). */
  onWrite(hook: () => void): () => void {
    return this.#fanOut.onWrite(hook);
  }

  // ---- resource types -------------------------------------------------------------------------

  /** Serves a resource type (built-ins at start, CRDs once established). */
  registerType(rt: ResourceType): void {
    this.#registry.add(rt);
    this.#storage.open(storageKeyOf(rt));
  }

  /** Stops serving a resource type and forgets its objects (a CRD was deleted). */
  unregisterType(group: string, resource: string): void {
    const rt = this.#registry.get(group, resource);
    if (!rt) return;
    for (const obj of this.scan(rt, {})) this.#removeNow(rt, obj, 'Background');
    this.#registry.remove(rt);
    this.#storage.close(storageKeyOf(rt));
  }

  /** Resource types known now (built-ins plus established CRDs). */
  resourceType(group: string, resource: string): ResourceType | undefined {
    return this.#registry.get(group, resource);
  }

  /** Every served resource type. */
  resourceTypes(): ResourceType[] {
    return this.#registry.all();
  }

  /** The current value of the resourceVersion counter. */
  currentResourceVersion(): string {
    return String(this.#rv);
  }

  // ---- reads ----------------------------------------------------------------------------------

  /** Deep copies; never the stored object. */
  get(rt: ResourceType, namespace: string | undefined, name: string): KubeObject | undefined {
    const obj = this.peek(rt, namespace, name);
    return obj === undefined ? undefined : asServed(rt, clone(obj));
  }

  /** The stored object itself, for serialising without a copy; callers must not mutate it. */
  peek(rt: ResourceType, namespace: string | undefined, name: string): KubeObject | undefined {
    return this.#storage.get(storageKeyOf(rt), rt.namespaced ? (namespace ?? '') : '', name);
  }

  /** Deep copies of every matching object, sorted by namespace and name. */
  list(rt: ResourceType, opts: ListOptions = {}): { items: KubeObject[]; resourceVersion: string } {
    return { items: this.scan(rt, opts).map((o) => asServed(rt, clone(o))), resourceVersion: String(this.#rv) };
  }

  /** One page of matching stored objects (not copies), with a continue token for the next. */
  listPage(rt: ResourceType, opts: ListOptions & PageOptions = {}): ListPage {
    return page(this.scan(rt, opts), String(this.#rv), opts);
  }

  /** Stored objects (not copies) matching the options, sorted by namespace then name. */
  scan(rt: ResourceType, opts: ListOptions): KubeObject[] {
    return scan(this.#storage, rt, opts);
  }

  // ---- writes ---------------------------------------------------------------------------------

  /** Full create path: defaults, validation, admission (quota...), uid, rv, generation. Throws ApiError. */
  create(rt: ResourceType, obj: KubeObject, opts: WriteOptions = {}): KubeObject {
    const next = this.#normaliseIncoming(rt, clone(obj));
    const meta = next.metadata;
    if ((meta.name ?? '') === '' && typeof meta.generateName === 'string' && meta.generateName !== '') {
      meta.name = `${meta.generateName}${randomSuffix()}`;
    }
    validateName(rt, next);
    const ns = rt.namespaced ? (meta.namespace ?? 'default') : '';
    if (rt.namespaced) {
      meta.namespace = ns;
      const namespace = this.peek(BUILTINS.namespaces, undefined, ns);
      if (!namespace) throw notFound(BUILTINS.namespaces, ns);
      if (namespace.metadata.deletionTimestamp !== undefined) {
        throw forbidden(rt, meta.name, `unable to create new content in namespace ${ns} because it is being terminated`);
      }
    } else {
      delete meta.namespace;
    }
    if (this.peek(rt, ns, meta.name)) throw alreadyExists(rt, meta.name);
    if (rt.statusSubresource && rt !== BUILTINS.nodes) delete next.status;
    // The uid exists before admission and defaulting, as on the real server (a Job's selector names it).
    meta.uid = randomUUID();
    this.#admit(next, { store: this, rt, operation: 'CREATE' }, opts);
    delete meta.deletionTimestamp;
    delete meta.deletionGracePeriodSeconds;
    delete meta.resourceVersion;
    meta.creationTimestamp = timestamp(this.#now());
    if (rt.generation === false) delete meta.generation;
    else meta.generation = 1;
    if (!opts.managedFieldsSet) this.fieldTracker?.track(rt, undefined, next, opts.fieldManager ?? 'unknown', undefined);
    if (opts.dryRun) return asServed(rt, clone(next));
    this.#commit(rt, 'ADDED', next, undefined);
    this.#gc.collectOrphans(next, rt);
    return asServed(rt, clone(next));
  }

  /** Optimistic concurrency when obj.metadata.resourceVersion is set (409 on stale). */
  update(
    rt: ResourceType,
    obj: KubeObject,
    opts: WriteOptions & { subresource?: 'status' } = {},
  ): KubeObject {
    const incoming = this.#normaliseIncoming(rt, clone(obj));
    const ns = rt.namespaced ? (incoming.metadata.namespace ?? 'default') : '';
    const name = incoming.metadata.name;
    const old = this.peek(rt, ns, name);
    if (!old) throw notFound(rt, name);
    const sentRv = incoming.metadata.resourceVersion;
    if (sentRv !== undefined && sentRv !== '' && sentRv !== old.metadata.resourceVersion) throw staleConflict(rt, name);
    const next = mergeForUpdate(rt, asStored(rt, old), incoming, opts.subresource);
    this.admitUpdate(rt, old, next, opts);
    return this.writeUpdate(rt, old, next, opts);
  }

  /** Runs the admission plugins for an update of `old` to `next` (defaulting may change `next`). */
  admitUpdate(rt: ResourceType, old: KubeObject, next: KubeObject, opts: WriteOptions & { subresource?: 'status' } = {}): void {
    const ctx: AdmissionContext = { store: this, rt, operation: 'UPDATE', old: asStored(rt, old) };
    if (opts.subresource !== undefined) ctx.subresource = opts.subresource;
    this.#admit(next, ctx, opts);
  }

  /**
   * Writes `next` (already merged and admitted) over `old` unless nothing changed; bumps
   * generation on spec changes and finishes a deletion whose finalizers are all gone.
   */
  writeUpdate(
    rt: ResourceType,
    old: KubeObject,
    next: KubeObject,
    opts: WriteOptions & { subresource?: 'status' } = {},
  ): KubeObject {
    const stored = asStored(rt, old);
    if (!opts.managedFieldsSet) this.fieldTracker?.track(rt, stored, next, opts.fieldManager ?? 'unknown', opts.subresource);
    next.metadata.resourceVersion = stored.metadata.resourceVersion;
    if (rt.generation !== false && specChanged(rt, stored, next)) next.metadata.generation = (stored.metadata.generation ?? 1) + 1;
    if (jsonEqual(stored, next)) return asServed(rt, clone(stored));
    if (opts.dryRun) return asServed(rt, clone(next));
    if (next.metadata.deletionTimestamp !== undefined && (next.metadata.finalizers ?? []).length === 0) {
      this.#removeNow(rt, next, 'Background');
      return asServed(rt, clone(next));
    }
    this.#commit(rt, 'MODIFIED', next, stored);
    return asServed(rt, clone(next));
  }

  /** Honours finalizers (sets deletionTimestamp) and propagationPolicy; returns what was deleted/marked. */
  delete(
    rt: ResourceType,
    namespace: string | undefined,
    name: string,
    opts: { propagationPolicy?: PropagationPolicy; preconditions?: { uid?: string; resourceVersion?: string }; dryRun?: boolean } = {},
  ): KubeObject | undefined {
    const ns = rt.namespaced ? (namespace ?? 'default') : '';
    const current = this.peek(rt, ns, name);
    if (!current) return undefined;
    const stored = asStored(rt, current);
    const pre = opts.preconditions;
    if (pre?.uid !== undefined && pre.uid !== stored.metadata.uid) {
      throw new ApiError(409, 'Conflict', `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${stored.metadata.uid}`);
    }
    if (pre?.resourceVersion !== undefined && pre.resourceVersion !== stored.metadata.resourceVersion) {
      throw staleConflict(rt, name);
    }
    if (opts.dryRun) return asServed(rt, clone(stored));
    const policy = opts.propagationPolicy ?? 'Background';
    if (policy === 'Orphan') this.#gc.orphanDependents(stored.metadata.uid ?? '');
    const finalizers = [...(stored.metadata.finalizers ?? [])];
    const hasDependents = this.#storage.dependentsOf(stored.metadata.uid ?? '').size > 0;
    if (policy === 'Foreground' && hasDependents && !finalizers.includes('foregroundDeletion')) finalizers.push('foregroundDeletion');
    const isNamespace = rt === BUILTINS.namespaces;
    if (finalizers.length === 0 && !(isNamespace && this.#storage.countInNamespace(name) > 0)) {
      this.#removeNow(rt, stored, policy);
      return asServed(rt, clone(stored));
    }
    if (stored.metadata.deletionTimestamp !== undefined && jsonEqual(finalizers, stored.metadata.finalizers ?? [])) {
      return asServed(rt, clone(stored));
    }
    const marked = clone(stored);
    marked.metadata.deletionTimestamp = stored.metadata.deletionTimestamp ?? timestamp(this.#now());
    marked.metadata.deletionGracePeriodSeconds = 0;
    if (finalizers.length > 0) marked.metadata.finalizers = finalizers;
    if (isNamespace) {
      marked.status = { ...((marked.status as Record<string, unknown> | undefined) ?? {}), phase: 'Terminating' };
    }
    this.#commit(rt, 'MODIFIED', marked, stored);
    if (isNamespace) this.#gc.emptyNamespace(name);
    if (finalizers.includes('foregroundDeletion')) this.#gc.deleteDependents(stored.metadata.uid ?? '', 'Foreground');
    return asServed(rt, clone(marked));
  }

  /** Deletes every matching object (each honouring its own finalizers); returns what was deleted/marked. */
  deleteCollection(rt: ResourceType, opts: ListOptions & { propagationPolicy?: PropagationPolicy } = {}): KubeObject[] {
    const out: KubeObject[] = [];
    for (const obj of this.scan(rt, opts)) {
      const res = this.delete(rt, obj.metadata.namespace, obj.metadata.name, opts.propagationPolicy ? { propagationPolicy: opts.propagationPolicy } : {});
      if (res) out.push(res);
    }
    return out;
  }

  // ---- watch ----------------------------------------------------------------------------------

  /** Synchronous in-process subscription to every committed change of one type (or all when rt is undefined). */
  subscribe(rt: ResourceType | undefined, onEvent: (ev: StoreEvent) => void): () => void {
    return this.#fanOut.subscribe(rt === undefined ? '*' : typeKeyOf(rt), onEvent);
  }

  /**
   * Streams changes of one type after `resourceVersion` (replayed from history, then live), or
   * the current objects as ADDED followed by live changes when no version (or '0') is given.
   * Objects passed to `onEvent` are the stored ones: serialise, never mutate. Throws 410 Gone.
   */
  watch(
    rt: ResourceType,
    opts: ListOptions & { resourceVersion?: string },
    onEvent: (type: WatchEventType, object: KubeObject) => void,
  ): () => void {
    const deliver = watchFilter(rt, opts, onEvent);
    const key = storageKeyOf(rt);
    const rvText = opts.resourceVersion;
    if (rvText === undefined || rvText === '' || rvText === '0') {
      for (const obj of this.scan(rt, opts)) onEvent('ADDED', obj);
    } else {
      const from = Number(rvText);
      if (!Number.isInteger(from) || from < 0) throw badRequest(`invalid resourceVersion "${rvText}": expected a non-negative integer`);
      for (const entry of this.#history.since(from, key)) if (entry.typeKey === key) deliver(entry);
    }
    return this.#fanOut.follow(key, deliver);
  }

  /** Forgets the watch history up to now: every watch from an older resourceVersion gets 410. */
  compactHistory(): void {
    this.#history.compact(this.#rv);
  }

  // ---- persistence ----------------------------------------------------------------------------

  /** Every stored object with its type, for saving to a file. */
  snapshot(): Snapshot {
    return snapshotOf(this.#registry, this.#storage, this.#rv);
  }

  /**
   * Loads objects saved by `snapshot` as they were (no admission), emitting ADDED so plugins and
   * watchers see them; the counter continues from the saved resourceVersion.
   */
  restore(snap: Snapshot): void {
    this.#rv = Math.max(this.#rv, snap.resourceVersion);
    for (const { group, resource, object } of snap.objects) {
      const rt = this.#registry.get(group, resource);
      if (!rt) continue;
      const key = storageKeyOf(rt);
      const existing = this.peek(rt, object.metadata.namespace, object.metadata.name);
      if (existing) this.#storage.remove(rt, key, existing);
      this.#storage.put(rt, key, object);
      this.#fanOut.publish({ rv: Number(object.metadata.resourceVersion ?? 0), typeKey: key, type: 'ADDED', resource: rt, object });
    }
    this.#history.compact(this.#rv);
  }

  // ---- internals ------------------------------------------------------------------------------

  #admit(next: KubeObject, ctx: AdmissionContext, opts: WriteOptions): void {
    if (opts.fieldManager !== undefined) ctx.fieldManager = opts.fieldManager;
    if (opts.fieldValidation !== undefined) ctx.fieldValidation = opts.fieldValidation;
    for (const p of this.#plugins) p.admit?.(next, ctx);
  }

  #normaliseIncoming(rt: ResourceType, obj: KubeObject): KubeObject {
    if (typeof obj !== 'object' || obj === null) throw badRequest('the request body must be a JSON object');
    if (typeof obj.metadata !== 'object' || obj.metadata === null) obj.metadata = { name: '' };
    const converted = asStored(rt, obj);
    converted.apiVersion = rt.group === 'events.k8s.io' ? 'v1' : (converted.apiVersion ?? apiVersionOf(rt));
    converted.kind = rt.kind;
    return converted;
  }

  #commit(rt: ResourceType, type: 'ADDED' | 'MODIFIED' | 'DELETED', obj: KubeObject, previous: KubeObject | undefined): void {
    this.#rv += 1;
    obj.metadata.resourceVersion = String(this.#rv);
    const key = storageKeyOf(rt);
    if (previous) this.#storage.remove(rt, key, previous);
    if (type !== 'DELETED') this.#storage.put(rt, key, obj);
    const entry: HistoryEntry = { rv: this.#rv, typeKey: key, type, resource: rt, object: obj };
    if (previous) entry.previous = previous;
    this.#history.record(entry);
    this.#fanOut.publish(entry);
  }

  /** Removes an object now, then runs the garbage collector and namespace finalisation. */
  #removeNow(rt: ResourceType, obj: KubeObject, policy: PropagationPolicy): void {
    const ns = rt.namespaced ? (obj.metadata.namespace ?? '') : '';
    const stored = this.peek(rt, ns, obj.metadata.name);
    if (!stored) return;
    this.#commit(rt, 'DELETED', clone(obj), stored);
    this.#gc.afterRemoval(stored, ns, policy);
  }
}
