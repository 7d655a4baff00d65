// The manager: shared caches, controllers, leader election, HTTP endpoints and shutdown, as one process.
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { KubeConfig } from '@kubernetes/client-node';
import { CacheView, type ObjectCache } from './cache.ts';
import { Controller, type ControllerOptions } from './controller.ts';
import { LeadershipLostError } from './errors.ts';
import { EventRecorder, type EventRecorderOptions } from './events.ts';
import { HealthServer, type Readiness } from './health.ts';
import { KubeClient, loadKubeConfig } from './kube.ts';
import { LeaderElector, type LeaderElectionOptions } from './leader.ts';
import { limiter } from './limit.ts';
import type { Listener } from './listener.ts';
import { createLogger, type Logger } from './logger.ts';
import { OperatorMetrics } from './metrics.ts';
import type { PruneProtection } from './prune.ts';
import { Reflector, type ReflectorOptions } from './reflector.ts';
import { watchedTypeId, type WatchedType } from './resources.ts';

/**
 * Options of a {@link Manager}. The operator says who it is and what it must never delete;
 * everything else has a production default, and tests shorten the timings.
 */
export interface ManagerOptions {
  /**
   * The field manager of every apply and patch the operator makes, the reporting component of
   * its Events and the start of its leader Lease's default name.
   */
  fieldManager: string;
  /** Sent on every request, so the API server's audit log names the operator; default the client's (`DEFAULT_USER_AGENT`). */
  userAgent?: string;
  /** The label (and its value) on every object the operator manages: `sde_objects_managed{kind}` counts them; none when omitted. */
  managedBy?: { label: string; value: string };
  /** What pruning never deletes, whatever its labels (research data): see `ReconcileContext.prune`. */
  protectFromPrune: PruneProtection;
  /** Cluster access; default {@link loadKubeConfig} (KUBECONFIG, in-cluster, ~/.kube/config). */
  kubeConfig?: KubeConfig;
  logger?: Logger;
  metrics?: OperatorMetrics;
  /** Lease-based leader election; `false` to run every controller unconditionally (one replica). */
  leaderElection?: false | (Partial<Omit<LeaderElectionOptions, 'client' | 'logger' | 'metrics'>> & { namespace: string });
  /** The health/metrics server; default port 8081 on all interfaces; `false` for none. */
  health?: false | { port?: number; host?: string };
  /** Watch tuning shared by every cache. */
  watch?: Partial<Pick<ReflectorOptions, 'resyncMs' | 'watchdogMs' | 'pageSize' | 'backoff' | 'watchTimeoutSeconds'>> & {
    /** Full lists in flight at once across every cache; default {@link LISTS_AT_ONCE}. */
    listsAtOnce?: number;
  };
  /** Event aggregation tuning. */
  events?: Partial<Pick<EventRecorderOptions, 'aggregateWindowMs' | 'minUpdateIntervalMs' | 'reportingInstance'>>;
}

/**
 * Full lists in flight at once across every cache. kube-apiserver answers a list from its watch
 * cache in one response whatever the page size; a cache stores its list as it arrives, and taking
 * turns keeps a relist of every kind to one kind's response in flight. At 1,000 enclaves on the
 * real server it made no difference to the peak that the benchmark could tell from run-to-run
 * spread (docs/benchmarks.md).
 */
export const LISTS_AT_ONCE = 1;

/**
 * Runs controllers over shared caches (one watch per resource type however many controllers use
 * it). `start()` opens the health server and any added listeners (or, when a port is taken,
 * closes what it opened and throws), starts the caches and waits until all have synced,
 * then reconciles — at once without leader election, or once this replica holds the Lease.
 * Losing the lease stops every reconcile at once (their writes throw) and rejects `done` with a
 * {@link LeadershipLostError} straight away (the process should exit and restart, as
 * controller-runtime does); cleanup continues in the background.
 * `stop()` is graceful: no new keys, in-flight reconciles finish, the lease is released, caches
 * and server close. `/readyz` is 200 once caches synced and the replica leads or is a healthy standby.
 */
export class Manager {
  readonly client: KubeClient;
  readonly metrics: OperatorMetrics;
  readonly logger: Logger;
  readonly events: EventRecorder;
  /** Settles when the manager has stopped: resolves after `stop()`, rejects with LeadershipLostError after losing the lease. */
  readonly done: Promise<void>;
  readonly #options: ManagerOptions;
  readonly #reflectors = new Map<string, Reflector>();
  readonly #views = new Map<string, CacheView>();
  readonly #controllers: Controller[] = [];
  readonly #health: HealthServer | undefined;
  readonly #listeners = new Map<string, { listener: Listener; port?: number }>();
  readonly #elector: LeaderElector | undefined;
  readonly #stopping = new AbortController();
  readonly #listTurn: <T>(list: () => Promise<T>) => Promise<T>;
  #started = false;
  #port: number | undefined;
  #stopped: Promise<void> | undefined;
  #settle!: { resolve: () => void; reject: (error: unknown) => void };

  constructor(options: ManagerOptions) {
    this.#options = options;
    this.logger = options.logger ?? createLogger();
    this.metrics = options.metrics ?? new OperatorMetrics({ defaultMetrics: true });
    this.client = new KubeClient(options.kubeConfig ?? loadKubeConfig(), { metrics: this.metrics, fieldManager: options.fieldManager, ...(options.userAgent ? { userAgent: options.userAgent } : {}) });
    this.events = new EventRecorder({ client: this.client, logger: this.logger, ...options.events });
    this.#listTurn = limiter(options.watch?.listsAtOnce ?? LISTS_AT_ONCE);
    this.done = new Promise<void>((resolve, reject) => (this.#settle = { resolve, reject }));
    this.done.catch(() => undefined);
    if (options.health !== false) {
      this.#health = new HealthServer({ port: options.health?.port ?? 8081, ...(options.health?.host ? { host: options.health.host } : {}), readiness: () => this.readiness(), metrics: this.metrics, logger: this.logger });
    }
    if (options.leaderElection) {
      this.#elector = new LeaderElector({
        name: `${options.fieldManager}-leader`,
        identity: `${hostname()}-${randomBytes(4).toString('hex')}`,
        ...options.leaderElection,
        client: this.client,
        logger: this.logger,
        metrics: this.metrics,
      });
    }
  }

  /** Adds a controller (or builds one from options); must be called before `start()`. */
  add(controller: Controller | ControllerOptions): Controller {
    if (this.#started) throw new Error(`expected controllers to be added before the manager starts, but "${controller instanceof Controller ? controller.name : controller.name}" came after`);
    const instance = controller instanceof Controller ? controller : new Controller(controller);
    const { managedBy, protectFromPrune } = this.#options;
    instance.attach({ client: this.client, metrics: this.metrics, logger: this.logger, events: this.events, cacheFor: (type) => this.cacheFor(type), ...(managedBy ? { managedBy } : {}), protectFromPrune });
    this.#controllers.push(instance);
    return instance;
  }

  /** Adds a listener (the data use register, the admission webhooks) opened with the health server and closed with it; must be called before `start()`. */
  addListener(name: string, listener: Listener): void {
    if (this.#started) throw new Error(`expected listeners to be added before the manager starts, but "${name}" came after`);
    this.#listeners.set(name, { listener });
  }

  /** The port of listener `name` once started (useful with port 0). */
  portOf(name: string): number | undefined {
    return this.#listeners.get(name)?.port;
  }

  /**
   * The shared read-only cache of a type; its watch starts now if the manager is running. A type
   * that is a view of a broader one ({@link WatchedType.viewOf}) gets a view of that one's cache.
   */
  cacheFor(type: WatchedType): ObjectCache {
    const id = watchedTypeId(type);
    if (type.viewOf) {
      let view = this.#views.get(id);
      if (!view) this.#views.set(id, (view = new CacheView(this.cacheFor(type.viewOf), type)));
      return view;
    }
    let reflector = this.#reflectors.get(id);
    if (!reflector) {
      const { listsAtOnce: _listsAtOnce, ...watch } = this.#options.watch ?? {};
      reflector = new Reflector({ client: this.client, type, metrics: this.metrics, logger: this.logger, listTurn: this.#listTurn, ...(type.namespace ? { namespace: type.namespace } : {}), ...watch });
      this.#reflectors.set(id, reflector);
      if (this.#started) reflector.start();
    }
    return reflector.cache;
  }

  /** The health server's port once started (useful with port 0). */
  get port(): number | undefined {
    return this.#port;
  }

  /** True while this replica reconciles: it holds the lease, or leader election is off and it started. */
  get isLeader(): boolean {
    return this.#elector ? this.#elector.isLeader : this.#started && !this.#stopping.signal.aborted;
  }

  /** What `/readyz` reports: every cache synced, and leading or a standby that can see the lease. */
  readiness(): Readiness {
    const reasons: string[] = [];
    for (const reflector of this.#reflectors.values()) if (!reflector.cache.hasSynced) reasons.push(`cache ${reflector.cache.type.plural} not synced`);
    if (this.#elector && !this.#elector.isLeader && !this.#elector.isHealthy) reasons.push('cannot read the leader lease');
    if (this.#stopping.signal.aborted) reasons.push('shutting down');
    return { ready: reasons.length === 0, reasons };
  }

  /**
   * Starts the server and caches, waits for every cache to sync, then starts the controllers
   * (after winning the election, in the background, when leader election is on). Resolves once
   * the caches have synced.
   */
  async start(): Promise<void> {
    this.#started = true;
    try {
      if (this.#health) this.#port = await this.#health.listen();
      for (const entry of this.#listeners.values()) entry.port = await entry.listener.listen();
    } catch (error) {
      // A port already taken: close what did open, so the process can exit instead of lingering.
      await this.#closeServers();
      throw error;
    }
    for (const reflector of this.#reflectors.values()) reflector.start();
    await Promise.all([...this.#reflectors.values()].map((reflector) => reflector.cache.whenSynced()));
    if (this.#stopping.signal.aborted) return;
    this.logger.info({ caches: this.#reflectors.size, controllers: this.#controllers.map((controller) => controller.name) }, 'caches synced');
    if (!this.#elector) {
      this.#startControllers(this.#stopping.signal);
      return;
    }
    void this.#elector.acquire().then((leadership) => {
      if (!leadership || this.#stopping.signal.aborted) return;
      leadership.addEventListener('abort', () => void this.#shutdown(leadership.reason, false), { once: true });
      this.#startControllers(AbortSignal.any([leadership, this.#stopping.signal]));
    });
  }

  #startControllers(signal: AbortSignal): void {
    for (const controller of this.#controllers) controller.start(signal);
  }

  /**
   * Graceful stop: no new keys, in-flight reconciles finish, the lease is released (unless
   * `releaseLease: false`, which behaves like a crash for the standby), caches and server close.
   */
  stop(options: { releaseLease?: boolean } = {}): Promise<void> {
    return this.#shutdown(undefined, options.releaseLease ?? true);
  }

  /** Stops gracefully on SIGTERM or SIGINT; returns a function that removes the handlers. */
  handleSignals(): () => void {
    const onSignal = (signal: NodeJS.Signals): void => {
      this.logger.info({ signal }, 'shutting down');
      void this.stop();
    };
    process.once('SIGTERM', onSignal);
    process.once('SIGINT', onSignal);
    return () => {
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
    };
  }

  async #closeServers(): Promise<void> {
    await Promise.all([this.#health?.close(), ...[...this.#listeners.values()].map((entry) => entry.listener.close())]);
  }

  #shutdown(cause: unknown, releaseLease: boolean): Promise<void> {
    this.#stopped ??= (async () => {
      this.#stopping.abort(cause);
      if (cause instanceof LeadershipLostError) {
        // Every write of the reconciles still in flight now throws; do not wait for them to say so.
        this.logger.error({ err: cause }, 'lost leadership; stopping all controllers');
        this.#settle.reject(cause);
      }
      await Promise.all(this.#controllers.map((controller) => controller.stop()));
      // Events the last reconciles queued are written while this replica may still write.
      await this.events.flush();
      if (this.#elector) await (releaseLease ? this.#elector.release() : this.#elector.stop());
      await Promise.all([...this.#reflectors.values()].map((reflector) => reflector.stop()));
      await this.#closeServers();
      this.#settle.resolve();
    })();
    return this.#stopped;
  }
}
