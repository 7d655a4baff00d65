// The operator's Prometheus metrics, on a registry of its own so several managers can share a process.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * Every metric the runtime exports. Gauges that mirror live state (queue depth, objects managed)
 * are read at scrape time from the sources registered with `watchDepth` / `watchManaged`, so they
 * are never stale. `enclavesExpiring` is for the Enclave reconciler to set.
 */
export class OperatorMetrics {
  readonly registry: Registry;
  readonly reconcileTotal: Counter<'controller' | 'result'>;
  readonly reconcileDuration: Histogram<'controller'>;
  readonly workqueueDepth: Gauge<'controller'>;
  readonly watchRestarts: Counter<'resource' | 'reason'>;
  readonly watchEvents: Counter<'resource' | 'type'>;
  readonly objectsManaged: Gauge<'kind'>;
  readonly enclavesExpiring: Gauge;
  readonly apiRequests: Counter<'verb' | 'kind'>;
  readonly apiRetries: Counter<'verb' | 'code'>;
  readonly leader: Gauge;
  readonly renders: Counter<'controller' | 'result'>;
  readonly #depthSources = new Map<string, () => number>();
  readonly #managedSources = new Map<string, () => number>();
  #leaderSource: (() => boolean) | undefined;

  constructor(options: { defaultMetrics?: boolean } = {}) {
    this.registry = new Registry();
    const registers = [this.registry];
    const depthSources = this.#depthSources;
    const managedSources = this.#managedSources;
    this.reconcileTotal = new Counter({ name: 'sde_reconcile_total', help: 'Reconciles by controller and result (success, requeue, error, terminal).', labelNames: ['controller', 'result'], registers });
    this.reconcileDuration = new Histogram({
      name: 'sde_reconcile_duration_seconds',
      help: 'Time spent in one reconcile.',
      labelNames: ['controller'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
    this.workqueueDepth = new Gauge({
      name: 'sde_workqueue_depth',
      help: 'Keys waiting in a controller work queue.',
      labelNames: ['controller'],
      registers,
      collect() {
        for (const [controller, read] of depthSources) this.set({ controller }, read());
      },
    });
    this.watchRestarts = new Counter({ name: 'sde_watch_restarts_total', help: 'Watch restarts by resource and reason (closed, gone, error, watchdog, resync).', labelNames: ['resource', 'reason'], registers });
    this.watchEvents = new Counter({ name: 'sde_watch_events_total', help: 'Watch events received by resource and type.', labelNames: ['resource', 'type'], registers });
    this.objectsManaged = new Gauge({
      name: 'sde_objects_managed',
      help: 'Objects in the caches that carry the operator managed-by label, by kind.',
      labelNames: ['kind'],
      registers,
      collect() {
        for (const [kind, read] of managedSources) this.set({ kind }, read());
      },
    });
    this.enclavesExpiring = new Gauge({ name: 'sde_enclaves_expiring', help: 'Enclaves whose access ends within the warning period.', registers });
    this.apiRequests = new Counter({ name: 'sde_api_requests_total', help: 'Kubernetes API requests made, by verb and kind.', labelNames: ['verb', 'kind'], registers });
    this.apiRetries = new Counter({ name: 'sde_api_retries_total', help: 'Requests retried at once after a transient answer (429, 5xx), by verb and status code.', labelNames: ['verb', 'code'], registers });
    const leaderSource = (): (() => boolean) | undefined => this.#leaderSource;
    this.leader = new Gauge({
      name: 'sde_leader',
      help: '1 while this replica holds the leader lease.',
      registers,
      collect() {
        const read = leaderSource();
        if (read) this.set(read() ? 1 : 0);
      },
    });
    this.renders = new Counter({ name: 'sde_renders_total', help: 'Desired states rendered, by controller and result (rendered, or reused while the inputs were unchanged).', labelNames: ['controller', 'result'], registers });
    if (options.defaultMetrics) collectDefaultMetrics({ register: this.registry });
  }

  /** Reports `read()` as `sde_workqueue_depth{controller}` at each scrape. */
  watchDepth(controller: string, read: () => number): void {
    this.#depthSources.set(controller, read);
  }

  /** Reports `read()` as `sde_leader` at each scrape. */
  watchLeader(read: () => boolean): void {
    this.#leaderSource = read;
  }

  /** Reports `read()` as `sde_objects_managed{kind}` at each scrape. */
  watchManaged(kind: string, read: () => number): void {
    this.#managedSources.set(kind, read);
  }
}
