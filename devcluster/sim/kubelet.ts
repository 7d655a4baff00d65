// The simulated kubelet of every node: a bound pod starts at once (Running, Ready, an IP from the
// node's pod CIDR); a pod that runs to completion (a Job's, or one annotated with a run time)
// finishes after its run time, Succeeded, or Failed when annotated to fail (or with an exit code).
import { createHash } from 'node:crypto';
import { BUILTINS } from '../store/builtins.ts';
import { timestamp } from '../store/timestamps.ts';
import type { KubeObject } from '../store/types.ts';
import { keyOf, type ChangeType } from './informer.ts';
import { BY_NODE, type SimContext } from './context.ts';
import { withCondition, type Condition } from './ownership.ts';
import { podNodeName, podPhase } from './pods.ts';
import { SyncQueue } from './sync-queue.ts';

/** Annotation: seconds a pod runs before it completes (overrides `jobRunMillis`). */
export const RUN_SECONDS_ANNOTATION = 'devcluster.sde.london/run-seconds';
/** Annotation: "true" makes the pod fail (exit code 1) when its run time is over. */
export const FAIL_ANNOTATION = 'devcluster.sde.london/fail';
/**
 * Annotation of the real control plane's stand-in kubelet (`../shared/kubernetes/kubelet`): a
 * Job's pod ends with this exit code, failed unless it is 0.
 */
export const EXIT_CODE_ANNOTATION = 'stand-in.sde.test/exit-code';
/** Annotation: what the container leaves in its termination message (`/dev/termination-log`). */
export const TERMINATION_MESSAGE_ANNOTATION = 'devcluster.sde.london/termination-message';
const COMPONENT = 'kubelet';

interface Container {
  name: string;
  image?: string;
  resources?: { requests?: Record<string, unknown>; limits?: Record<string, unknown> };
}
interface PodSpec { containers?: Container[]; initContainers?: Container[]; hostNetwork?: boolean; restartPolicy?: string }
interface ContainerState { running?: { startedAt?: string }; waiting?: { reason?: string }; terminated?: { finishedAt?: string } }
interface ContainerStatus { name: string; containerID?: string; restartCount?: number; state?: ContainerState; lastState?: ContainerState }

const CRASH_LOOP = 'CrashLoopBackOff';

function containerStatuses(pod: KubeObject): ContainerStatus[] {
  return ((pod.status as { containerStatuses?: ContainerStatus[] } | undefined)?.containerStatuses) ?? [];
}

/** Ready and ContainersReady set together, with the kubelet's reason when not ready. */
function readiness(conditions: Condition[] | undefined, ready: boolean, unready: string[]): Condition[] {
  let next = conditions;
  for (const type of ['Ready', 'ContainersReady']) {
    next = withCondition(next, ready
      ? { type, status: 'True', lastProbeTime: null }
      : { type, status: 'False', reason: 'ContainersNotReady', message: `containers with unready status: [${unready.join(' ')}]`, lastProbeTime: null });
  }
  return next ?? [];
}

/** Runs pods on simulated nodes; see the module comment. */
export class Kubelet {
  readonly #ctx: SimContext;
  readonly #jobRunMillis: number;
  readonly #queue: SyncQueue;
  readonly #startedAt = new Map<string, number>();
  readonly #nextIp = new Map<string, number>();
  readonly #ipsInUse = new Map<string, Set<string>>();
  readonly #ipOf = new Map<string, { node: string; ip: string }>();
  readonly #removedNodes = new Set<string>();

  constructor(ctx: SimContext, jobRunMillis: number) {
    this.#ctx = ctx;
    this.#jobRunMillis = jobRunMillis;
    this.#queue = new SyncQueue('kubelet', (key) => this.#sync(key), ctx.report);
    ctx.informers.pods.onChange((type, pod) => this.#onPod(type, pod));
    ctx.informers.nodes.onChange((type, node) => {
      if (type === 'DELETED') this.#removedNodes.add(node.metadata.name);
      else this.#removedNodes.delete(node.metadata.name);
      if (type !== 'MODIFIED') for (const pod of ctx.informers.pods.indexed(BY_NODE, node.metadata.name)) this.#queue.add(keyOf(pod));
    });
  }

  /** Holds every pod where it is (no starts, no completions) until resume(). */
  pause(): void {
    this.#queue.pause();
  }

  /** Lets pods start and finish again, catching up on what happened while paused. */
  resume(): void {
    this.#queue.resume();
  }

  /** Stops the kubelet and its run-time timers. */
  stop(): void {
    this.#queue.stop();
  }

  #onPod(type: ChangeType, pod: KubeObject): void {
    const key = keyOf(pod);
    this.#trackIp(type, key, pod);
    if (type === 'DELETED') {
      this.#startedAt.delete(key);
      return;
    }
    if (podNodeName(pod) !== undefined) this.#queue.add(key);
  }

  #sync(key: string): void {
    const pod = this.#ctx.informers.pods.get(key);
    if (pod === undefined) return;
    const nodeName = podNodeName(pod);
    const node = nodeName === undefined ? undefined : this.#ctx.informers.nodes.get(nodeName);
    if (node === undefined) {
      // The pod garbage collector's job: pods bound to a node that was removed go too.
      if (nodeName !== undefined && this.#removedNodes.has(nodeName)) this.#ctx.store.delete(BUILTINS.pods, pod.metadata.namespace, pod.metadata.name);
      return;
    }
    const phase = podPhase(pod);
    if (pod.metadata.deletionTimestamp !== undefined) return this.#terminate(pod, phase);
    if (phase === 'Pending') return this.#start(pod, node);
    if (phase !== 'Running') return;
    const runMillis = this.#runMillis(pod);
    if (runMillis === undefined) return;
    const backingOff = containerStatuses(pod)[0]?.state?.waiting?.reason === CRASH_LOOP;
    const left = this.#since(pod) + runMillis - Date.now();
    if (left > 0) return this.#queue.addAfter(key, left);
    if (backingOff) return this.#restartAfterBackOff(pod, runMillis);
    this.#exit(pod, runMillis);
  }

  /** When the pod's containers last started or crashed (kept in memory; else read from status). */
  #since(pod: KubeObject): number {
    const known = this.#startedAt.get(keyOf(pod));
    if (known !== undefined) return known;
    const first = containerStatuses(pod)[0];
    const recorded = Date.parse(first?.state?.running?.startedAt ?? first?.lastState?.terminated?.finishedAt
      ?? (pod.status as { startTime?: string } | undefined)?.startTime ?? '');
    return Number.isNaN(recorded) ? Date.now() : recorded;
  }

  /**
   * The run time is over: a pod that may not restart this exit ends (Succeeded, or Failed when
   * annotated to fail); otherwise its containers restart, at once after exit 0, or after a
   * back-off as long as the run time after a failure (CrashLoopBackOff, not Ready).
   */
  #exit(pod: KubeObject, runMillis: number): void {
    const exitCode = chosenExitCode(pod);
    const failed = exitCode !== 0;
    const policy = ((pod.spec ?? {}) as PodSpec).restartPolicy ?? 'Always';
    if (policy === 'Never' || (policy === 'OnFailure' && !failed)) return this.#finish(pod, exitCode);
    const at = timestamp();
    const status = { ...((pod.status ?? {}) as Record<string, unknown>) };
    status.containerStatuses = containerStatuses(pod).map((c) => ({
      ...c,
      restartCount: (c.restartCount ?? 0) + 1,
      lastState: { terminated: { exitCode, reason: failed ? 'Error' : 'Completed', startedAt: c.state?.running?.startedAt ?? at, finishedAt: at, containerID: c.containerID } },
      ...(failed
        ? { ready: false, started: false, state: { waiting: { reason: CRASH_LOOP, message: `back-off ${Math.ceil(runMillis / 1000)}s restarting failed container=${c.name} pod=${pod.metadata.name}_${pod.metadata.namespace ?? 'default'}(${pod.metadata.uid ?? ''})` } } }
        : { ready: true, started: true, state: { running: { startedAt: at } } }),
    }));
    if (failed) status.conditions = readiness(status.conditions as Condition[] | undefined, false, containerStatuses(pod).map((c) => c.name));
    this.#startedAt.set(keyOf(pod), Date.now());
    this.#ctx.store.update(BUILTINS.pods, { ...pod, status }, { subresource: 'status', fieldManager: COMPONENT });
    this.#queue.addAfter(keyOf(pod), runMillis);
  }

  #restartAfterBackOff(pod: KubeObject, runMillis: number): void {
    const at = timestamp();
    const status = { ...((pod.status ?? {}) as Record<string, unknown>) };
    status.containerStatuses = containerStatuses(pod).map((c) => ({ ...c, ready: true, started: true, state: { running: { startedAt: at } } }));
    status.conditions = readiness(status.conditions as Condition[] | undefined, true, []);
    this.#startedAt.set(keyOf(pod), Date.now());
    this.#ctx.store.update(BUILTINS.pods, { ...pod, status }, { subresource: 'status', fieldManager: COMPONENT });
    this.#queue.addAfter(keyOf(pod), runMillis);
  }

  /** How long the pod runs, or undefined for a pod that runs until deleted. */
  #runMillis(pod: KubeObject): number | undefined {
    const annotations = pod.metadata.annotations ?? {};
    const seconds = Number(annotations[RUN_SECONDS_ANNOTATION]);
    if (annotations[RUN_SECONDS_ANNOTATION] !== undefined && Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
    const ownedByJob = pod.metadata.ownerReferences?.some((ref) => ref.controller === true && ref.kind === 'Job') ?? false;
    return ownedByJob || annotations[FAIL_ANNOTATION] !== undefined ? this.#jobRunMillis : undefined;
  }

  #start(pod: KubeObject, node: KubeObject): void {
    const at = timestamp();
    const spec = (pod.spec ?? {}) as PodSpec;
    const status = { ...((pod.status ?? {}) as Record<string, unknown>) };
    const hostIP = (node.status as { addresses?: { type: string; address: string }[] } | undefined)
      ?.addresses?.find((a) => a.type === 'InternalIP')?.address ?? '10.0.0.1';
    const podIP = spec.hostNetwork === true ? hostIP : this.#allocateIp(node);
    const earlier = (status.conditions as Condition[] | undefined) ?? [];
    const conditions = ['PodReadyToStartContainers', 'Initialized', 'Ready', 'ContainersReady', 'PodScheduled']
      .map((type) => withCondition(earlier, { type, status: 'True', lastProbeTime: null }).find((c) => c.type === type) as Condition);
    Object.assign(status, {
      phase: 'Running', conditions, hostIP, hostIPs: [{ ip: hostIP }], podIP, podIPs: [{ ip: podIP }], startTime: at,
      qosClass: status.qosClass ?? qosClass(spec),
      containerStatuses: (spec.containers ?? []).map((c) => ({
        ...containerIdentity(pod, c), ready: true, started: true, restartCount: 0, state: { running: { startedAt: at } }, lastState: {},
      })),
    });
    if ((spec.initContainers ?? []).length > 0) {
      status.initContainerStatuses = (spec.initContainers ?? []).map((c) => ({
        ...containerIdentity(pod, c), ready: true, started: false, restartCount: 0, lastState: {},
        state: { terminated: { exitCode: 0, reason: 'Completed', startedAt: at, finishedAt: at, containerID: containerIdentity(pod, c).containerID } },
      }));
    }
    this.#startedAt.set(keyOf(pod), Date.now());
    this.#ctx.store.update(BUILTINS.pods, { ...pod, status }, { subresource: 'status', fieldManager: COMPONENT });
    const runMillis = this.#runMillis(pod);
    if (runMillis !== undefined) this.#queue.addAfter(keyOf(pod), runMillis);
  }

  /**
   * A pod being deleted: its containers stop (SIGTERM honoured, exit 0). Once nothing holds it
   * (no finalizers) the kubelet confirms the deletion, as its final zero-grace delete does.
   */
  #terminate(pod: KubeObject, phase: string): void {
    if ((pod.metadata.finalizers ?? []).length === 0) {
      this.#ctx.store.delete(BUILTINS.pods, pod.metadata.namespace, pod.metadata.name);
      return;
    }
    if (phase === 'Running') this.#finish(pod, 0);
  }

  #finish(pod: KubeObject, exitCode: number): void {
    const failed = exitCode !== 0;
    const message = pod.metadata.annotations?.[TERMINATION_MESSAGE_ANNOTATION];
    const at = timestamp();
    const spec = (pod.spec ?? {}) as PodSpec;
    const status = { ...((pod.status ?? {}) as Record<string, unknown>) };
    const reason = failed ? 'PodFailed' : 'PodCompleted';
    let conditions = status.conditions as Condition[] | undefined;
    for (const type of ['PodReadyToStartContainers', 'Ready', 'ContainersReady']) {
      conditions = withCondition(conditions, { type, status: 'False', ...(type === 'PodReadyToStartContainers' ? {} : { reason }), lastProbeTime: null });
    }
    const startedAt = (status.startTime as string | undefined) ?? at;
    Object.assign(status, {
      phase: failed ? 'Failed' : 'Succeeded',
      conditions,
      containerStatuses: (spec.containers ?? []).map((c) => {
        const identity = containerIdentity(pod, c);
        return {
          ...identity, ready: false, started: false, lastState: {},
          restartCount: containerStatuses(pod).find((status) => status.name === c.name)?.restartCount ?? 0,
          state: { terminated: { exitCode, reason: failed ? 'Error' : 'Completed', ...(message !== undefined ? { message } : {}), startedAt, finishedAt: at, containerID: identity.containerID } },
        };
      }),
    });
    this.#startedAt.delete(keyOf(pod));
    this.#ctx.store.update(BUILTINS.pods, { ...pod, status }, { subresource: 'status', fieldManager: COMPONENT });
  }

  /** Keeps the set of addresses held by each node's live pods current. */
  #trackIp(type: ChangeType, key: string, pod: KubeObject): void {
    const held = this.#ipOf.get(key);
    const node = podNodeName(pod);
    const ip = (pod.status as { podIP?: string } | undefined)?.podIP;
    const holds = type !== 'DELETED' && node !== undefined && ip !== undefined && !['Succeeded', 'Failed'].includes(podPhase(pod));
    if (held !== undefined && (!holds || held.ip !== ip || held.node !== node)) {
      this.#ipsInUse.get(held.node)?.delete(held.ip);
      this.#ipOf.delete(key);
    }
    if (holds && this.#ipOf.get(key) === undefined) {
      let ips = this.#ipsInUse.get(node);
      if (ips === undefined) this.#ipsInUse.set(node, (ips = new Set()));
      ips.add(ip);
      this.#ipOf.set(key, { node, ip });
    }
  }

  /** The next free address in the node's pod CIDR (a /24 here), skipping addresses in use. */
  #allocateIp(node: KubeObject): string {
    const cidr = (node.spec as { podCIDR?: string } | undefined)?.podCIDR ?? '10.244.0.0/24';
    const prefix = cidr.split('/')[0]?.split('.').slice(0, 3).join('.') ?? '10.244.0';
    const inUse = this.#ipsInUse.get(node.metadata.name) ?? new Set<string>();
    let next = this.#nextIp.get(node.metadata.name) ?? 2;
    for (let tries = 0; tries < 253; tries += 1) {
      const candidate = `${prefix}.${next}`;
      next = next >= 254 ? 2 : next + 1;
      if (!inUse.has(candidate)) {
        this.#nextIp.set(node.metadata.name, next);
        return candidate;
      }
    }
    return `${prefix}.254`;
  }
}

/** The exit code a pod's containers end with: the stand-in kubelet's annotation, else 1 when annotated to fail, else 0. */
function chosenExitCode(pod: KubeObject): number {
  const annotations = pod.metadata.annotations ?? {};
  const chosen = Number(annotations[EXIT_CODE_ANNOTATION]);
  if (annotations[EXIT_CODE_ANNOTATION] !== undefined && Number.isInteger(chosen)) return chosen;
  return annotations[FAIL_ANNOTATION] === 'true' ? 1 : 0;
}

function containerIdentity(pod: KubeObject, container: Container): { name: string; image: string; imageID: string; containerID: string } {
  const image = container.image ?? '';
  const digest = createHash('sha256').update(image).digest('hex');
  const id = createHash('sha256').update(`${pod.metadata.uid ?? pod.metadata.name}/${container.name}`).digest('hex');
  return { name: container.name, image, imageID: `${image.split(':')[0]}@sha256:${digest}`, containerID: `containerd://${id}` };
}

/** The pod's QoS class, as the API server derives it from cpu and memory requests and limits. */
function qosClass(spec: PodSpec): 'Guaranteed' | 'Burstable' | 'BestEffort' {
  const containers = [...(spec.containers ?? []), ...(spec.initContainers ?? [])];
  let any = false;
  let guaranteed = true;
  for (const c of containers) {
    const limits = c.resources?.limits ?? {};
    const requests = { ...limits, ...(c.resources?.requests ?? {}) };
    for (const name of ['cpu', 'memory']) {
      if (requests[name] !== undefined || limits[name] !== undefined) any = true;
      if (limits[name] === undefined || String(requests[name]) !== String(limits[name])) guaranteed = false;
    }
  }
  if (!any) return 'BestEffort';
  return guaranteed ? 'Guaranteed' : 'Burstable';
}
