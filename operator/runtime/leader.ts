// Leader election on a coordination.k8s.io/v1 Lease: one active replica, a standby ready to take over.
import { setTimeout as sleep } from 'node:timers/promises';
import { V1MicroTime, type V1Lease } from '@kubernetes/client-node';
import { jitteredPeriod } from './backoff.ts';
import { isConflict, isNotFound, LeadershipLostError } from './errors.ts';
import type { KubeClient } from './kube.ts';
import type { Logger } from './logger.ts';
import type { OperatorMetrics } from './metrics.ts';

/** Options of a {@link LeaderElector}; defaults match client-go (15 s / 10 s / 2 s). */
export interface LeaderElectionOptions {
  client: KubeClient;
  /** Namespace and name of the Lease. */
  namespace: string;
  name: string;
  /** This replica's `holderIdentity`, unique per replica (the pod name). */
  identity: string;
  /** How long a lease is valid after its last renewal, as seen by others; default 15. */
  leaseDurationSeconds?: number;
  /** A leader that has not renewed for this long stops leading; default 10 000. Less than the lease duration. */
  renewDeadlineMs?: number;
  /** Time between attempts to acquire or renew; default 2 000. */
  retryPeriodMs?: number;
  logger?: Logger;
  metrics?: OperatorMetrics;
}

/**
 * Campaigns for a Lease and holds it. Guarantees: at most one replica believes it leads while
 * clocks run at the same rate (others wait a full lease duration from when *they* last saw the
 * record change, so clock skew does not matter); a leader that cannot renew within `renewDeadlineMs`
 * of when its last successful attempt began, or that sees another holder, aborts {@link LeaderElector.leadership} at once with a
 * {@link LeadershipLostError}; `release()` empties the holder so a standby takes over without
 * waiting for expiry.
 */
export class LeaderElector {
  readonly #options: Required<Omit<LeaderElectionOptions, 'logger' | 'metrics'>> & Pick<LeaderElectionOptions, 'logger' | 'metrics'>;
  readonly #stop = new AbortController();
  #leadership: AbortController | undefined;
  #observed: { holder: string; renewTime: string } | undefined;
  #observedAt = 0;
  #lastReadOk = false;
  #renewLoop: Promise<void> | undefined;
  /** `performance.now()` after which this replica no longer leads, even if its event loop stalled and the deadline timer has not fired. */
  #validUntil = 0;

  constructor(options: LeaderElectionOptions) {
    this.#options = { leaseDurationSeconds: 15, renewDeadlineMs: 10_000, retryPeriodMs: 2_000, ...options };
    this.#options.metrics?.watchLeader(() => this.isLeader);
  }

  /** True while this replica holds the lease and its last successful renewal began less than `renewDeadlineMs` ago. */
  get isLeader(): boolean {
    return this.#leadership !== undefined && !this.#leadership.signal.aborted && performance.now() < this.#validUntil;
  }

  /** True when the last look at the Lease succeeded: a standby that can see the lease is healthy. */
  get isHealthy(): boolean {
    return this.#lastReadOk;
  }

  /** Aborted (with a {@link LeadershipLostError}) when leadership ends; undefined before it starts. */
  get leadership(): AbortSignal | undefined {
    return this.#leadership?.signal;
  }

  /**
   * Tries every `retryPeriodMs` (jittered) until this replica holds the lease, then keeps renewing
   * it in the background. Resolves with the leadership signal, or undefined if stopped first.
   */
  async acquire(): Promise<AbortSignal | undefined> {
    const { retryPeriodMs, logger, identity } = this.#options;
    while (!this.#stop.signal.aborted) {
      if (await this.#attempt()) {
        this.#leadership = new AbortController();
        logger?.info({ identity, lease: this.#options.name }, 'became leader');
        this.#renewLoop = this.#renew(this.#leadership);
        return this.#leadership.signal;
      }
      try {
        await sleep(jitteredPeriod(retryPeriodMs, 0.2), undefined, { signal: this.#stop.signal });
      } catch {
        break;
      }
    }
    return undefined;
  }

  /** Stops campaigning and renewing without touching the Lease (as a crash would); leadership is aborted. */
  async stop(): Promise<void> {
    this.#stop.abort();
    this.#lose('stopped');
    await this.#renewLoop;
  }

  /** Stops, and if this replica held the lease, hands it back so a standby can take over at once. */
  async release(): Promise<void> {
    const wasLeader = this.isLeader;
    await this.stop();
    if (!wasLeader) return;
    const { client, namespace, name, identity } = this.#options;
    try {
      client.count('get', 'Lease');
      const lease = await client.coordination.readNamespacedLease({ name, namespace });
      if (lease.spec?.holderIdentity !== identity) return;
      const now = new V1MicroTime();
      lease.spec = { ...lease.spec, holderIdentity: undefined, leaseDurationSeconds: 1, renewTime: now, acquireTime: now };
      client.count('update', 'Lease');
      await client.coordination.replaceNamespacedLease({ name, namespace, body: lease });
      this.#options.logger?.info({ identity, lease: name }, 'released leader lease');
    } catch (error) {
      this.#options.logger?.warn({ err: error, lease: name }, 'could not release leader lease; the standby waits for it to expire');
    }
  }

  #lose(detail: string): void {
    if (!this.#leadership || this.#leadership.signal.aborted) return;
    this.#validUntil = 0;
    this.#leadership.abort(new LeadershipLostError(this.#options.identity, detail));
  }

  /**
   * Keeps renewing. Leadership lasts `renewDeadlineMs` from when the last successful attempt
   * *began*, not from when its answer arrived: the API server may have written the renewal long
   * before a slow answer (or a stalled event loop) let this replica see it, and a standby counts
   * its lease duration from when it read that write.
   */
  async #renew(term: AbortController): Promise<void> {
    const { renewDeadlineMs, retryPeriodMs, logger, identity } = this.#options;
    const expire = (): NodeJS.Timeout => {
      const timer = setTimeout(() => this.#lose(`it did not renew within ${renewDeadlineMs} ms`), Math.max(0, this.#validUntil - performance.now()));
      timer.unref();
      return timer;
    };
    let deadline = expire();
    try {
      while (!term.signal.aborted) {
        try {
          await sleep(retryPeriodMs, undefined, { signal: term.signal });
        } catch {
          break;
        }
        try {
          if (await this.#attempt()) {
            clearTimeout(deadline);
            deadline = expire();
          } else if (this.#observed && this.#observed.holder !== identity && this.#observed.holder !== '') {
            this.#lose(`the lease is held by "${this.#observed.holder}"`);
          }
        } catch (error) {
          logger?.warn({ err: error, identity }, 'lease renewal failed');
        }
      }
    } finally {
      clearTimeout(deadline);
      if (term.signal.aborted) logger?.warn({ identity, reason: String(term.signal.reason) }, 'stopped leading');
    }
  }

  /** {@link #tryAcquireOrRenew}; when it succeeds, this replica leads until `renewDeadlineMs` after the attempt *began*. */
  async #attempt(): Promise<boolean> {
    const began = performance.now();
    const held = await this.#tryAcquireOrRenew();
    if (held) this.#validUntil = began + this.#options.renewDeadlineMs;
    return held;
  }

  /** One attempt: create the lease, take it over if it expired or is free, or renew our own. */
  async #tryAcquireOrRenew(): Promise<boolean> {
    const { client, namespace, name, identity, leaseDurationSeconds } = this.#options;
    const now = new V1MicroTime();
    let lease: V1Lease | undefined;
    try {
      client.count('get', 'Lease');
      lease = await client.coordination.readNamespacedLease({ name, namespace });
      this.#lastReadOk = true;
    } catch (error) {
      this.#lastReadOk = isNotFound(error);
      if (!isNotFound(error)) {
        this.#options.logger?.debug({ err: error, lease: name }, 'could not read leader lease');
        return false;
      }
    }
    try {
      if (!lease) {
        client.count('create', 'Lease');
        await client.coordination.createNamespacedLease({
          namespace,
          body: { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name, namespace }, spec: { holderIdentity: identity, leaseDurationSeconds, acquireTime: now, renewTime: now, leaseTransitions: 0 } },
        });
        this.#observe(identity, now);
        return true;
      }
      const spec = lease.spec ?? {};
      const holder = spec.holderIdentity ?? '';
      this.#observe(holder, spec.renewTime);
      const expired = performance.now() - this.#observedAt > (spec.leaseDurationSeconds ?? leaseDurationSeconds) * 1000;
      if (holder !== '' && holder !== identity && !expired) return false;
      const ours = holder === identity;
      lease.spec = {
        ...spec,
        holderIdentity: identity,
        leaseDurationSeconds,
        renewTime: now,
        acquireTime: ours && spec.acquireTime ? new V1MicroTime(spec.acquireTime) : now,
        leaseTransitions: (spec.leaseTransitions ?? 0) + (ours ? 0 : 1),
      };
      client.count('update', 'Lease');
      await client.coordination.replaceNamespacedLease({ name, namespace, body: lease });
      this.#observe(identity, now);
      return true;
    } catch (error) {
      if (!isConflict(error)) this.#options.logger?.debug({ err: error, lease: name }, 'could not write leader lease');
      return false;
    }
  }

  #observe(holder: string, renewTime: Date | string | undefined): void {
    const record = { holder, renewTime: renewTime instanceof Date ? renewTime.toISOString() : String(renewTime ?? '') };
    if (this.#observed?.holder !== record.holder || this.#observed.renewTime !== record.renewTime) {
      this.#observed = record;
      this.#observedAt = performance.now();
    }
  }
}
