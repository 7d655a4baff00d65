// A controller: one primary kind, the children it owns, a work queue, and the reconcile contract.
import { randomUUID } from 'node:crypto';
import type { KubernetesObject } from '@kubernetes/client-node';
import type { BackoffOptions } from './backoff.ts';
import type { CacheEvent, ObjectCache } from './cache.ts';
import { ownerKeysOfEvent, reconciles, type Changes } from './event-mapping.ts';
import type { Logger } from './logger.ts';
import type { OperatorMetrics } from './metrics.ts';
import { OwnWrites } from './own-writes.ts';
import { reconcileContext, type ContextRuntime, type ReconcileContext } from './reconcile-context.ts';
import { objectKey, type WatchedType } from './resources.ts';
import { WorkQueue, type Priority, type ReconcileResult } from './workqueue.ts';

/** A reconcile: level-triggered, idempotent, told only the key (never which event happened). */
export type Reconciler = (key: string, context: ReconcileContext) => Promise<ReconcileResult>;

/** A non-owned type whose changes should reconcile some primaries. */
export interface WatchSpec {
  type: WatchedType;
  /** Keys of the primaries to reconcile when `object` changes. */
  mapToKeys(object: Readonly<KubernetesObject>): string[];
  /** Which of its changes reconcile the mapped keys; default all. */
  changes?: Changes;
  /**
   * `low` for a kind whose changes only move what the reconcile reports (a pod's progress for its
   * workspace's status), or what can wait: those reconciles wait while others that create or
   * repair objects are queued, and a burst of them for one key runs once. Default `normal`.
   */
  priority?: Priority;
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
  /**
   * Where the reconcile that follows one that wrote (to observe and report what it wrote) queues:
   * `normal` (the default) behind the keys already waiting; `high` ahead of them, so a key is
   * finished before new ones start, for a controller whose report others wait on.
   */
  followUps?: Priority;
  /** How long a reconcile waits for the caches to show this key's previous writes; default 10 000 ms. */
  freshnessTimeoutMs?: number;
}

/** What a {@link Controller} needs from its manager: what its reconcile contexts need, plus metrics and logs. */
export interface ControllerRuntime extends ContextRuntime {
  metrics: OperatorMetrics;
  logger: Logger;
  /** The label (and its value) on every object the operator manages, counted per owned kind in `sde_objects_managed`. */
  managedBy?: { label: string; value: string };
}

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
  readonly #writes = new OwnWrites();
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

  /**
   * Queues `key` from a source the caches do not see (controller-runtime's channel source): a
   * result worked out apart from the watches, such as an asynchronous check's. Nothing before
   * the manager has attached the controller.
   */
  enqueue(key: string): void {
    this.#queue?.add(key);
  }

  /** Resolves when the queue has nothing waiting or in flight; for tests. */
  whenIdle(): Promise<void> {
    return this.#queue?.whenIdle() ?? Promise.resolve();
  }

  /**
   * Subscribes to the caches; called by the manager before caches start. Keys queue up until
   * `start`. An event is judged once the writes of its keys in flight have their answers: an
   * echo of this controller's own write reconciles nothing.
   */
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
    const enqueue = (cache: ObjectCache, keysOf: (event: CacheEvent) => string[], changes?: Changes, priority: Priority = 'normal'): void => {
      this.#unsubscribe.push(
        cache.subscribe((event) => {
          const keys = keysOf(event);
          this.#writes.whenAnswered(keys, () => {
            if (this.#writes.isEcho(cache, event) || !reconciles(changes, event)) return;
            for (const key of keys) this.#queue?.add(key, priority);
          });
        }),
      );
    };
    enqueue(runtime.cacheFor(options.primary), (event) => [objectKey(event.object)]);
    for (const type of options.owns ?? []) {
      const cache = runtime.cacheFor(type);
      const { managedBy } = runtime;
      if (managedBy) runtime.metrics.watchManaged(type.kind, () => cache.countLabelled(managedBy.label, managedBy.value));
      enqueue(cache, (event) => ownerKeysOfEvent(options.primary, options.ownerLabel, event), options.childChanges);
    }
    // A controller may write a watched kind too (the Enclave controller's own Workspaces): its echoes count as such.
    for (const watch of options.watches ?? []) enqueue(runtime.cacheFor(watch.type), (event) => watch.mapToKeys(event.object), watch.changes, watch.priority);
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

  #requireRuntime(): ControllerRuntime {
    if (!this.#runtime) throw new Error(`expected controller ${this.options.name} to be added to a Manager before it starts, but it was not`);
    return this.#runtime;
  }

  async #process(key: string): Promise<ReconcileResult> {
    const runtime = this.#requireRuntime();
    const queue = this.#queue;
    if (!queue) throw new Error(`expected controller ${this.options.name} to have a work queue, but it has none`);
    const signal = this.#signal ?? new AbortController().signal;
    signal.throwIfAborted();
    const reconcileID = randomUUID();
    const log = runtime.logger.child({ controller: this.options.name, key, reconcileID });
    const timeoutMs = this.options.freshnessTimeoutMs ?? 10_000;
    if (!(await this.#writes.awaitCaches(key, timeoutMs))) log.warn({ timeoutMs }, 'cache did not catch up with our last writes in time; reconciling anyway');
    const { primary, owns, watches = [] } = this.options;
    const context = reconcileContext(runtime, { primary, ...(owns ? { owns } : {}), watches: watches.map((watch) => watch.type) }, { key, reconcileID, log, signal, writes: this.#writes, queue, followUp: this.options.followUps ?? 'normal' });
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
}
