// Retry delays, all computed here: exponential backoff with jitter (the work queue per key, the
// watch supervisor, the client's quick retries) and the jittered period of leader election.

/** Tuning of an exponential backoff: the first delay, the cap, and the share of each delay that is random. */
export interface BackoffOptions {
  /** First delay in milliseconds. */
  baseMs: number;
  /** No delay is longer than this. */
  maxMs: number;
  /** 0..1: a delay is drawn uniformly from [(1 - jitter) * d, d]; default 0.5 so replicas spread out. */
  jitter?: number;
}

/**
 * The delay before retry number `attempt` (0-based): `min(maxMs, baseMs * 2^attempt)`, shortened
 * by up to `jitter` of itself. Never negative, never above `maxMs`.
 */
export function backoffDelay(attempt: number, options: BackoffOptions, random: () => number = Math.random): number {
  const jitter = Math.min(1, Math.max(0, options.jitter ?? 0.5));
  const ceiling = Math.min(options.maxMs, options.baseMs * 2 ** Math.min(attempt, 52));
  return Math.max(0, ceiling * (1 - jitter * random()));
}

/**
 * `periodMs` lengthened by up to `jitter` of itself (client-go's wait.Jitter): drawn uniformly
 * from [periodMs, (1 + jitter) * periodMs], so replicas started together do not act in step.
 */
export function jitteredPeriod(periodMs: number, jitter: number, random: () => number = Math.random): number {
  return periodMs * (1 + Math.max(0, jitter) * random());
}

/** Counts consecutive failures of one thing and hands out the next delay; `reset()` after a success. */
export class Backoff {
  #attempt = 0;
  readonly #options: BackoffOptions;

  constructor(options: BackoffOptions) {
    this.#options = options;
  }

  /** The delay before the next retry; each call counts one more failure. */
  next(): number {
    return backoffDelay(this.#attempt++, this.#options);
  }

  /** Failures counted since the last reset. */
  get failures(): number {
    return this.#attempt;
  }

  /** Forget past failures: the next delay is the base delay again. */
  reset(): void {
    this.#attempt = 0;
  }
}
