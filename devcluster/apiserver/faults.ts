// Fault injection for chaos tests: answer a fraction of requests with 500 or 429 (Retry-After),
// drop every open watch, or compact the watch history so older resourceVersions get 410 Gone.
import { ApiError } from '../store/errors.ts';
import type { ClusterStore } from '../store/cluster-store.ts';

/** How requests should fail. */
export interface RequestFaults {
  /** Fraction of resource requests (0..1) that fail. */
  rate: number;
  /** 500 InternalError (default) or 429 TooManyRequests. */
  status?: 500 | 429;
  /** Retry-After seconds on a 429 (default 1). */
  retryAfterSeconds?: number;
}

/** Breaks the devcluster on purpose; every method takes effect at once and is safe to call anytime. */
export class FaultInjector {
  #faults: RequestFaults = { rate: 0 };
  #failNextCount = 0;
  #failNextStatus: 500 | 429 = 500;
  readonly #watches = new Set<() => void>();
  readonly #store: ClusterStore;
  readonly #random: () => number;

  constructor(store: ClusterStore, random: () => number = Math.random) {
    this.#store = store;
    this.#random = random;
  }

  /** Fails a fraction of subsequent resource requests (discovery and OpenAPI are spared). */
  failRequests(faults: RequestFaults): void {
    this.#faults = { ...faults };
  }

  /** Fails exactly the next `count` resource requests. */
  failNext(count: number, status: 500 | 429 = 500): void {
    this.#failNextCount = count;
    this.#failNextStatus = status;
  }

  /** Stops failing requests. */
  clear(): void {
    this.#faults = { rate: 0 };
    this.#failNextCount = 0;
  }

  /** Closes every open watch stream, as a load balancer or API server restart would; returns how many. */
  dropWatches(): number {
    const n = this.#watches.size;
    for (const close of [...this.#watches]) close();
    this.#watches.clear();
    return n;
  }

  /** Compacts history: every later watch from an older resourceVersion gets 410 Gone. */
  forceGone(): void {
    this.#store.compactHistory();
  }

  /** The error to answer this request with, if any (used by the HTTP server). */
  failure(): ApiError | undefined {
    let status: 500 | 429 | undefined;
    if (this.#failNextCount > 0) {
      this.#failNextCount -= 1;
      status = this.#failNextStatus;
    } else if (this.#faults.rate > 0 && this.#random() < this.#faults.rate) {
      status = this.#faults.status ?? 500;
    }
    if (status === undefined) return undefined;
    if (status === 429) {
      const retry = this.#faults.retryAfterSeconds ?? 1;
      return new ApiError(429, 'TooManyRequests', 'the server has received too many requests and has asked us to try again later (injected fault)', { retryAfterSeconds: retry });
    }
    return new ApiError(500, 'InternalError', 'Internal error occurred: injected fault');
  }

  /** Registers an open watch so dropWatches can close it; returns the deregistration. */
  trackWatch(close: () => void): () => void {
    this.#watches.add(close);
    return () => {
      this.#watches.delete(close);
    };
  }

  /** Number of watches open now. */
  openWatches(): number {
    return this.#watches.size;
  }
}
