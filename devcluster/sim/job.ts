// The Job controller: runs pods until `completions` succeed (NonIndexed or Indexed), at most
// `parallelism` at once; fails the Job past `backoffLimit` failed pods or `activeDeadlineSeconds`;
// `suspend` deletes the active pods; a finished Job is deleted after ttlSecondsAfterFinished.
// Its status has the 1.23 shape: Complete or Failed (with lastProbeTime), no SuccessCriteriaMet,
// FailureTarget, terminating or uncountedTerminatedPods (those came with later releases).
import { BUILTINS } from '../store/builtins.ts';
import { timestamp } from '../store/timestamps.ts';
import type { KubeObject } from '../store/types.ts';
import { keyOf } from './informer.ts';
import { BY_CONTROLLER, type SimContext } from './context.ts';
import { ownerSyncQueue, writeStatus } from './owner-controller.ts';
import { generatedName, withCondition, type Condition } from './ownership.ts';
import { PodControl, podFromTemplate, type PodTemplate } from './pod-control.ts';
import { deletionOrder, isPodActive, isPodReady, podPhase } from './pods.ts';
import type { SyncQueue } from './sync-queue.ts';

const COMPONENT = 'job-controller';
const INDEX = 'batch.kubernetes.io/job-completion-index';
const RETRY_MS = 1_000;

interface JobSpec {
  completions?: number;
  parallelism?: number;
  backoffLimit?: number;
  suspend?: boolean;
  activeDeadlineSeconds?: number;
  ttlSecondsAfterFinished?: number;
  completionMode?: 'NonIndexed' | 'Indexed';
  template?: PodTemplate;
}
interface JobStatus { startTime?: string; completionTime?: string; succeeded?: number; failed?: number; conditions?: Condition[] }

/** Runs each Job's pods to completion or failure. */
export class JobController {
  readonly #ctx: SimContext;
  readonly #queue: SyncQueue;
  readonly #pods: PodControl;

  constructor(ctx: SimContext) {
    this.#ctx = ctx;
    this.#pods = new PodControl(ctx, COMPONENT);
    this.#queue = ownerSyncQueue(ctx, COMPONENT, ctx.informers.jobs, ctx.informers.pods, 'Job', (job, key) => this.#sync(job, key));
  }

  /** Stops the controller and its deadline and TTL timers. */
  stop(): void {
    this.#queue.stop();
  }

  #sync(job: KubeObject, key: string): void {
    const spec = (job.spec ?? {}) as JobSpec;
    const old = (job.status ?? {}) as Record<string, unknown> & JobStatus;
    const pods = this.#ctx.informers.pods.indexed(BY_CONTROLLER, job.metadata.uid ?? '');
    const active = pods.filter(isPodActive);
    const succeededPods = pods.filter((pod) => podPhase(pod) === 'Succeeded');
    const succeeded = Math.max(old.succeeded ?? 0, succeededPods.length);
    let failed = Math.max(old.failed ?? 0, pods.filter((pod) => podPhase(pod) === 'Failed').length);
    const indexed = spec.completionMode === 'Indexed';
    const doneIndexes = new Set(succeededPods.map(indexOf).filter((i): i is number => i !== undefined));
    let conditions = old.conditions ?? [];
    let startTime = old.startTime;
    let completionTime = old.completionTime;
    const finished = conditions.some((c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True');

    if (finished) {
      for (const pod of active) this.#pods.delete(job, pod);
      this.#expireAfterTtl(job, spec, old);
    } else if (spec.suspend) {
      for (const pod of active) this.#pods.delete(job, pod);
      if (!conditions.some((c) => c.type === 'Suspended' && c.status === 'True')) {
        conditions = withCondition(conditions, { type: 'Suspended', status: 'True', reason: 'JobSuspended', message: 'Job suspended', lastProbeTime: timestamp() });
        this.#ctx.events.record(COMPONENT, job, 'Normal', 'Suspended', 'Job suspended');
      }
    } else {
      if (conditions.some((c) => c.type === 'Suspended' && c.status === 'True')) {
        conditions = withCondition(conditions, { type: 'Suspended', status: 'False', reason: 'JobResumed', message: 'Job resumed', lastProbeTime: timestamp() });
        this.#ctx.events.record(COMPONENT, job, 'Normal', 'Resumed', 'Job resumed');
        startTime = undefined;
      }
      startTime ??= timestamp();
      const deadlineLeft = spec.activeDeadlineSeconds === undefined ? Infinity
        : Date.parse(startTime) + spec.activeDeadlineSeconds * 1000 - Date.now();
      const complete = indexed
        ? doneIndexes.size >= (spec.completions ?? 1)
        : spec.completions === undefined ? succeeded > 0 && active.length === 0 : succeeded >= spec.completions;
      const failure = failed > (spec.backoffLimit ?? 6) || pastBackoffLimitOnFailure(spec, active)
        ? { reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit' }
        : deadlineLeft <= 0 ? { reason: 'DeadlineExceeded', message: 'Job was active longer than specified deadline' } : undefined;
      if (failure !== undefined) {
        for (const pod of active) this.#pods.delete(job, pod);
        failed += active.length;
        conditions = withCondition(conditions, { type: 'Failed', status: 'True', ...failure, lastProbeTime: timestamp() });
        this.#ctx.events.record(COMPONENT, job, 'Warning', failure.reason, failure.message);
      } else if (complete) {
        for (const pod of active) this.#pods.delete(job, pod);
        conditions = withCondition(conditions, { type: 'Complete', status: 'True', lastProbeTime: timestamp() });
        completionTime = timestamp();
        this.#ctx.events.record(COMPONENT, job, 'Normal', 'Completed', 'Job completed');
      } else {
        this.#runPods(job, spec, active, succeeded, doneIndexes);
        if (Number.isFinite(deadlineLeft)) this.#queue.addAfter(key, deadlineLeft + 5);
      }
    }
    this.#writeStatus(key, { startTime, completionTime, succeeded, failed, conditions, indexed, doneIndexes });
  }

  /** Creates or deletes pods so that the right number run now. */
  #runPods(job: KubeObject, spec: JobSpec, active: KubeObject[], succeeded: number, doneIndexes: Set<number>): void {
    const parallelism = spec.parallelism ?? 1;
    if (spec.completionMode === 'Indexed') {
      const running = new Set(active.map(indexOf));
      const missing: number[] = [];
      for (let i = 0; i < (spec.completions ?? 1) && missing.length + active.length < parallelism; i += 1) {
        if (!doneIndexes.has(i) && !running.has(i)) missing.push(i);
      }
      for (const index of missing) if (!this.#createPod(job, spec, index)) return;
      return;
    }
    const wanted = spec.completions === undefined
      ? (succeeded > 0 ? 0 : parallelism)
      : Math.max(0, Math.min(parallelism, spec.completions - succeeded));
    if (active.length > wanted) {
      for (const pod of [...active].sort(deletionOrder).slice(0, active.length - wanted)) this.#pods.delete(job, pod);
    }
    for (let i = active.length; i < wanted; i += 1) if (!this.#createPod(job, spec, undefined)) return;
  }

  /** Creates one pod; false when admission refused it (quota), to retry later. */
  #createPod(job: KubeObject, spec: JobSpec, index: number | undefined): boolean {
    const name = generatedName(index === undefined ? `${job.metadata.name}-` : `${job.metadata.name}-${index}-`);
    const pod = podFromTemplate(job, spec.template, name);
    const uid = job.metadata.uid ?? '';
    pod.metadata.labels = {
      ...pod.metadata.labels,
      'batch.kubernetes.io/controller-uid': uid, 'batch.kubernetes.io/job-name': job.metadata.name,
      'controller-uid': uid, 'job-name': job.metadata.name,
      ...(index === undefined ? {} : { [INDEX]: String(index) }),
    };
    if (index !== undefined) pod.metadata.annotations = { ...(pod.metadata.annotations ?? {}), [INDEX]: String(index) };
    const podSpec = pod.spec as Record<string, unknown>;
    podSpec.restartPolicy ??= 'Never';
    if (this.#pods.create(job, pod) === undefined) return true;
    this.#queue.addAfter(keyOf(job), RETRY_MS);
    return false;
  }

  /** Deletes a finished Job (and, in the foreground, its pods) once its TTL has passed. */
  #expireAfterTtl(job: KubeObject, spec: JobSpec, status: JobStatus): void {
    if (spec.ttlSecondsAfterFinished === undefined) return;
    const finishedAt = status.completionTime ?? status.conditions?.find((c) => c.type === 'Failed')?.lastTransitionTime;
    const left = Date.parse(finishedAt ?? '') + spec.ttlSecondsAfterFinished * 1000 - Date.now();
    if (left > 0) return this.#queue.addAfter(keyOf(job), left + 5);
    this.#ctx.store.delete(BUILTINS.jobs, job.metadata.namespace, job.metadata.name, { propagationPolicy: 'Foreground' });
  }

  #writeStatus(key: string, next: {
    startTime: string | undefined; completionTime: string | undefined; succeeded: number; failed: number;
    conditions: Condition[]; indexed: boolean; doneIndexes: Set<number>;
  }): void {
    const job = this.#ctx.informers.jobs.get(key);
    if (job === undefined) return;
    const pods = this.#ctx.informers.pods.indexed(BY_CONTROLLER, job.metadata.uid ?? '');
    const active = pods.filter(isPodActive);
    const status: Record<string, unknown> = {
      ...(next.startTime !== undefined ? { startTime: next.startTime } : {}),
      ...(next.completionTime !== undefined ? { completionTime: next.completionTime } : {}),
      ...(active.length > 0 ? { active: active.length } : {}),
      ready: active.filter(isPodReady).length,
      ...(next.succeeded > 0 ? { succeeded: next.succeeded } : {}),
      ...(next.failed > 0 ? { failed: next.failed } : {}),
      ...(next.indexed ? { completedIndexes: indexRanges([...next.doneIndexes]) } : {}),
      ...(next.conditions.length > 0 ? { conditions: next.conditions } : {}),
    };
    writeStatus(this.#ctx.store, BUILTINS.jobs, job, status);
  }
}

/**
 * With restartPolicy OnFailure a failing pod restarts in place instead of failing, so, as in the
 * real controller, the backoff limit counts the container restarts of the running pods.
 */
function pastBackoffLimitOnFailure(spec: JobSpec, active: KubeObject[]): boolean {
  if (spec.template?.spec?.restartPolicy !== 'OnFailure') return false;
  let restarts = 0;
  for (const pod of active) {
    const status = (pod.status ?? {}) as { containerStatuses?: { restartCount?: number }[]; initContainerStatuses?: { restartCount?: number }[] };
    for (const container of [...(status.initContainerStatuses ?? []), ...(status.containerStatuses ?? [])]) restarts += container.restartCount ?? 0;
  }
  const limit = spec.backoffLimit ?? 6;
  return limit === 0 ? restarts > 0 : restarts >= limit;
}

function indexOf(pod: KubeObject): number | undefined {
  const text = pod.metadata.annotations?.[INDEX];
  return text === undefined ? undefined : Number(text);
}

/** "0-2,4", as Job status.completedIndexes spells a set of indexes. */
export function indexRanges(indexes: number[]): string {
  const sorted = [...new Set(indexes)].sort((a, b) => a - b);
  const ranges: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === (sorted[j] as number) + 1) j += 1;
    ranges.push(i === j ? String(sorted[i]) : `${sorted[i]}-${sorted[j]}`);
    i = j + 1;
  }
  return ranges.join(',');
}
