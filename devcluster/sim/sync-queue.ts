// The queue in front of each simulated controller's sync handler, as kube-controller-manager's
// controllers have one: keys added during a burst of store events are synced once, on the next
// turn of the event loop; failures are retried with per-key exponential backoff; delayed keys use
// timers that stop() clears.
import { clearImmediate, clearTimeout, setImmediate, setTimeout } from 'node:timers';
import { backoffDelay } from '../../operator/runtime/backoff.ts';
import type { BackoffOptions } from '../../operator/runtime/backoff.ts';
import { ApiError } from '../store/errors.ts';

/** Syncs one key, as a kube-controller-manager controller's syncHandler; throws to be retried with backoff. */
export type SyncHandler = (key: string) => void;
/** Told about failures that are not ordinary races (404/409), which are retried silently. */
export type ErrorReporter = (controller: string, key: string, error: unknown) => void;

// The operator's formula with the simulation's figures: 5 ms doubling to 5 s, without jitter (one
// simulated controller of each kind, so nothing to spread out, and retries tests can predict).
const BACKOFF: BackoffOptions = { baseMs: 5, maxMs: 5_000, jitter: 0 };

/** Keys waiting for a simulated controller's sync; a key is never synced twice in one pass. */
export class SyncQueue {
  readonly name: string;
  readonly #sync: SyncHandler;
  readonly #report: ErrorReporter;
  #dirty = new Set<string>();
  #immediate: ReturnType<typeof setImmediate> | undefined;
  readonly #timers = new Map<string, { due: number; timer: ReturnType<typeof setTimeout> }>();
  readonly #failures = new Map<string, number>();
  #stopped = false;
  #paused = false;

  constructor(name: string, sync: SyncHandler, report: ErrorReporter) {
    this.name = name;
    this.#sync = sync;
    this.#report = report;
  }

  /** Syncs `key` on the next turn of the event loop (once, however often it is added). */
  add(key: string): void {
    if (this.#stopped) return;
    this.#dirty.add(key);
    if (this.#immediate === undefined && !this.#paused) this.#immediate = setImmediate(() => this.#flush());
  }

  /** Syncs `key` after `ms`; an earlier pending delay for the same key wins. */
  addAfter(key: string, ms: number): void {
    if (this.#stopped) return;
    if (ms <= 0) return this.add(key);
    const due = Date.now() + ms;
    const pending = this.#timers.get(key);
    if (pending !== undefined && pending.due <= due) return;
    if (pending !== undefined) clearTimeout(pending.timer);
    const timer = setTimeout(() => {
      this.#timers.delete(key);
      this.add(key);
    }, ms);
    this.#timers.set(key, { due, timer });
  }

  /** Holds syncs until resume(); keys added meanwhile are kept. */
  pause(): void {
    this.#paused = true;
    if (this.#immediate !== undefined) clearImmediate(this.#immediate);
    this.#immediate = undefined;
  }

  /** Runs what accumulated while paused. */
  resume(): void {
    this.#paused = false;
    if (this.#dirty.size > 0 && this.#immediate === undefined) this.#immediate = setImmediate(() => this.#flush());
  }

  /** Drops every pending key and timer; later adds are ignored. */
  stop(): void {
    this.#stopped = true;
    if (this.#immediate !== undefined) clearImmediate(this.#immediate);
    this.#immediate = undefined;
    for (const { timer } of this.#timers.values()) clearTimeout(timer);
    this.#timers.clear();
    this.#dirty.clear();
  }

  #flush(): void {
    this.#immediate = undefined;
    const keys = this.#dirty;
    this.#dirty = new Set();
    for (const key of keys) {
      if (this.#stopped || this.#paused) {
        this.#dirty.add(key);
        continue;
      }
      try {
        this.#sync(key);
        this.#failures.delete(key);
      } catch (error) {
        const failures = (this.#failures.get(key) ?? 0) + 1;
        this.#failures.set(key, failures);
        const race = error instanceof ApiError && (error.code === 404 || error.code === 409);
        if (!race) this.#report(this.name, key, error);
        this.addAfter(key, backoffDelay(failures - 1, BACKOFF));
      }
    }
  }
}
