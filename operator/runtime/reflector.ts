// The watch supervisor: keeps one resource type's cache in step with the API server, forever.
import { setTimeout as sleep } from 'node:timers/promises';
import { Backoff, type BackoffOptions } from './backoff.ts';
import { Store, type ObjectCache } from './cache.ts';
import { KubeApiError, retryAfterMsOf, statusCodeOf } from './errors.ts';
import type { KubeClient, RawWatchEvent } from './kube.ts';
import type { Logger } from './logger.ts';
import type { OperatorMetrics } from './metrics.ts';
import type { WatchedType } from './resources.ts';

/** Why a watch was restarted: the label of `sde_watch_restarts_total{reason}`. */
export type RestartReason = 'closed' | 'gone' | 'error' | 'watchdog' | 'resync';

/** Options of a {@link Reflector}. */
export interface ReflectorOptions {
  client: KubeClient;
  type: WatchedType;
  /** Watch only this namespace; default all. */
  namespace?: string;
  /** Page size of the initial and periodic lists; default 500. */
  pageSize?: number;
  /** Full relist period in ms (only real differences are emitted); default 10 minutes, 0 turns it off. */
  resyncMs?: number;
  /**
   * Runs each full list (every page, and storing it); the manager passes one shared by all its
   * reflectors, so lists of different kinds take turns instead of all running at once at
   * start-up and at each resync. Default: no turns.
   */
  listTurn?: <T>(list: () => Promise<T>) => Promise<T>;
  /**
   * Restart the watch when nothing (not even a bookmark) arrived for this long; default the
   * watch's own timeout plus {@link WATCHDOG_GRACE_SECONDS}, so only a connection that outlived
   * its server-side timeout in silence counts as dead.
   */
  watchdogMs?: number;
  /** Server-side watch timeout; default a random 5–10 minutes so replicas do not reconnect in step. */
  watchTimeoutSeconds?: number;
  /** Delay between restarts after errors or empty watches; default 500 ms doubling to 30 s, jittered. */
  backoff?: BackoffOptions;
  metrics?: OperatorMetrics;
  logger?: Logger;
}

const RELIST_AFTER_FAILURES = 3;

/**
 * kube-apiserver sends no bookmark on a quiet watch until 2 s before the watch's timeout
 * (measured on 1.23: a watch of a kind without objects stayed silent for 150 s), so a watch is
 * only known dead once it outlives that timeout; a shorter watchdog restarted every quiet watch
 * every 90 s on a real server.
 */
const WATCHDOG_GRACE_SECONDS = 30;

interface WatchOutcome {
  reason: RestartReason | 'stopped';
  receivedData: boolean;
}

/**
 * A list-then-watch loop that never gives up, unlike client-node's informer: it lists (paged with
 * limit/continue), watches from the list's resourceVersion with bookmarks, resumes from the last
 * seen resourceVersion after a dropped connection, relists after 410 Gone (or three failures in a
 * row), restarts with jittered exponential backoff after any error, restarts a watch that went quiet past the watchdog, and
 * relists periodically, emitting only real differences. `cache.hasSynced` turns true after the
 * first list. Every restart is counted by reason, every event by type.
 */
export class Reflector {
  readonly #options: ReflectorOptions;
  readonly #store: Store;
  readonly #backoff: Backoff;
  readonly #stop = new AbortController();
  readonly #restarts = new Map<RestartReason, number>();
  #resourceVersion = '';
  #lastListAt = 0;
  #loop: Promise<void> | undefined;
  #endWatch: ((outcome: WatchOutcome) => void) | undefined;

  constructor(options: ReflectorOptions) {
    this.#options = options;
    this.#store = new Store(options.type);
    this.#backoff = new Backoff(options.backoff ?? { baseMs: 500, maxMs: 30_000 });
  }

  /** The read-only cache this reflector fills. */
  get cache(): ObjectCache {
    return this.#store;
  }

  /** Restarts so far by reason; the same numbers as `sde_watch_restarts_total`. */
  get restarts(): ReadonlyMap<RestartReason, number> {
    return this.#restarts;
  }

  /** Starts listing and watching in the background; errors never escape, they restart the loop. */
  start(): void {
    this.#loop ??= this.#run();
  }

  /** Closes the watch, stops the loop and settles waiters; resolves when the loop has ended. */
  async stop(): Promise<void> {
    this.#stop.abort();
    this.#endWatch?.({ reason: 'stopped', receivedData: false });
    await this.#loop;
    this.#store.close();
  }

  get #running(): boolean {
    return !this.#stop.signal.aborted;
  }

  async #run(): Promise<void> {
    let needList = true;
    let failures = 0;
    while (this.#running) {
      try {
        if (needList) {
          await (this.#options.listTurn ?? ((list) => list()))(() => this.#listAll());
          needList = false;
          failures = 0;
        }
        const outcome = await this.#watchOnce();
        if (outcome.reason === 'stopped' || !this.#running) break;
        this.#countRestart(outcome.reason);
        if (outcome.reason === 'gone' || outcome.reason === 'resync') needList = true;
        if (outcome.receivedData || outcome.reason === 'resync') {
          failures = 0;
          this.#backoff.reset();
        } else await this.#pause();
      } catch (error) {
        if (!this.#running) break;
        const reason: RestartReason = statusCodeOf(error) === 410 ? 'gone' : 'error';
        failures += 1;
        // Resuming is cheap but can be wrong (a restored API server may not know our resourceVersion):
        // after repeated failures, start over from a fresh list, as client-go's reflector does.
        if (reason === 'gone' || failures >= RELIST_AFTER_FAILURES) needList = true;
        this.#countRestart(reason);
        this.#options.logger?.warn({ resource: this.#options.type.plural, reason, err: error }, 'watch failed; restarting');
        await this.#pause(retryAfterMsOf(error));
      }
    }
  }

  /** Waits the next backoff delay, or longer if the server asked for it (Retry-After). */
  async #pause(atLeastMs = 0): Promise<void> {
    try {
      await sleep(Math.max(this.#backoff.next(), atLeastMs), undefined, { signal: this.#stop.signal });
    } catch {
      // Aborted by stop(): the loop condition ends the run.
    }
  }

  #countRestart(reason: RestartReason): void {
    this.#restarts.set(reason, (this.#restarts.get(reason) ?? 0) + 1);
    this.#options.metrics?.watchRestarts.inc({ resource: this.#options.type.plural, reason });
  }

  async #listAll(): Promise<void> {
    const { client, type, namespace, pageSize = 500 } = this.#options;
    // Each object is stored as soon as it has arrived (listEach, startReplace): a relist holds one
    // object at a time, not the whole kind's response and objects. Those it lacks go at the end.
    const replacing = this.#store.startReplace();
    let continueToken: string | undefined;
    let resourceVersion = '';
    do {
      // The first page is asked at resourceVersion 0, as client-go's informers ask: the API server
      // answers from its watch cache, and the watch that follows catches up from there. Asked
      // from etcd instead, kube-apiserver 1.23 drops objects from a paged list with a label
      // selector (kubernetes/kubernetes#111488: 504 of 1,000 labelled namespaces, found by the
      // real-cluster benchmark, and the operator then re-applied what it could not see, for ever).
      const page = await client.listEach(
        type,
        {
          ...(namespace ? { namespace } : {}),
          ...(type.labelSelector ? { labelSelector: type.labelSelector } : {}),
          limit: pageSize,
          ...(continueToken ? { continueToken } : { resourceVersion: '0' }),
        },
        replacing.add,
      );
      resourceVersion ||= page.resourceVersion;
      continueToken = page.continue;
    } while (continueToken && this.#running);
    if (!this.#running) return;
    replacing.finish(resourceVersion);
    this.#resourceVersion = resourceVersion;
    this.#lastListAt = Date.now();
    this.#backoff.reset();
  }

  #watchOnce(): Promise<WatchOutcome> {
    const { client, type, namespace, metrics } = this.#options;
    const timeoutSeconds = this.#options.watchTimeoutSeconds ?? 300 + Math.floor(Math.random() * 300);
    const watchdogMs = this.#options.watchdogMs ?? (timeoutSeconds + WATCHDOG_GRACE_SECONDS) * 1000;
    const resyncMs = this.#options.resyncMs ?? 600_000;
    return new Promise<WatchOutcome>((resolve, reject) => {
      let settled = false;
      let receivedData = false;
      let connection: AbortController | undefined;
      let watchdog: NodeJS.Timeout | undefined;
      let resync: NodeJS.Timeout | undefined;
      const settle = (): boolean => {
        if (settled) return false;
        settled = true;
        this.#endWatch = undefined;
        clearTimeout(watchdog);
        clearTimeout(resync);
        connection?.abort();
        return true;
      };
      const finish = (outcome: WatchOutcome): void => {
        if (settle()) resolve(outcome);
      };
      const fail = (error: unknown): void => {
        if (settle()) reject(error);
      };
      const feedWatchdog = (): void => {
        clearTimeout(watchdog);
        watchdog = setTimeout(() => finish({ reason: 'watchdog', receivedData }), watchdogMs);
        watchdog.unref();
      };
      this.#endWatch = finish;
      feedWatchdog();
      if (resyncMs > 0) {
        resync = setTimeout(() => finish({ reason: 'resync', receivedData }), Math.max(0, this.#lastListAt + resyncMs - Date.now()));
        resync.unref();
      }
      const onEvent = (event: RawWatchEvent): void => {
        if (settled) return;
        receivedData = true;
        feedWatchdog();
        metrics?.watchEvents.inc({ resource: type.plural, type: event.type });
        switch (event.type) {
          case 'ADDED':
          case 'MODIFIED':
            this.#store.upsert(event.object);
            break;
          case 'DELETED':
            this.#store.remove(event.object);
            break;
          case 'BOOKMARK':
            this.#store.noteResourceVersion(event.object.metadata?.resourceVersion);
            break;
          case 'ERROR':
            if (event.object.code === 410) finish({ reason: 'gone', receivedData });
            else fail(new KubeApiError(event.object.code ?? 500, `watch ${type.plural}`, event.object));
            return;
        }
        this.#resourceVersion = event.object.metadata?.resourceVersion ?? this.#resourceVersion;
      };
      const onDone = (error: unknown): void => {
        if (!error) finish({ reason: 'closed', receivedData });
        else if (error instanceof Error && error.name === 'TimeoutError') finish({ reason: 'watchdog', receivedData });
        else if (statusCodeOf(error) === 410) finish({ reason: 'gone', receivedData });
        else fail(error);
      };
      client
        .watch(
          type,
          {
            ...(namespace ? { namespace } : {}),
            ...(type.labelSelector ? { labelSelector: type.labelSelector } : {}),
            resourceVersion: this.#resourceVersion,
            timeoutSeconds,
            inactivityMs: watchdogMs,
          },
          onEvent,
          onDone,
        )
        .then((controller) => {
          connection = controller;
          if (settled) controller.abort();
        }, fail);
    });
  }
}
