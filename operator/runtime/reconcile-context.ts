// The reconcile context: what one reconcile of one key may read and write, every write tracked
// (see OwnWrites) so the key's next reconcile sees it and its echoes reconcile nothing.
import type { KubernetesObject } from '@kubernetes/client-node';
import { ApplyError, applyAll, type ApplyOptions, type ApplyResult } from './apply.ts';
import type { ObjectCache } from './cache.ts';
import { isNotFound } from './errors.ts';
import type { EventInput, EventRecorder } from './events.ts';
import { addFinalizer, removeFinalizer } from './finalizers.ts';
import type { JsonPatchOperation, KubeClient } from './kube.ts';
import type { EqualitySelector as LabelSelector } from '../../api/selectors.ts';
import type { Logger } from './logger.ts';
import type { OwnWrites } from './own-writes.ts';
import { prune, type PruneProtection, type PruneResult } from './prune.ts';
import { identityOf, parseKey, typeId, watchedTypeId, type ResourceType, type WatchedType } from './resources.ts';
import { patchStatusIfChanged, type StatusPatchResult } from './status.ts';
import type { Priority } from './workqueue.ts';

/** What a reconcile gets besides its key: reads from the caches and writes that respect the contract. */
export interface ReconcileContext {
  /** The key: `namespace/name`, or `name` for a cluster-scoped primary. */
  readonly key: string;
  readonly name: string;
  readonly namespace: string | undefined;
  /** Unique per reconcile; in every log line. */
  readonly reconcileID: string;
  /** Bound to `{controller, key, reconcileID}`. */
  readonly log: Logger;
  /** Aborts when this replica stops leading or the manager shuts down: stop and return. */
  readonly signal: AbortSignal;
  /** The API client; its writes throw once `signal` has aborted. */
  readonly client: KubeClient;
  /** The primary object from the cache (frozen), or undefined if it no longer exists. */
  primary(): Readonly<KubernetesObject> | undefined;
  /** The read-only cache of a type this controller's manager watches (primary, owns, watches). */
  cache(type: ResourceType): ObjectCache;
  /**
   * Server-side applies the whole desired state (see {@link applyAll}): unchanged objects cause no
   * request; the resourceVersions written are remembered so the next reconcile of this key waits
   * until the caches have caught up with them.
   */
  apply(desired: readonly KubernetesObject[], options?: Omit<ApplyOptions, 'live'>): Promise<ApplyResult>;
  /**
   * Deletes children of the owned kinds (or `types`) that carry `selector` and are not in `keep`
   * (objects or identities); what the manager protects is never deleted (see `prune`). The next
   * reconcile of this key waits until the caches show the deletions.
   */
  prune(options: { selector: LabelSelector; keep: Iterable<KubernetesObject | string>; types?: readonly ResourceType[]; namespace?: string; collections?: readonly ResourceType[] }): Promise<PruneResult>;
  /**
   * JSON-patches (RFC 6902) one object of a kind this controller caches, in this key's namespace
   * unless `namespace` says otherwise; remembered like `apply`. For a change of one field that no
   * desired state says, such as stopping what a primary with no valid spec still runs (a partial
   * apply would give up every field it leaves out). Undefined when the object is gone.
   */
  jsonPatch(type: ResourceType, name: string, operations: readonly JsonPatchOperation[], namespace?: string): Promise<KubernetesObject | undefined>;
  /** Patches the primary's `/status` only if it changed (see `patchStatusIfChanged`); remembers the write like `apply`. */
  patchStatus(status: object): Promise<StatusPatchResult>;
  /**
   * Reconciles this key again within `delayMs` however this reconcile ends, a thrown error's
   * backoff included: for a deadline (an access expiry) that a failing write must not push back.
   * The earliest of this, the result's `requeueAfter` and a retry wins.
   */
  wakeAfter(delayMs: number): void;
  /** Records a Kubernetes Event about `object` (default: the primary): queued and written in the background, aggregated; never throws. */
  recordEvent(event: EventInput, object?: Readonly<KubernetesObject>): Promise<void>;
  /**
   * Adds `finalizer` to the primary if missing, with a JSON Patch `test`+`add`; call it before
   * any side effect that needs cleanup. True when it wrote.
   */
  addFinalizer(finalizer: string): Promise<boolean>;
  /** Removes `finalizer` from the primary (JSON Patch `test`+`remove`) once cleanup is done. True when it wrote. */
  removeFinalizer(finalizer: string): Promise<boolean>;
}

/** What a reconcile context needs from the manager: the client, the shared caches, Events, and what pruning must leave. */
export interface ContextRuntime {
  client: KubeClient;
  events: EventRecorder;
  /** The shared cache of a type, started on demand. */
  cacheFor(type: WatchedType): ObjectCache;
  /** What `prune` never deletes. */
  protectFromPrune: PruneProtection;
}

/** The controller a context serves: its primary kind and the kinds it owns (pruned by default) and watches. */
export interface ContextOf {
  primary: WatchedType;
  owns?: readonly WatchedType[];
  watches?: readonly WatchedType[];
}

/** The one reconcile a context serves: its key and identity, and the controller's write tracking and queue. */
export interface ContextRun {
  key: string;
  reconcileID: string;
  log: Logger;
  signal: AbortSignal;
  writes: OwnWrites;
  /** Queues the key now (after a reconcile that wrote) or later (`wakeAfter`). */
  queue: { add(key: string, priority?: Priority): void; addAfter(key: string, delayMs: number): void };
  /** The priority of the reconcile that follows one that wrote (the controller's `followUps`). */
  followUp: Priority;
}

/**
 * The context of one reconcile of `run.key`. Its client refuses writes once `run.signal` aborts;
 * every write goes through `run.writes` (in flight while it waits for its answer, then
 * remembered), and an apply that wrote queues the key once more, to observe what it did.
 */
export function reconcileContext(runtime: ContextRuntime, of: ContextOf, run: ContextRun): ReconcileContext {
  const { primary, owns = [], watches = [] } = of;
  const { key, reconcileID, log, signal, writes, queue } = run;
  const { name, namespace } = parseKey(key);
  const client = runtime.client.guardedBy(signal);
  // A kind may have two caches, with different selectors (the operator's own NetworkPolicies, a view
  // of everyone's): each type reads its own cache, and a kind alone means the first one declared.
  const cacheByType = new Map<string, ObjectCache>();
  const cacheByKind = new Map<string, ObjectCache>();
  for (const type of [primary, ...owns, ...watches]) {
    const cache = runtime.cacheFor(type);
    cacheByType.set(watchedTypeId(type), cache);
    if (!cacheByKind.has(typeId(type))) cacheByKind.set(typeId(type), cache);
  }
  const cacheOf = (object: KubernetesObject): ObjectCache | undefined => cacheByKind.get(typeId({ apiVersion: object.apiVersion ?? 'v1', kind: object.kind ?? '' }));
  const primaryCache = runtime.cacheFor(primary);
  const context: ReconcileContext = {
    key,
    name,
    namespace,
    reconcileID,
    log,
    signal,
    client,
    primary: () => primaryCache.get(name, namespace),
    cache: (type) => cacheByType.get(watchedTypeId(type)) ?? cacheByKind.get(typeId(type)) ?? runtime.cacheFor(type),
    apply: (desired, options = {}) => writes.writing(key, async () => {
      const remember = (written: ApplyResult['written']): void => {
        for (const entry of written) writes.wrote(key, cacheOf(entry.object), entry.resourceVersion, entry.object);
      };
      let result: ApplyResult;
      try {
        result = await applyAll(client, desired, {
          ...options,
          live: (object) => cacheOf(object)?.get(object.metadata?.name ?? '', object.metadata?.namespace),
        });
      } catch (error) {
        // What went through before the failure was written all the same: the retry waits to see it too.
        if (error instanceof ApplyError) remember(error.written);
        throw error;
      }
      remember(result.written);
      // Their echoes reconcile nothing: one more reconcile observes what this one wrote.
      if (result.written.length > 0) {
        queue.add(key, run.followUp);
        log.info({ written: result.written.map((entry) => entry.identity), unchanged: result.unchanged.length }, 'applied');
      }
      return result;
    }),
    prune: ({ selector, keep, types = owns, namespace: inNamespace, collections }) => writes.writing(key, async () => {
      const identities = new Set<string>();
      for (const entry of keep) identities.add(typeof entry === 'string' ? entry : identityOf(entry));
      const caches = types.map((type) => context.cache(type));
      const result = await prune(client, { selector, protect: runtime.protectFromPrune, keep: identities, caches, ...(inNamespace !== undefined ? { namespace: inNamespace } : {}), ...(collections ? { collections } : {}) });
      for (const object of result.deletedObjects) {
        const cache = cacheOf(object);
        if (cache) writes.deleted(key, cache, object);
      }
      // No follow-up either: the reconcile that pruned already reported the state without them.
      if (result.deleted.length > 0) log.info({ deleted: result.deleted }, 'pruned');
      if (result.protected.length > 0) log.info({ protected: result.protected }, 'kept protected objects that are no longer rendered');
      return result;
    }),
    jsonPatch: (type, objectName, operations, inNamespace = namespace) => writes.writing(key, async () => {
      let stored: KubernetesObject;
      try {
        stored = await client.jsonPatch(type, objectName, inNamespace, operations);
      } catch (error) {
        if (isNotFound(error)) return undefined;
        throw error;
      }
      writes.wrote(key, context.cache(type), stored.metadata?.resourceVersion, stored);
      return stored;
    }),
    patchStatus: (status) => writes.writing(key, async () => {
      const live = context.primary();
      if (!live) return { written: false };
      let result: StatusPatchResult;
      try {
        result = await patchStatusIfChanged(client, primary, live, status);
      } catch (error) {
        // Deleted since the cache saw it: there is no status left to report; the watch will say so.
        if (isNotFound(error)) return { written: false };
        throw error;
      }
      if (result.written) writes.wrote(key, primaryCache, result.resourceVersion, live);
      return result;
    }),
    addFinalizer: (finalizer) => writes.writing(key, async () => {
      const live = context.primary();
      const stored = live ? await addFinalizer(client, primary, live, finalizer) : undefined;
      writes.wrote(key, primaryCache, stored?.metadata?.resourceVersion, stored);
      return stored !== undefined;
    }),
    removeFinalizer: (finalizer) => writes.writing(key, async () => {
      const live = context.primary();
      const stored = live ? await removeFinalizer(client, primary, live, finalizer) : undefined;
      writes.wrote(key, primaryCache, stored?.metadata?.resourceVersion, stored);
      return stored !== undefined;
    }),
    wakeAfter: (delayMs) => queue.addAfter(key, delayMs),
    recordEvent: async (event, object) => {
      const about = object ?? context.primary();
      // Queued for the recorder's writers; the reconcile goes on at once.
      if (about && !signal.aborted) void runtime.events.record(about, event);
    },
  };
  return context;
}
