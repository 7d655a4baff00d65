// A controller: one primary kind, the children it owns, a work queue, and the reconcile contract.
import { randomUUID } from 'node:crypto';
import type { KubernetesObject } from '@kubernetes/client-node';
import { applyAll, type ApplyOptions, type ApplyResult } from './apply.ts';
import { isNotFound } from './errors.ts';
import type { BackoffOptions } from './backoff.ts';
import type { CacheEvent, ObjectCache } from './cache.ts';
import type { EventInput, EventRecorder } from './events.ts';
import { addFinalizer, removeFinalizer } from './finalizers.ts';
import { jsonEqual } from './json-equal.ts';
import type { KubeClient } from './kube.ts';
import type { LabelSelector } from './label-selector.ts';
import type { Logger } from './logger.ts';
import type { OperatorMetrics } from './metrics.ts';
import { prune, type PruneProtection, type PruneResult } from './prune.ts';
import { groupOf, identityOf, objectKey, parseKey, typeId, type ResourceType, type WatchedType } from './resources.ts';
import { patchStatusIfChanged, type StatusPatchResult } from './status.ts';
import { WorkQueue, type ReconcileResult } from './workqueue.ts';

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

/** A reconcile: level-triggered, idempotent, told only the key (never which event happened). */
export type Reconciler = (key: string, context: ReconcileContext) => Promise<ReconcileResult>;

/** A non-owned type whose changes should reconcile some primaries. */
export interface WatchSpec {
  type: WatchedType;
  /** Keys of the primaries to reconcile when `object` changes. */
  mapToKeys(object: Readonly<KubernetesObject>): string[];
  /** Which of its changes reconcile the mapped keys; default all. */
  changes?: Changes;
}

/**
 * Which changes of a watched kind reconcile: `'all'`; `'spec'`, ignoring changes confined to
 * `status` (see {@link statusOnlyChange}); or a function deciding per event.
 */
export type Changes = 'all' | 'spec' | ((event: CacheEvent) => boolean);

function counts(changes: Changes | undefined, event: CacheEvent): boolean {
  if (changes === 'spec') return !statusOnlyChange(event);
  return typeof changes === 'function' ? changes(event) : true;
}

/**
 * True for a MODIFIED event that changed nothing but `status` (and the resourceVersion that comes
 * with any write): controller-runtime's predicates filter these for watches whose status the
 * reconciler never reads. Any change to metadata (labels, owners, finalizers, deletion) or to
 * the rest of the object counts, so drift in a child's spec, rules or subjects still reconciles.
 */
export function statusOnlyChange(event: CacheEvent): boolean {
  if (event.type !== 'MODIFIED' || event.previous === undefined) return false;
  const before = event.previous as Readonly<Record<string, unknown>>;
  const after = event.object as Readonly<Record<string, unknown>>;
  return sameExcept(before, after, 'status', 'metadata') && sameExcept((before.metadata ?? {}) as Record<string, unknown>, (after.metadata ?? {}) as Record<string, unknown>, 'resourceVersion');
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

/** Options of a {@link Controller}. */
export interface ControllerOptions {
  /** Short name: metric label and log field (`enclave`, `workspace`…). */
  name: string;
  primary: WatchedType;
  /** Child kinds: their changes reconcile the owner found by ownerReference (controller: true) or `ownerLabel`. */
  owns?: readonly WatchedType[];
  /**
   * A label on children whose value is the owner's name, for owners that cannot be referenced
   * or are cluster-scoped with children in a namespace (the Enclave: `sde.london/enclave`). For a
   * namespaced primary the key is the child's namespace plus the label value.
   */
  ownerLabel?: string;
  watches?: readonly WatchSpec[];
  /**
   * Which changes of owned children reconcile their owner; default all. `'spec'` suits reconcilers
   * that never read their children's status: a quota's usage or a claim's phase then costs no reconcile.
   */
  childChanges?: Changes;
  reconcile: Reconciler;
  /** Keys reconciled at once; default 2. */
  concurrency?: number;
  /** Retry delays for thrown errors; default 500 ms doubling to 5 minutes, jittered. */
  backoff?: BackoffOptions;
  /** How long a reconcile waits for the caches to show this key's previous writes; default 10 000 ms. */
  freshnessTimeoutMs?: number;
}

/** What a {@link Controller} needs from its manager. */
export interface ControllerRuntime {
  client: KubeClient;
  metrics: OperatorMetrics;
  logger: Logger;
  events: EventRecorder;
  /** The shared cache of a type, started on demand. */
  cacheFor(type: WatchedType): ObjectCache;
  /** The label (and its value) on every object the operator manages, counted per owned kind in `sde_objects_managed`. */
  managedBy?: { label: string; value: string };
  /** What `prune` never deletes. */
  protectFromPrune: PruneProtection;
}

// Own writes whose watch echo has not come back yet, at most this many; past it they are forgotten
// (an unrecognised echo costs one reconcile, nothing else).
const MAX_UNECHOED_WRITES = 100_000;
/** Stands for "this controller deleted it" where an expected echo's resourceVersion goes. */
const DELETED_BY_US = '';

/** A write whose effect the cache must show before this key is reconciled again. */
type PendingWrite = { cache: ObjectCache; resourceVersion: string } | { cache: ObjectCache; deleted: { name: string; namespace: string | undefined } };

/**
 * Runs one reconciler: maps primary, owned and watched objects' changes to primary keys, queues
 * them (see {@link WorkQueue}: deduplicated, one key at a time, backoff, terminal errors) and
 * calls `reconcile(key, context)`. Before reconciling a key it waits until the caches have seen
 * the resourceVersions this key's last reconcile wrote (kopf's rule), so it never acts on a cache
 * older than its own writes. The watch event that merely echoes one of its own writes (same
 * resourceVersion) reconciles nothing: instead, a reconcile that applied changes is followed by
 * exactly one more, which waits for the caches and observes what it did. The deletion events of
 * what it pruned are echoes too, and need no follow-up: the pruning reconcile reported the state
 * without them.
 * Created standalone, wired by `Manager.add`.
 */
export class Controller {
  readonly options: ControllerOptions;
  #runtime: ControllerRuntime | undefined;
  #queue: WorkQueue | undefined;
  #signal: AbortSignal | undefined;
  readonly #pendingWrites = new Map<string, PendingWrite[]>();
  /** resourceVersions this controller wrote, by cache type and object key, until their watch event arrives. */
  readonly #unechoed = new Map<string, string>();
  /**
   * Keys whose reconcile has writes in flight, with the events for them that came meanwhile. The
   * API server sends a write's watch event and its answer at about the same time, so the echo
   * often arrives before the answer says which resourceVersion to expect; such an event waits
   * here until the answer is in and is judged then (measured: 200 enclaves expiring at once took
   * 373 enclave and 794 workspace reconciles for 200 and 400 keys, most of the extra ones echoes).
   */
  readonly #writing = new Map<string, { writes: number; held: Array<() => void> }>();
  readonly #unsubscribe: Array<() => void> = [];

  constructor(options: ControllerOptions) {
    this.options = options;
  }

  get name(): string {
    return this.options.name;
  }

  /** Keys waiting in the queue (not in flight). */
  get depth(): number {
    return this.#queue?.depth ?? 0;
  }

  /** Resolves when the queue has nothing waiting or in flight; for tests. */
  whenIdle(): Promise<void> {
    return this.#queue?.whenIdle() ?? Promise.resolve();
  }

  /** Subscribes to the caches; called by the manager before caches start. Keys queue up until `start`. */
  attach(runtime: ControllerRuntime): void {
    this.#runtime = runtime;
    const { options } = this;
    this.#queue = new WorkQueue({
      process: (key) => this.#process(key),
      ...(options.concurrency !== undefined ? { concurrency: options.concurrency } : {}),
      ...(options.backoff ? { backoff: options.backoff } : {}),
      onOutcome: (outcome) => {
        const result = outcome.result === 'success' && outcome.requeueAfter !== undefined ? 'requeue' : outcome.result;
        runtime.metrics.reconcileTotal.inc({ controller: options.name, result });
        runtime.metrics.reconcileDuration.observe({ controller: options.name }, outcome.durationMs / 1000);
      },
    });
    runtime.metrics.watchDepth(options.name, () => this.depth);
    const primary = runtime.cacheFor(options.primary);
    this.#unsubscribe.push(
      primary.subscribe((event) => {
        const key = objectKey(event.object);
        this.#whenAnswered([key], () => {
          if (!this.#isEcho(primary, event)) this.#queue?.add(key);
        });
      }),
    );
    for (const type of options.owns ?? []) {
      const cache = runtime.cacheFor(type);
      const { managedBy } = runtime;
      if (managedBy) runtime.metrics.watchManaged(type.kind, () => cache.countLabelled(managedBy.label, managedBy.value));
      this.#unsubscribe.push(
        cache.subscribe((event) => {
          const keys = this.#ownerKeysOf(event);
          this.#whenAnswered(keys, () => {
            if (this.#isEcho(cache, event) || !counts(options.childChanges, event)) return;
            for (const key of keys) this.#queue?.add(key);
          });
        }),
      );
    }
    for (const watch of options.watches ?? []) {
      const cache = runtime.cacheFor(watch.type);
      this.#unsubscribe.push(
        cache.subscribe((event) => {
          // A controller may write a watched kind too (the Enclave controller's own Workspaces).
          const keys = watch.mapToKeys(event.object);
          this.#whenAnswered(keys, () => {
            if (this.#isEcho(cache, event) || !counts(watch.changes, event)) return;
            for (const key of keys) this.#queue?.add(key);
          });
        }),
      );
    }
  }

  /** Starts reconciling: every cached primary is queued once, then changes as they come; stops when `signal` aborts. */
  start(signal: AbortSignal): void {
    const runtime = this.#requireRuntime();
    this.#signal = signal;
    for (const object of runtime.cacheFor(this.options.primary).list()) this.#queue?.add(objectKey(object));
    this.#queue?.start();
  }

  /** Takes no more keys and resolves once in-flight reconciles have finished. */
  async stop(): Promise<void> {
    for (const unsubscribe of this.#unsubscribe.splice(0)) unsubscribe();
    await this.#queue?.shutdown();
  }

  /** The primary keys a changed child maps to (owner reference with `controller: true`, or the owner label). */
  ownerKeys(child: Readonly<KubernetesObject>): string[] {
    const { primary, ownerLabel } = this.options;
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

  #ownerKeysOf(event: CacheEvent): string[] {
    const keys = new Set<string>();
    for (const object of event.previous ? [event.previous, event.object] : [event.object]) {
      for (const key of this.ownerKeys(object)) keys.add(key);
    }
    return [...keys];
  }

  /** Runs `decide` now, or once the writes in flight for any of `keys` have their answers. */
  #whenAnswered(keys: readonly string[], decide: () => void): void {
    const writing = keys.map((key) => this.#writing.get(key)).find((entry) => entry !== undefined);
    if (writing) writing.held.push(decide);
    else decide();
  }

  /**
   * Marks a write of `key` in flight until `write` has finished, its answer remembered by the
   * caller inside it; the events held meanwhile are then judged, in the order they came.
   */
  async #writingFor<T>(key: string, write: () => Promise<T>): Promise<T> {
    let entry = this.#writing.get(key);
    if (!entry) this.#writing.set(key, (entry = { writes: 0, held: [] }));
    entry.writes += 1;
    try {
      return await write();
    } finally {
      entry.writes -= 1;
      if (entry.writes === 0) {
        this.#writing.delete(key);
        for (const decide of entry.held) decide();
      }
    }
  }

  /** True when `event` is the watch's echo of this controller's own write; forgets the write either way. */
  #isEcho(cache: ObjectCache, event: CacheEvent): boolean {
    if (this.#unechoed.size === 0) return false;
    const id = `${typeId(cache.type)} ${objectKey(event.object)}`;
    const written = this.#unechoed.get(id);
    if (written === undefined) return false;
    this.#unechoed.delete(id);
    if (written === DELETED_BY_US) return event.type === 'DELETED';
    return event.type !== 'DELETED' && written === event.object.metadata?.resourceVersion;
  }

  #expectEcho(cache: ObjectCache, object: KubernetesObject, resourceVersion: string): void {
    if (this.#unechoed.size >= MAX_UNECHOED_WRITES) this.#unechoed.clear();
    this.#unechoed.set(`${typeId(cache.type)} ${objectKey(object)}`, resourceVersion);
  }

  #requireRuntime(): ControllerRuntime {
    if (!this.#runtime) throw new Error(`expected controller ${this.options.name} to be added to a Manager before it starts, but it was not`);
    return this.#runtime;
  }

  async #process(key: string): Promise<ReconcileResult> {
    const runtime = this.#requireRuntime();
    const signal = this.#signal ?? new AbortController().signal;
    signal.throwIfAborted();
    const reconcileID = randomUUID();
    const log = runtime.logger.child({ controller: this.options.name, key, reconcileID });
    await this.#awaitOwnWrites(key, log);
    const context = this.#context(runtime, key, reconcileID, log, signal);
    try {
      const result = await this.options.reconcile(key, context);
      log.debug({ requeueAfter: result?.requeueAfter }, 'reconciled');
      return result;
    } catch (error) {
      if (signal.aborted) log.info({ reason: String(signal.reason) }, 'reconcile interrupted');
      else if (error instanceof Error && error.name === 'TerminalError') log.error({ err: error }, 'reconcile failed for good; not retrying');
      else log.warn({ err: error }, 'reconcile failed; will retry');
      throw error;
    }
  }

  async #awaitOwnWrites(key: string, log: Logger): Promise<void> {
    const writes = this.#pendingWrites.get(key);
    if (!writes) return;
    this.#pendingWrites.delete(key);
    const timeoutMs = this.options.freshnessTimeoutMs ?? 10_000;
    const seen = await Promise.all(
      writes.map((write) => {
        if ('resourceVersion' in write) return write.cache.waitForResourceVersion(write.resourceVersion, timeoutMs);
        const { name, namespace } = write.deleted;
        return write.cache.waitUntil(() => {
          const cached = write.cache.get(name, namespace);
          return !cached || Boolean(cached.metadata?.deletionTimestamp);
        }, timeoutMs);
      }),
    );
    if (seen.includes(false)) log.warn({ timeoutMs }, 'cache did not catch up with our last writes in time; reconciling anyway');
  }

  #rememberWrite(key: string, cache: ObjectCache | undefined, resourceVersion: string | undefined, object?: KubernetesObject): void {
    if (!cache || !resourceVersion) return;
    this.#remember(key, { cache, resourceVersion });
    if (object) this.#expectEcho(cache, object, resourceVersion);
  }

  #remember(key: string, write: PendingWrite): void {
    const writes = this.#pendingWrites.get(key) ?? [];
    writes.push(write);
    this.#pendingWrites.set(key, writes);
  }

  #context(runtime: ControllerRuntime, key: string, reconcileID: string, log: Logger, signal: AbortSignal): ReconcileContext {
    const { primary, owns = [] } = this.options;
    const { name, namespace } = parseKey(key);
    const client = runtime.client.guardedBy(signal);
    const cacheByType = new Map<string, ObjectCache>();
    for (const type of [primary, ...owns, ...(this.options.watches ?? []).map((watch) => watch.type)]) cacheByType.set(typeId(type), runtime.cacheFor(type));
    const cacheOf = (object: KubernetesObject): ObjectCache | undefined => cacheByType.get(typeId({ apiVersion: object.apiVersion ?? 'v1', kind: object.kind ?? '' }));
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
      cache: (type) => cacheByType.get(typeId(type)) ?? runtime.cacheFor(type),
      apply: (desired, options = {}) => this.#writingFor(key, async () => {
        const result = await applyAll(client, desired, {
          ...options,
          live: (object) => cacheOf(object)?.get(object.metadata?.name ?? '', object.metadata?.namespace),
        });
        for (const written of result.written) this.#rememberWrite(key, cacheOf(written.object), written.resourceVersion, written.object);
        // Their echoes reconcile nothing: one more reconcile observes what this one wrote.
        if (result.written.length > 0) {
          this.#queue?.add(key);
          log.info({ written: result.written.map((entry) => entry.identity), unchanged: result.unchanged.length }, 'applied');
        }
        return result;
      }),
      prune: ({ selector, keep, types = owns, namespace: inNamespace, collections }) => this.#writingFor(key, async () => {
        const identities = new Set<string>();
        for (const entry of keep) identities.add(typeof entry === 'string' ? entry : identityOf(entry));
        const caches = types.map((type) => context.cache(type));
        const result = await prune(client, { selector, protect: runtime.protectFromPrune, keep: identities, caches, ...(inNamespace !== undefined ? { namespace: inNamespace } : {}), ...(collections ? { collections } : {}) });
        for (const object of result.deletedObjects) {
          const cache = cacheOf(object);
          if (!cache) continue;
          this.#remember(key, { cache, deleted: { name: object.metadata?.name ?? '', namespace: object.metadata?.namespace } });
          this.#expectEcho(cache, object as KubernetesObject, DELETED_BY_US);
        }
        // No follow-up either: the reconcile that pruned already reported the state without them.
        if (result.deleted.length > 0) log.info({ deleted: result.deleted }, 'pruned');
        if (result.protected.length > 0) log.info({ protected: result.protected }, 'kept protected objects that are no longer rendered');
        return result;
      }),
      patchStatus: (status) => this.#writingFor(key, async () => {
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
        if (result.written) this.#rememberWrite(key, primaryCache, result.resourceVersion, live as KubernetesObject);
        return result;
      }),
      addFinalizer: (finalizer) => this.#writingFor(key, async () => {
        const live = context.primary();
        const stored = live ? await addFinalizer(client, primary, live, finalizer) : undefined;
        this.#rememberWrite(key, primaryCache, stored?.metadata?.resourceVersion, stored);
        return stored !== undefined;
      }),
      removeFinalizer: (finalizer) => this.#writingFor(key, async () => {
        const live = context.primary();
        const stored = live ? await removeFinalizer(client, primary, live, finalizer) : undefined;
        this.#rememberWrite(key, primaryCache, stored?.metadata?.resourceVersion, stored);
        return stored !== undefined;
      }),
      wakeAfter: (delayMs) => this.#queue?.addAfter(key, delayMs),
      recordEvent: async (event, object) => {
        const about = object ?? context.primary();
        // Queued for the recorder's writers; the reconcile goes on at once.
        if (about && !signal.aborted) void runtime.events.record(about, event);
      },
    };
    return context;
  }
}
