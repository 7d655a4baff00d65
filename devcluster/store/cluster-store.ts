// The devcluster's in-memory object store: the single source of truth behind the HTTP API and the
// simulated cluster. One monotonic resourceVersion counter, uid and timestamps, generation on spec
// changes, optimistic concurrency, finalizers, delete propagation with a garbage collector,
// namespace lifecycle, a bounded watch history, and admission plugins (defaults, quota, CRDs).
import { randomUUID } from 'node:crypto';
import { BUILTINS, INITIAL_NAMESPACES } from './builtins.ts';
import { CONTROLLER_MANAGER } from './field-managers.ts';
import { ApiError, alreadyExists, badRequest, forbidden, invalid, notFound, staleConflict } from './errors.ts';
import type { StatusCause } from './errors.ts';
import { WatchHistory } from './history.ts';
import type { HistoryEntry } from './history.ts';
import { clone, deepEqual, randomSuffix } from './objects.ts';
import { fieldSelectorName, parseFieldSelector, parseLabelSelector } from './selectors.ts';
import type { KubeObject, OwnerReference, ResourceType, StoreEvent, WatchEventType } from './types.ts';

/** How a delete treats the object's dependents (objects whose ownerReferences name it). */
export type PropagationPolicy = 'Background' | 'Foreground' | 'Orphan';

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

/** The `fieldValidation` query parameter of writes. */
export type FieldValidation = 'Strict' | 'Warn' | 'Ignore';

/** Options common to create and update. */
export interface WriteOptions {
  fieldManager?: string;
  dryRun?: boolean;
  fieldValidation?: FieldValidation;
  /** The caller already set metadata.managedFields (server-side apply); skip update tracking. */
  managedFieldsSet?: boolean;
}

/** A committed change, as plugins see it after the write. */
export interface CommittedChange {
  type: Exclude<WatchEventType, 'BOOKMARK'>;
  rt: ResourceType;
  object: KubeObject;
  previous?: KubeObject;
}

/**
 * Hooks into the write path. `admit` may default (mutate `obj`) or throw an ApiError to reject;
 * `afterCommit` may write other objects (quota status, CRD establishment).
 */
export interface StorePlugin {
  readonly name: string;
  admit?(obj: KubeObject, ctx: AdmissionContext): void;
  afterCommit?(change: CommittedChange, store: ClusterStore): void;
}

/** Options for list and watch. */
export interface ListOptions {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
}

/** A page of a list: `continue` is set when more items remain. */
export interface ListPage {
  items: KubeObject[];
  resourceVersion: string;
  continue?: string;
  remainingItemCount?: number;
}

/** Options for creating the store. */
export interface StoreOptions {
  /** Changes kept for watches to resume from; older resourceVersions get 410 Gone. */
  historySize?: number;
  plugins?: StorePlugin[];
  /** Clock, for tests that need deterministic timestamps. */
  now?: () => Date;
  /** Told when a subscriber or plugin throws while a committed change is delivered (default: stderr). */
  onListenerError?: (err: unknown, change: StoreEvent) => void;
}

/** Updates another plugin may need to make managedFields and other derived metadata current. */
export interface FieldTracker {
  track(rt: ResourceType, previous: KubeObject | undefined, next: KubeObject, manager: string, subresource: 'status' | undefined): void;
}

type Listener = (ev: StoreEvent) => void;
type RawListener = (entry: HistoryEntry) => void;

const NAME_RE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL_RE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** Why a name is invalid for its kind (RBAC: path segment; Namespace: DNS label; others: DNS subdomain). */
function nameProblem(rt: ResourceType, name: string): string | undefined {
  if (rt.group === 'rbac.authorization.k8s.io') {
    if (name === '.' || name === '..') return `may not be '${name}'`;
    return /[/%]/.test(name) ? `may not contain '/' or '%'` : undefined;
  }
  if (rt === BUILTINS.namespaces) {
    if (LABEL_RE.test(name) && name.length <= 63) return undefined;
    return `a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')`;
  }
  if (NAME_RE.test(name) && name.length <= 253) return undefined;
  return `a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')`;
}
const SYSTEM_FIELDS = ['apiVersion', 'kind', 'metadata', 'status'];

function typeKeyOf(rt: ResourceType): string {
  return `${rt.group}/${rt.resource}`;
}

function apiGroupOf(apiVersion: string): string {
  const slash = apiVersion.indexOf('/');
  return slash < 0 ? '' : apiVersion.slice(0, slash);
}

/** The whole cluster's state, as kube-apiserver's storage holds it (not a cache of it); every method is synchronous and every write is committed atomically. */
export class ClusterStore {
  #rv = 0;
  readonly #types = new Map<string, ResourceType>();
  readonly #kinds = new Map<string, ResourceType>();
  readonly #data = new Map<string, Map<string, Map<string, KubeObject>>>();
  readonly #byUid = new Map<string, { rt: ResourceType; ns: string; name: string }>();
  readonly #dependents = new Map<string, Set<string>>();
  readonly #nsCounts = new Map<string, number>();
  readonly #history: WatchHistory;
  readonly #listeners = new Map<string, Set<Listener>>();
  readonly #rawListeners = new Map<string, Set<RawListener>>();
  readonly #plugins: StorePlugin[];
  readonly #now: () => Date;
  readonly #onListenerError: (err: unknown, change: StoreEvent) => void;
  readonly #pending: HistoryEntry[] = [];
  #dispatching = false;
  #writeHooks: (() => void)[] = [];
  /** Set by the server-side-apply module to keep managedFields current on every write. */
  fieldTracker: FieldTracker | undefined;

  constructor(opts: StoreOptions = {}) {
    this.#history = new WatchHistory(opts.historySize ?? 50_000);
    this.#plugins = [...(opts.plugins ?? [])];
    this.#now = opts.now ?? (() => new Date());
    this.#onListenerError = opts.onListenerError ?? ((err, change) => console.error(`devcluster: a listener failed on ${change.type} ${change.resource.resource}/${change.object.metadata.name}:`, err));
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
    this.#writeHooks.push(hook);
    return () => {
      this.#writeHooks = this.#writeHooks.filter((h) => h !== hook);
    };
  }

  // ---- resource types -------------------------------------------------------------------------

  /** Serves a resource type (built-ins at start, CRDs once established). */
  registerType(rt: ResourceType): void {
    const key = typeKeyOf(rt);
    const storageKey = this.#storageKey(rt);
    this.#types.set(key, rt);
    this.#kinds.set(`${rt.group}/${rt.kind}`, rt);
    if (!this.#data.has(storageKey)) this.#data.set(storageKey, new Map());
  }

  /** Stops serving a resource type and forgets its objects (a CRD was deleted). */
  unregisterType(group: string, resource: string): void {
    const rt = this.#types.get(`${group}/${resource}`);
    if (!rt) return;
    for (const obj of this.scan(rt, {})) this.#removeNow(rt, obj, 'Background');
    this.#types.delete(typeKeyOf(rt));
    this.#kinds.delete(`${rt.group}/${rt.kind}`);
    this.#data.delete(this.#storageKey(rt));
  }

  /** Resource types known now (built-ins plus established CRDs). */
  resourceType(group: string, resource: string): ResourceType | undefined {
    return this.#types.get(`${group}/${resource}`);
  }

  /** The resource type serving `kind` in `apiVersion`'s group. */
  resourceTypeForKind(apiVersion: string, kind: string): ResourceType | undefined {
    return this.#kinds.get(`${apiGroupOf(apiVersion)}/${kind}`);
  }

  /** Every served resource type. */
  resourceTypes(): ResourceType[] {
    return [...this.#types.values()];
  }

  /** The current value of the resourceVersion counter. */
  currentResourceVersion(): string {
    return String(this.#rv);
  }

  // ---- reads ----------------------------------------------------------------------------------

  /** Deep copies; never the stored object. */
  get(rt: ResourceType, namespace: string | undefined, name: string): KubeObject | undefined {
    const obj = this.peek(rt, namespace, name);
    return obj === undefined ? undefined : this.#present(rt, clone(obj));
  }

  /** The stored object itself, for serialising without a copy; callers must not mutate it. */
  peek(rt: ResourceType, namespace: string | undefined, name: string): KubeObject | undefined {
    return this.#data.get(this.#storageKey(rt))?.get(rt.namespaced ? (namespace ?? '') : '')?.get(name);
  }

  /** Deep copies of every matching object, sorted by namespace and name. */
  list(rt: ResourceType, opts: ListOptions = {}): { items: KubeObject[]; resourceVersion: string } {
    return { items: this.scan(rt, opts).map((o) => this.#present(rt, clone(o))), resourceVersion: String(this.#rv) };
  }

  /** One page of matching stored objects (not copies), with a continue token for the next. */
  listPage(rt: ResourceType, opts: ListOptions & { limit?: number; continue?: string } = {}): ListPage {
    let items = this.scan(rt, opts);
    const rv = String(this.#rv);
    if (opts.continue !== undefined && opts.continue !== '') {
      let after: [string, string];
      try {
        after = (JSON.parse(Buffer.from(opts.continue, 'base64url').toString('utf8')) as { start: [string, string] }).start;
      } catch {
        throw badRequest('invalid continue token: expected the token a previous list returned');
      }
      const [afterNs, afterName] = after;
      items = items.filter((o) => {
        const ns = o.metadata.namespace ?? '';
        return ns > afterNs || (ns === afterNs && o.metadata.name > afterName);
      });
    }
    if (opts.limit !== undefined && opts.limit > 0 && items.length > opts.limit) {
      const page = items.slice(0, opts.limit);
      const last = page[page.length - 1];
      const start = [last?.metadata.namespace ?? '', last?.metadata.name ?? ''];
      return {
        items: page,
        resourceVersion: rv,
        continue: Buffer.from(JSON.stringify({ rv, start }), 'utf8').toString('base64url'),
        remainingItemCount: items.length - page.length,
      };
    }
    return { items, resourceVersion: rv };
  }

  /** Stored objects (not copies) matching the options, sorted by namespace then name. */
  scan(rt: ResourceType, opts: ListOptions): KubeObject[] {
    const byNs = this.#data.get(this.#storageKey(rt));
    if (!byNs) return [];
    const labelMatch = parseLabelSelector(opts.labelSelector);
    const fieldMatch = parseFieldSelector(opts.fieldSelector);
    const onlyName = fieldSelectorName(opts.fieldSelector);
    const out: KubeObject[] = [];
    const namespaces = rt.namespaced && opts.namespace !== undefined && opts.namespace !== '' ? [opts.namespace] : [...byNs.keys()];
    for (const ns of namespaces.sort()) {
      const objs = byNs.get(ns);
      if (!objs) continue;
      const candidates = onlyName === undefined ? objs.values() : [objs.get(onlyName)].filter((o) => o !== undefined);
      const inNs: KubeObject[] = [];
      for (const obj of candidates) {
        const view = this.#present(rt, obj);
        if (labelMatch(obj.metadata.labels) && fieldMatch(view)) inNs.push(view);
      }
      inNs.sort((a, b) => (a.metadata.name < b.metadata.name ? -1 : a.metadata.name > b.metadata.name ? 1 : 0));
      for (const o of inNs) out.push(o);
    }
    return out;
  }

  /** Number of objects stored in a namespace (any type). */
  countInNamespace(ns: string): number {
    return this.#nsCounts.get(ns) ?? 0;
  }

  /** The object with this uid, if it still exists (stored, not a copy). */
  byUID(uid: string): { rt: ResourceType; object: KubeObject } | undefined {
    const at = this.#byUid.get(uid);
    if (!at) return undefined;
    const object = this.peek(at.rt, at.ns, at.name);
    return object === undefined ? undefined : { rt: at.rt, object };
  }

  // ---- writes ---------------------------------------------------------------------------------

  /** Full create path: defaults, validation, admission (quota...), uid, rv, generation. Throws ApiError. */
  create(rt: ResourceType, obj: KubeObject, opts: WriteOptions = {}): KubeObject {
    const next = this.#normaliseIncoming(rt, clone(obj));
    const meta = next.metadata;
    if ((meta.name ?? '') === '' && typeof meta.generateName === 'string' && meta.generateName !== '') {
      meta.name = `${meta.generateName}${randomSuffix()}`;
    }
    this.#validateName(rt, next);
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
    const ctx: AdmissionContext = { store: this, rt, operation: 'CREATE' };
    if (opts.fieldManager !== undefined) ctx.fieldManager = opts.fieldManager;
    if (opts.fieldValidation !== undefined) ctx.fieldValidation = opts.fieldValidation;
    for (const p of this.#plugins) p.admit?.(next, ctx);
    delete meta.deletionTimestamp;
    delete meta.deletionGracePeriodSeconds;
    delete meta.resourceVersion;
    meta.creationTimestamp = this.#timestamp();
    if (rt.generation === false) delete meta.generation;
    else meta.generation = 1;
    if (!opts.managedFieldsSet) this.fieldTracker?.track(rt, undefined, next, opts.fieldManager ?? 'unknown', undefined);
    if (opts.dryRun) return this.#present(rt, clone(next));
    this.#commit(rt, 'ADDED', next, undefined);
    this.collectOrphans(next, rt);
    return this.#present(rt, clone(next));
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
    const next = this.#mergeForUpdate(rt, this.#toStorage(rt, old), incoming, opts.subresource);
    this.admitUpdate(rt, old, next, opts);
    return this.writeUpdate(rt, old, next, opts);
  }

  /** Runs the admission plugins for an update of `old` to `next` (defaulting may change `next`). */
  admitUpdate(rt: ResourceType, old: KubeObject, next: KubeObject, opts: WriteOptions & { subresource?: 'status' } = {}): void {
    const ctx: AdmissionContext = { store: this, rt, operation: 'UPDATE', old: this.#toStorage(rt, old) };
    if (opts.subresource !== undefined) ctx.subresource = opts.subresource;
    if (opts.fieldManager !== undefined) ctx.fieldManager = opts.fieldManager;
    if (opts.fieldValidation !== undefined) ctx.fieldValidation = opts.fieldValidation;
    for (const p of this.#plugins) p.admit?.(next, ctx);
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
    const stored = this.#toStorage(rt, old);
    if (!opts.managedFieldsSet) this.fieldTracker?.track(rt, stored, next, opts.fieldManager ?? 'unknown', opts.subresource);
    next.metadata.resourceVersion = stored.metadata.resourceVersion;
    if (rt.generation !== false && this.#specChanged(rt, stored, next)) next.metadata.generation = (stored.metadata.generation ?? 1) + 1;
    if (deepEqual(stored, next)) return this.#present(rt, clone(stored));
    if (opts.dryRun) return this.#present(rt, clone(next));
    if (next.metadata.deletionTimestamp !== undefined && (next.metadata.finalizers ?? []).length === 0) {
      this.#removeNow(rt, next, 'Background');
      return this.#present(rt, clone(next));
    }
    this.#commit(rt, 'MODIFIED', next, stored);
    return this.#present(rt, clone(next));
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
    const stored = this.#toStorage(rt, current);
    const pre = opts.preconditions;
    if (pre?.uid !== undefined && pre.uid !== stored.metadata.uid) {
      throw new ApiError(409, 'Conflict', `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${stored.metadata.uid}`);
    }
    if (pre?.resourceVersion !== undefined && pre.resourceVersion !== stored.metadata.resourceVersion) {
      throw staleConflict(rt, name);
    }
    if (opts.dryRun) return this.#present(rt, clone(stored));
    const policy = opts.propagationPolicy ?? 'Background';
    if (policy === 'Orphan') this.#orphanDependents(stored.metadata.uid ?? '');
    const finalizers = [...(stored.metadata.finalizers ?? [])];
    const hasDependents = (this.#dependents.get(stored.metadata.uid ?? '')?.size ?? 0) > 0;
    if (policy === 'Foreground' && hasDependents && !finalizers.includes('foregroundDeletion')) finalizers.push('foregroundDeletion');
    const isNamespace = rt === BUILTINS.namespaces;
    if (finalizers.length === 0 && !(isNamespace && this.countInNamespace(name) > 0)) {
      this.#removeNow(rt, stored, policy);
      return this.#present(rt, clone(stored));
    }
    if (stored.metadata.deletionTimestamp !== undefined && deepEqual(finalizers, stored.metadata.finalizers ?? [])) {
      return this.#present(rt, clone(stored));
    }
    const marked = clone(stored);
    marked.metadata.deletionTimestamp = stored.metadata.deletionTimestamp ?? this.#timestamp();
    marked.metadata.deletionGracePeriodSeconds = 0;
    if (finalizers.length > 0) marked.metadata.finalizers = finalizers;
    if (isNamespace) {
      marked.status = { ...((marked.status as Record<string, unknown> | undefined) ?? {}), phase: 'Terminating' };
    }
    this.#commit(rt, 'MODIFIED', marked, stored);
    if (isNamespace) this.#deleteNamespaceContents(name);
    if (finalizers.includes('foregroundDeletion')) this.#deleteDependents(stored.metadata.uid ?? '', 'Foreground');
    return this.#present(rt, clone(marked));
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
    const key = rt === undefined ? '*' : typeKeyOf(rt);
    const set = this.#listeners.get(key) ?? new Set();
    this.#listeners.set(key, set);
    const wrapped: Listener = (ev) => onEvent(ev);
    set.add(wrapped);
    return () => {
      set.delete(wrapped);
    };
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
    const labelMatch = parseLabelSelector(opts.labelSelector);
    const fieldMatch = parseFieldSelector(opts.fieldSelector);
    const ns = rt.namespaced && opts.namespace !== undefined && opts.namespace !== '' ? opts.namespace : undefined;
    const matches = (o: KubeObject | undefined): boolean =>
      o !== undefined && (ns === undefined || o.metadata.namespace === ns) && labelMatch(o.metadata.labels) && fieldMatch(o);
    const deliver = (entry: HistoryEntry): void => {
      const obj = this.#present(rt, entry.object);
      const now = matches(obj);
      const before = entry.previous === undefined ? false : matches(this.#present(rt, entry.previous));
      if (entry.type === 'MODIFIED' && !now && before) onEvent('DELETED', obj);
      else if (entry.type === 'MODIFIED' && now && !before) onEvent('ADDED', obj);
      else if (now) onEvent(entry.type, obj);
    };
    const rvText = opts.resourceVersion;
    if (rvText === undefined || rvText === '' || rvText === '0') {
      for (const obj of this.scan(rt, opts)) onEvent('ADDED', obj);
    } else {
      const from = Number(rvText);
      if (!Number.isInteger(from) || from < 0) throw badRequest(`invalid resourceVersion "${rvText}": expected a non-negative integer`);
      const key = this.#storageKey(rt);
      for (const entry of this.#history.since(from, key)) if (entry.typeKey === key) deliver(entry);
    }
    const key = this.#storageKey(rt);
    const set = this.#rawListeners.get(key) ?? new Set();
    this.#rawListeners.set(key, set);
    set.add(deliver);
    return () => {
      set.delete(deliver);
    };
  }

  /** Forgets the watch history up to now: every watch from an older resourceVersion gets 410. */
  compactHistory(): void {
    this.#history.compact(this.#rv);
  }

  // ---- persistence ----------------------------------------------------------------------------

  /** Every stored object with its type, for saving to a file. */
  snapshot(): { resourceVersion: number; objects: { group: string; resource: string; object: KubeObject }[] } {
    const objects: { group: string; resource: string; object: KubeObject }[] = [];
    const crds = this.#types.get(typeKeyOf(BUILTINS.customresourcedefinitions));
    const ordered = [...this.#types.values()].sort((a, b) => (a === crds ? -1 : b === crds ? 1 : 0));
    const seen = new Set<string>();
    for (const rt of ordered) {
      const key = this.#storageKey(rt);
      if (seen.has(key)) continue;
      seen.add(key);
      for (const byName of this.#data.get(key)?.values() ?? []) {
        for (const object of byName.values()) objects.push({ group: rt.group, resource: rt.resource, object });
      }
    }
    return { resourceVersion: this.#rv, objects };
  }

  /**
   * Loads objects saved by `snapshot` as they were (no admission), emitting ADDED so plugins and
   * watchers see them; the counter continues from the saved resourceVersion.
   */
  restore(snap: { resourceVersion: number; objects: { group: string; resource: string; object: KubeObject }[] }): void {
    this.#rv = Math.max(this.#rv, snap.resourceVersion);
    for (const { group, resource, object } of snap.objects) {
      const rt = this.#types.get(`${group}/${resource}`);
      if (!rt) continue;
      const ns = rt.namespaced ? (object.metadata.namespace ?? '') : '';
      const existing = this.peek(rt, ns, object.metadata.name);
      if (existing) this.#unindex(rt, existing);
      this.#index(rt, object);
      this.#enqueue({ rv: Number(object.metadata.resourceVersion ?? 0), typeKey: this.#storageKey(rt), type: 'ADDED', resource: rt, object });
      this.#drain();
    }
    this.#history.compact(this.#rv);
  }

  // ---- internals ------------------------------------------------------------------------------

  #storageKey(rt: ResourceType): string {
    return rt.group === 'events.k8s.io' && rt.resource === 'events' ? '/events' : typeKeyOf(rt);
  }

  /** Converts a stored object to the shape of the type it is read through (events.k8s.io views). */
  #present(rt: ResourceType, obj: KubeObject): KubeObject {
    if (rt.group === 'events.k8s.io') return coreEventToV1(obj);
    if (rt.group !== '' && obj.apiVersion !== apiVersionOf(rt)) {
      return { ...obj, apiVersion: apiVersionOf(rt) };
    }
    return obj;
  }

  #toStorage(rt: ResourceType, obj: KubeObject): KubeObject {
    return rt.group === 'events.k8s.io' && obj.apiVersion === 'events.k8s.io/v1' ? v1EventToCore(obj) : obj;
  }

  #normaliseIncoming(rt: ResourceType, obj: KubeObject): KubeObject {
    if (typeof obj !== 'object' || obj === null) throw badRequest('the request body must be a JSON object');
    if (typeof obj.metadata !== 'object' || obj.metadata === null) obj.metadata = { name: '' };
    const converted = this.#toStorage(rt, obj);
    converted.apiVersion = rt.group === 'events.k8s.io' ? 'v1' : (converted.apiVersion ?? apiVersionOf(rt));
    converted.kind = rt.kind;
    return converted;
  }

  #validateName(rt: ResourceType, obj: KubeObject): void {
    const name = obj.metadata.name;
    const causes: StatusCause[] = [];
    if (typeof name !== 'string' || name === '') {
      causes.push({ field: 'metadata.name', message: 'Required value: name or generateName is required', reason: 'FieldValueRequired' });
    } else {
      const problem = nameProblem(rt, name);
      if (problem !== undefined) causes.push({ field: 'metadata.name', reason: 'FieldValueInvalid', message: `Invalid value: "${name}": ${problem}` });
    }
    if (causes.length > 0) throw invalid(rt, typeof name === 'string' ? name : '', causes);
  }

  #mergeForUpdate(rt: ResourceType, old: KubeObject, incoming: KubeObject, subresource: 'status' | undefined): KubeObject {
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

  #specChanged(rt: ResourceType, old: KubeObject, next: KubeObject): boolean {
    const keys = new Set([...Object.keys(old), ...Object.keys(next)]);
    for (const k of keys) {
      if (SYSTEM_FIELDS.includes(k) && !(k === 'status' && !rt.statusSubresource)) continue;
      if (!deepEqual(old[k], next[k])) return true;
    }
    return false;
  }

  #timestamp(): string {
    return this.#now().toISOString().replace(/\.\d{3}Z$/, 'Z');
  }

  #index(rt: ResourceType, obj: KubeObject): void {
    const ns = rt.namespaced ? (obj.metadata.namespace ?? '') : '';
    const key = this.#storageKey(rt);
    let byNs = this.#data.get(key);
    if (!byNs) {
      byNs = new Map();
      this.#data.set(key, byNs);
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
    this.#byUid.set(uid, { rt, ns, name: obj.metadata.name });
    for (const ref of obj.metadata.ownerReferences ?? []) {
      const set = this.#dependents.get(ref.uid) ?? new Set();
      set.add(uid);
      this.#dependents.set(ref.uid, set);
    }
  }

  #unindex(rt: ResourceType, obj: KubeObject): void {
    const ns = rt.namespaced ? (obj.metadata.namespace ?? '') : '';
    const byName = this.#data.get(this.#storageKey(rt))?.get(ns);
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

  #commit(rt: ResourceType, type: 'ADDED' | 'MODIFIED' | 'DELETED', obj: KubeObject, previous: KubeObject | undefined): void {
    this.#rv += 1;
    obj.metadata.resourceVersion = String(this.#rv);
    if (previous) this.#unindex(rt, previous);
    if (type !== 'DELETED') this.#index(rt, obj);
    const entry: HistoryEntry = { rv: this.#rv, typeKey: this.#storageKey(rt), type, resource: rt, object: obj };
    if (previous) entry.previous = previous;
    this.#history.record(entry);
    this.#enqueue(entry);
    this.#drain();
  }

  #enqueue(entry: HistoryEntry): void {
    this.#pending.push(entry);
  }

  /** Delivers queued changes in resourceVersion order; re-entrant writes from listeners queue behind. */
  #drain(): void {
    if (this.#dispatching) return;
    this.#dispatching = true;
    try {
      for (let entry = this.#pending.shift(); entry !== undefined; entry = this.#pending.shift()) {
        const change: CommittedChange = { type: entry.type as CommittedChange['type'], rt: entry.resource, object: entry.object };
        if (entry.previous) change.previous = entry.previous;
        // The change is committed: a failing listener must neither undo it nor fail the writer.
        const guarded = (fn: () => void): void => {
          try {
            fn();
          } catch (err) {
            this.#onListenerError(err, { type: entry.type, resource: entry.resource, object: entry.object });
          }
        };
        for (const p of this.#plugins) if (p.afterCommit) guarded(() => p.afterCommit?.(change, this));
        for (const l of this.#rawListeners.get(entry.typeKey) ?? []) guarded(() => l(entry));
        const listeners = [...(this.#listeners.get(typeKeyOf(entry.resource)) ?? []), ...(this.#listeners.get('*') ?? [])];
        for (const l of listeners) guarded(() => l({ type: entry.type, resource: entry.resource, object: clone(entry.object) }));
        for (const hook of this.#writeHooks) guarded(hook);
      }
    } finally {
      this.#dispatching = false;
    }
  }

  /** Removes an object now, then runs the garbage collector and namespace finalisation. */
  #removeNow(rt: ResourceType, obj: KubeObject, policy: PropagationPolicy): void {
    const ns = rt.namespaced ? (obj.metadata.namespace ?? '') : '';
    const stored = this.peek(rt, ns, obj.metadata.name);
    if (!stored) return;
    const gone = clone(obj);
    this.#commit(rt, 'DELETED', gone, stored);
    const uid = stored.metadata.uid ?? '';
    if (policy !== 'Orphan') this.#deleteDependents(uid, policy === 'Foreground' ? 'Foreground' : 'Background');
    for (const ref of stored.metadata.ownerReferences ?? []) this.#releaseForegroundOwner(ref);
    if (ns !== '') this.#finishNamespaceIfEmpty(ns);
  }

  #deleteDependents(ownerUid: string, policy: PropagationPolicy): void {
    for (const depUid of [...(this.#dependents.get(ownerUid) ?? [])]) {
      const dep = this.byUID(depUid);
      if (!dep) continue;
      const liveOwners = (dep.object.metadata.ownerReferences ?? []).filter(
        (r) => r.uid !== ownerUid && this.#byUid.has(r.uid) && this.byUID(r.uid)?.object.metadata.deletionTimestamp === undefined,
      );
      if (liveOwners.length > 0) {
        const next = clone(dep.object);
        next.metadata.ownerReferences = (next.metadata.ownerReferences ?? []).filter((r) => r.uid !== ownerUid);
        this.writeUpdate(dep.rt, dep.object, next, { fieldManager: CONTROLLER_MANAGER });
        continue;
      }
      this.delete(dep.rt, dep.object.metadata.namespace, dep.object.metadata.name, { propagationPolicy: policy });
    }
  }

  #releaseForegroundOwner(ref: OwnerReference): void {
    const owner = this.byUID(ref.uid);
    if (!owner || owner.object.metadata.deletionTimestamp === undefined) return;
    if (!(owner.object.metadata.finalizers ?? []).includes('foregroundDeletion')) return;
    if ((this.#dependents.get(ref.uid)?.size ?? 0) > 0) return;
    const next = clone(owner.object);
    next.metadata.finalizers = (next.metadata.finalizers ?? []).filter((f) => f !== 'foregroundDeletion');
    if (next.metadata.finalizers.length === 0) delete next.metadata.finalizers;
    this.writeUpdate(owner.rt, owner.object, next, { fieldManager: CONTROLLER_MANAGER });
  }

  #orphanDependents(ownerUid: string): void {
    for (const depUid of [...(this.#dependents.get(ownerUid) ?? [])]) {
      const dep = this.byUID(depUid);
      if (!dep) continue;
      const next = clone(dep.object);
      next.metadata.ownerReferences = (next.metadata.ownerReferences ?? []).filter((r) => r.uid !== ownerUid);
      if (next.metadata.ownerReferences.length === 0) delete next.metadata.ownerReferences;
      this.writeUpdate(dep.rt, dep.object, next, { fieldManager: CONTROLLER_MANAGER });
    }
  }

  #deleteNamespaceContents(ns: string): void {
    for (const rt of [...this.#types.values()]) {
      if (!rt.namespaced || rt.group === 'events.k8s.io') continue;
      for (const obj of this.#data.get(this.#storageKey(rt))?.get(ns)?.values() ?? []) {
        if (obj.metadata.deletionTimestamp === undefined) this.delete(rt, ns, obj.metadata.name, { propagationPolicy: 'Background' });
      }
    }
    this.#finishNamespaceIfEmpty(ns);
  }

  #finishNamespaceIfEmpty(ns: string): void {
    const namespace = this.peek(BUILTINS.namespaces, undefined, ns);
    if (!namespace || namespace.metadata.deletionTimestamp === undefined) return;
    if (this.countInNamespace(ns) > 0) return;
    if ((namespace.metadata.finalizers ?? []).length > 0) return;
    this.#removeNow(BUILTINS.namespaces, namespace, 'Background');
  }

  /** Deletes, in the background, objects none of whose owners exist any more. */
  collectOrphans(obj: KubeObject, rt: ResourceType): void {
    const refs = obj.metadata.ownerReferences ?? [];
    if (refs.length === 0) return;
    if (refs.some((r) => this.#byUid.has(r.uid))) return;
    setImmediate(() => {
      const current = this.peek(rt, obj.metadata.namespace, obj.metadata.name);
      if (!current || current.metadata.uid !== obj.metadata.uid) return;
      if ((current.metadata.ownerReferences ?? []).some((r) => this.#byUid.has(r.uid))) return;
      this.delete(rt, current.metadata.namespace, current.metadata.name, { propagationPolicy: 'Background' });
    });
  }
}

function apiVersionOf(rt: ResourceType): string {
  return rt.group === '' ? rt.version : `${rt.group}/${rt.version}`;
}

// The same Event under its two API versions: each core/v1 field and its events.k8s.io/v1 name.
const EVENT_FIELDS: readonly (readonly [core: string, v1: string])[] = [
  ['involvedObject', 'regarding'],
  ['message', 'note'],
  ['reportingComponent', 'reportingController'],
  ['reportingInstance', 'reportingInstance'],
  ['count', 'deprecatedCount'],
  ['firstTimestamp', 'deprecatedFirstTimestamp'],
  ['lastTimestamp', 'deprecatedLastTimestamp'],
  ['source', 'deprecatedSource'],
  ['eventTime', 'eventTime'],
  ['series', 'series'],
  ['action', 'action'],
  ['reason', 'reason'],
  ['type', 'type'],
  ['related', 'related'],
];

/** The events.k8s.io/v1 view of a stored core/v1 Event. */
function coreEventToV1(core: KubeObject): KubeObject {
  const c = core as Record<string, unknown>;
  const out: Record<string, unknown> = { apiVersion: 'events.k8s.io/v1', kind: 'Event', metadata: core.metadata };
  for (const [from, to] of EVENT_FIELDS) if (c[from] !== undefined) out[to] = c[from];
  return out as KubeObject;
}

/** The core/v1 form of an events.k8s.io/v1 Event, as it is stored. */
function v1EventToCore(ev: KubeObject): KubeObject {
  const e = ev as Record<string, unknown>;
  const out: Record<string, unknown> = { apiVersion: 'v1', kind: 'Event', metadata: ev.metadata };
  for (const [to, from] of EVENT_FIELDS) if (e[from] !== undefined) out[to] = e[from];
  if (out.involvedObject === undefined) out.involvedObject = {};
  return out as KubeObject;
}
