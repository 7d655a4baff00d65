// The reconcile work queue: which key runs next, when a failed key runs again, and how many run at once.
import { Backoff, type BackoffOptions } from './backoff.ts';
import { retryAfterMsOf, TerminalError } from './errors.ts';

/** What a reconcile may ask for: to run again after `requeueAfter` ms even if nothing changes (timers, expiry). */
export type ReconcileResult = { requeueAfter?: number } | void;

/**
 * How soon a queued key runs: a `high` key before any `normal` one, a `low` key only while no
 * other waits, as in controller-runtime's priority queue. A key queued at two runs at the higher.
 */
export type Priority = 'high' | 'normal' | 'low';

const RANK: Readonly<Record<Priority, number>> = { high: 0, normal: 1, low: 2 };

/** How one processing of a key ended, as reported to `onOutcome` (metrics, logs). */
export type Outcome =
  | { result: 'success'; key: string; durationMs: number; requeueAfter?: number }
  | { result: 'error'; key: string; durationMs: number; error: unknown; retryInMs: number }
  | { result: 'terminal'; key: string; durationMs: number; error: TerminalError };

/** Options of a {@link WorkQueue}. */
export interface WorkQueueOptions {
  /** Processes one key; throws to be retried with backoff, throws {@link TerminalError} to give up. */
  process(key: string): Promise<ReconcileResult>;
  /** Keys processed at the same time (different keys only); default 2. */
  concurrency?: number;
  /** Per-key retry delays for thrown errors; default 500 ms doubling up to 5 minutes, jittered. */
  backoff?: BackoffOptions;
  /** Told how each processing ended; must not throw. */
  onOutcome?(outcome: Outcome): void;
}

const MAX_TIMER_MS = 2 ** 31 - 1;

interface Timer {
  at: number;
  handle: NodeJS.Timeout;
}

/**
 * A deduplicating, rate-limited work queue in the manner of client-go's: a key added many times
 * before it runs is processed once; a key is never processed twice at once (re-added while in
 * flight, it runs once more afterwards); at most `concurrency` keys run together; a thrown error
 * retries the key after a per-key exponential, jittered backoff that resets on success (or after
 * the server's Retry-After, if longer); a
 * {@link TerminalError} is reported and not retried; `requeueAfter` and retries are timers of
 * which the earliest wins per key. Keys run in the order they were queued, `high` ones first and
 * `low` ones only when no other waits ({@link Priority}); timers queue at `normal`. Keys added
 * before `start()` wait; `shutdown()` takes no more keys and resolves when in-flight ones are done.
 */
export class WorkQueue {
  readonly #options: WorkQueueOptions;
  readonly #concurrency: number;
  /** Waiting keys by priority, highest first; each in the order queued. */
  readonly #pending: readonly [Set<string>, Set<string>, Set<string>] = [new Set(), new Set(), new Set()];
  readonly #inFlight = new Map<string, Promise<void>>();
  readonly #dirtyWhileInFlight = new Map<string, Priority>();
  readonly #timers = new Map<string, Timer>();
  readonly #failures = new Map<string, Backoff>();
  #idleWaiters: Array<() => void> = [];
  #state: 'created' | 'running' | 'stopped' = 'created';

  constructor(options: WorkQueueOptions) {
    this.#options = options;
    this.#concurrency = Math.max(1, options.concurrency ?? 2);
  }

  /**
   * Queues `key` to be processed as soon as a worker is free (once, however often it is added),
   * behind the keys waiting at its priority or higher ({@link Priority}).
   */
  add(key: string, priority: Priority = 'normal'): void {
    if (this.#state === 'stopped') return;
    const rank = RANK[priority];
    if (this.#inFlight.has(key)) {
      const again = this.#dirtyWhileInFlight.get(key);
      if (again === undefined || rank < RANK[again]) this.#dirtyWhileInFlight.set(key, priority);
      return;
    }
    const waiting = this.#pending.findIndex((set) => set.has(key));
    if (waiting !== -1 && waiting <= rank) return;
    if (waiting !== -1) this.#pending[waiting]!.delete(key);
    this.#pending[rank]!.add(key);
    this.#pump();
  }

  /**
   * Queues `key` after `delayMs`; if the key already has an earlier timer, that one stands. Delays
   * beyond Node's timer limit (about 24.8 days, e.g. an expiry months away) fire at the limit, and
   * the reconcile then asks again for the time left, instead of overflowing into an immediate run.
   */
  addAfter(key: string, requestedDelayMs: number): void {
    if (this.#state === 'stopped') return;
    const delayMs = Math.min(requestedDelayMs, MAX_TIMER_MS);
    if (!(delayMs > 0)) {
      this.add(key);
      return;
    }
    const at = Date.now() + delayMs;
    const existing = this.#timers.get(key);
    if (existing && existing.at <= at) return;
    if (existing) clearTimeout(existing.handle);
    const handle = setTimeout(() => {
      this.#timers.delete(key);
      this.add(key);
    }, delayMs);
    handle.unref();
    this.#timers.set(key, { at, handle });
  }

  /** Starts processing queued keys. */
  start(): void {
    if (this.#state !== 'created') return;
    this.#state = 'running';
    this.#pump();
  }

  /** Stops taking keys, drops timers and waiting keys, and resolves once every in-flight key is done. */
  async shutdown(): Promise<void> {
    this.#state = 'stopped';
    for (const timer of this.#timers.values()) clearTimeout(timer.handle);
    this.#timers.clear();
    for (const set of this.#pending) set.clear();
    this.#dirtyWhileInFlight.clear();
    await Promise.all(this.#inFlight.values());
    this.#notifyIdle();
  }

  /** Keys waiting to run, at any priority (not counting those in flight or waiting on a timer). */
  get depth(): number {
    return this.#pending[0].size + this.#pending[1].size + this.#pending[2].size;
  }

  /** Keys being processed right now. */
  get inFlight(): number {
    return this.#inFlight.size;
  }

  /** Keys waiting on a retry or `requeueAfter` timer. */
  get scheduled(): number {
    return this.#timers.size;
  }

  /** Resolves when nothing is waiting or in flight (timers may still be set); for tests and shutdown. */
  whenIdle(): Promise<void> {
    if (this.#isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  #isIdle(): boolean {
    return this.#inFlight.size === 0 && (this.depth === 0 || this.#state !== 'running');
  }

  #notifyIdle(): void {
    if (!this.#isIdle()) return;
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const resolve of waiters) resolve();
  }

  #pump(): void {
    if (this.#state !== 'running') return;
    while (this.#inFlight.size < this.#concurrency) {
      const queue = this.#pending.find((set) => set.size > 0);
      if (queue === undefined) break;
      const key = queue.values().next().value as string;
      queue.delete(key);
      this.#inFlight.set(key, this.#run(key));
    }
    this.#notifyIdle();
  }

  async #run(key: string): Promise<void> {
    // Yield first so a synchronous throw in `process` still finds the key registered as in flight.
    await Promise.resolve();
    const started = performance.now();
    try {
      const result = await this.#options.process(key);
      this.#failures.delete(key);
      const requeueAfter = result?.requeueAfter;
      if (requeueAfter !== undefined) this.addAfter(key, requeueAfter);
      this.#report({ result: 'success', key, durationMs: performance.now() - started, ...(requeueAfter !== undefined ? { requeueAfter } : {}) });
    } catch (error) {
      const durationMs = performance.now() - started;
      if (error instanceof TerminalError) {
        this.#failures.delete(key);
        this.#report({ result: 'terminal', key, durationMs, error });
      } else {
        let backoff = this.#failures.get(key);
        if (!backoff) {
          backoff = new Backoff(this.#options.backoff ?? { baseMs: 500, maxMs: 300_000 });
          this.#failures.set(key, backoff);
        }
        const retryInMs = Math.max(backoff.next(), retryAfterMsOf(error) ?? 0);
        this.addAfter(key, retryInMs);
        this.#report({ result: 'error', key, durationMs, error, retryInMs });
      }
    } finally {
      this.#inFlight.delete(key);
      const again = this.#dirtyWhileInFlight.get(key);
      if (again) {
        this.#dirtyWhileInFlight.delete(key);
        this.add(key, again);
      }
      this.#pump();
    }
  }

  #report(outcome: Outcome): void {
    try {
      this.#options.onOutcome?.(outcome);
    } catch {
      // A faulty observer must not wedge the queue; the outcome is already applied.
    }
  }
}
