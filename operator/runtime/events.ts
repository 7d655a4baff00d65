// Kubernetes Events for user-visible transitions, aggregated so repeats do not flood the API.
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { PatchStrategy, setHeaderOptions, type CoreV1Event, type KubernetesObject } from '@kubernetes/client-node';
import type { KubeClient } from './kube.ts';
import type { Logger } from './logger.ts';

/** One event to record about an object. `reason` is CamelCase from a closed set (Provisioned, Expired…). */
export interface EventInput {
  type: 'Normal' | 'Warning';
  reason: string;
  message: string;
  /** What the operator did, e.g. `Reconcile`; default `Reconcile`. */
  action?: string;
}

/** Options of an {@link EventRecorder}. */
export interface EventRecorderOptions {
  client: KubeClient;
  /** `reportingComponent` / `source.component`; default the client's field manager. */
  reportingController?: string;
  /** `reportingInstance`; default the host name (the pod name in a cluster). */
  reportingInstance?: string;
  /** Repeats within this window update one Event's count instead of creating new ones; default 10 minutes. */
  aggregateWindowMs?: number;
  /** A repeated Event is written at most this often; repeats in between are only counted; default 60 s. */
  minUpdateIntervalMs?: number;
  logger?: Logger;
  now?: () => Date;
}

interface Series {
  name: string;
  namespace: string;
  count: number;
  firstSeen: number;
  lastWritten: number;
}

const MAX_SERIES = 4096;
// Events wait in a queue for a few writers, as client-go's broadcaster buffers them: a burst of
// transitions (two hundred enclaves expiring at once) neither holds up the reconciles that
// caused it nor floods the API server. Past MAX_QUEUED waiting, new ones are dropped and logged.
const WRITERS = 2;
const MAX_QUEUED = 1000;

/**
 * Writes core/v1 Events with reason, message, type, involvedObject and reporting controller
 * (default the client's field manager). The same (object, type, reason, message) repeated within the aggregation window
 * becomes one Event whose `count` and `lastTimestamp` grow, written at most once per
 * `minUpdateIntervalMs`, so a flapping condition costs a bounded number of writes. Recording
 * never throws: a failed write is logged, since events are advisory.
 * Caveat: counts between the last write and a quiet period stay local until the next repeat.
 */
export class EventRecorder {
  readonly #options: EventRecorderOptions;
  readonly #series = new Map<string, Series>();
  readonly #queue: Array<{ object: Readonly<KubernetesObject>; event: EventInput; done: () => void }> = [];
  #writing = 0;
  #idle: Array<() => void> = [];

  constructor(options: EventRecorderOptions) {
    this.#options = options;
  }

  /**
   * Queues `event` about `object` (an Enclave, Workspace…) for a background writer; the promise
   * resolves once it is written or skipped, and callers need not wait for it. Never rejects.
   */
  record(object: Readonly<KubernetesObject>, event: EventInput): Promise<void> {
    if (this.#queue.length >= MAX_QUEUED) {
      this.#options.logger?.warn({ reason: event.reason, object: `${object.metadata?.namespace ?? ''}/${object.metadata?.name ?? ''}`, queued: this.#queue.length }, 'event queue full; dropping event');
      return Promise.resolve();
    }
    return new Promise((done) => {
      this.#queue.push({ object, event, done });
      this.#pump();
    });
  }

  /** Resolves once every queued event has been written or skipped (for shutdown and tests). */
  flush(): Promise<void> {
    if (this.#queue.length === 0 && this.#writing === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  #pump(): void {
    while (this.#writing < WRITERS && this.#queue.length > 0) {
      const { object, event, done } = this.#queue.shift()!;
      this.#writing += 1;
      void this.#write(object, event).finally(() => {
        this.#writing -= 1;
        done();
        this.#pump();
        if (this.#queue.length === 0 && this.#writing === 0) for (const resolve of this.#idle.splice(0)) resolve();
      });
    }
  }

  async #write(object: Readonly<KubernetesObject>, event: EventInput): Promise<void> {
    const { client, logger } = this.#options;
    const now = (this.#options.now ?? (() => new Date()))();
    const involved = object.metadata ?? {};
    const key = [involved.uid ?? `${involved.namespace}/${involved.name}`, event.type, event.reason, event.message].join('\u0000');
    const series = this.#series.get(key);
    const windowMs = this.#options.aggregateWindowMs ?? 600_000;
    try {
      client.assertMayWrite();
      if (series && now.getTime() - series.firstSeen < windowMs) {
        series.count += 1;
        if (now.getTime() - series.lastWritten < (this.#options.minUpdateIntervalMs ?? 60_000)) return;
        series.lastWritten = now.getTime();
        client.count('patch', 'Event');
        await client.core.patchNamespacedEvent(
          { name: series.name, namespace: series.namespace, body: { count: series.count, lastTimestamp: now.toISOString() }, fieldManager: client.fieldManager },
          setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
        );
        return;
      }
      const namespace = involved.namespace || 'default';
      const name = `${involved.name ?? 'object'}.${randomBytes(8).toString('hex')}`;
      const body: CoreV1Event = {
        apiVersion: 'v1',
        kind: 'Event',
        metadata: { name, namespace },
        involvedObject: {
          apiVersion: object.apiVersion,
          kind: object.kind,
          name: involved.name,
          ...(involved.namespace ? { namespace: involved.namespace } : {}),
          ...(involved.uid ? { uid: involved.uid } : {}),
        },
        type: event.type,
        reason: event.reason,
        message: event.message,
        action: event.action ?? 'Reconcile',
        count: 1,
        firstTimestamp: now,
        lastTimestamp: now,
        source: { component: this.#options.reportingController ?? client.fieldManager },
        reportingComponent: this.#options.reportingController ?? client.fieldManager,
        reportingInstance: this.#options.reportingInstance ?? hostname(),
      };
      this.#series.delete(key);
      this.#series.set(key, { name, namespace, count: 1, firstSeen: now.getTime(), lastWritten: now.getTime() });
      if (this.#series.size > MAX_SERIES) this.#series.delete(this.#series.keys().next().value as string);
      client.count('create', 'Event');
      await client.core.createNamespacedEvent({ namespace, body, fieldManager: client.fieldManager });
    } catch (error) {
      logger?.warn({ err: error, reason: event.reason, object: `${involved.namespace ?? ''}/${involved.name ?? ''}` }, 'could not record event');
    }
  }
}
