// Events expire as the real API server has etcd expire them: a lease of `--event-ttl` (1 h by
// default) from each write, so a long-running cluster does not pile up events.
import { BUILTINS } from './builtins.ts';
import type { ClusterStore } from './cluster-store.ts';
import type { KubeObject } from './types.ts';

const MAX_TIMER_MS = 2 ** 31 - 1;

/** The real API server's default --event-ttl. */
export const DEFAULT_EVENT_TTL_MS = 60 * 60 * 1000;

/**
 * Deletes each Event `ttlMs` after it was last written (created, updated or loaded). One timer
 * for the earliest expiry: with one TTL for all, expiries are in write order.
 */
export class EventExpiry {
  readonly #store: ClusterStore;
  readonly #ttlMs: number;
  readonly #now: () => number;
  // namespace/name → expiry (ms since epoch), in expiry order: a rewrite moves a key to the end.
  readonly #expiries = new Map<string, number>();
  readonly #unsubscribe: (() => void)[];
  #timer: NodeJS.Timeout | undefined;

  constructor(store: ClusterStore, ttlMs: number = DEFAULT_EVENT_TTL_MS, now: () => number = Date.now) {
    this.#store = store;
    this.#ttlMs = ttlMs;
    this.#now = now;
    for (const event of store.scan(BUILTINS.events, {})) this.#written(event);
    this.#unsubscribe = [BUILTINS.events, BUILTINS.eventsV1].map((rt) =>
      store.subscribe(rt, (change) => {
        if (change.type === 'DELETED') this.#expiries.delete(keyOf(change.object));
        else this.#written(change.object);
      }),
    );
    this.#schedule();
  }

  /** How many Events are waiting to expire. */
  get pending(): number {
    return this.#expiries.size;
  }

  /** Stops expiring Events; clears the timer and the subscriptions. */
  stop(): void {
    for (const off of this.#unsubscribe) off();
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#expiries.clear();
  }

  #written(event: KubeObject): void {
    const key = keyOf(event);
    this.#expiries.delete(key);
    this.#expiries.set(key, this.#now() + this.#ttlMs);
    if (this.#timer === undefined) this.#schedule();
  }

  #schedule(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const first = this.#expiries.values().next();
    if (first.done === true) return;
    // Node fires a timer of more than 2^31-1 ms at once; a longer TTL simply re-checks then.
    this.#timer = setTimeout(() => this.#expire(), Math.min(MAX_TIMER_MS, Math.max(0, first.value - this.#now())));
    this.#timer.unref();
  }

  #expire(): void {
    this.#timer = undefined;
    const now = this.#now();
    for (const [key, at] of this.#expiries) {
      if (at > now) break;
      this.#expiries.delete(key);
      const slash = key.indexOf('/');
      this.#store.delete(BUILTINS.events, key.slice(0, slash), key.slice(slash + 1));
    }
    this.#schedule();
  }
}

function keyOf(event: KubeObject): string {
  return `${event.metadata.namespace ?? 'default'}/${event.metadata.name}`;
}
