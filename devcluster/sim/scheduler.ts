// The simulated kube-scheduler: binds pending pods to nodes that pass the filter plugins, or marks
// them Unschedulable with the real scheduler's message. Event-driven: a pass runs once per burst
// of changes and tries only pending pods; pods that fit nowhere wait until a node, a volume claim
// or a freed pod changes the picture.
import { BUILTINS } from '../store/builtins.ts';
import { SCHEDULER_MANAGER } from '../store/field-managers.ts';
import type { KubeObject } from '../store/types.ts';
import { keyOf, type ChangeType } from './informer.ts';
import type { SimContext } from './context.ts';
import { withCondition, type Condition } from './ownership.ts';
import { isPodTerminal, podCondition, podNodeName, podPhase } from './pods.ts';
import {
  filterNode, preFilterMessage, scoreNode, unschedulableMessage,
  type FilterFailure, type NodeState, type PodNeeds, type ScoringStrategy, type Taint, type Toleration,
} from './predicates.ts';
import { addAmounts, parseResourceList, type ResourceAmounts } from '../resources/quantity.ts';
import { SyncQueue } from './sync-queue.ts';
import { podRequests, type PodResourcesSpec } from '../resources/pod-resources.ts';
import type { NodeSelectorTerm } from '../../api/selectors.ts';

/** The name pods use in spec.schedulerName to ask for this scheduler (also the default). */
const SCHEDULER_NAME = 'default-scheduler';
const PASS = 'pass';

interface PodSpec extends PodResourcesSpec {
  nodeName?: string;
  schedulerName?: string;
  nodeSelector?: Record<string, string>;
  tolerations?: Toleration[];
  affinity?: { nodeAffinity?: { requiredDuringSchedulingIgnoredDuringExecution?: { nodeSelectorTerms?: NodeSelectorTerm[] } } };
  volumes?: { name: string; persistentVolumeClaim?: { claimName: string } }[];
  schedulingGates?: { name: string }[];
}

interface NodeUsage { requested: ResourceAmounts; podCount: number }

/** Binds pods to simulated nodes; see the module comment for when it runs. */
export class Scheduler {
  readonly #ctx: SimContext;
  readonly #scoring: ScoringStrategy;
  readonly #queue: SyncQueue;
  readonly #usage = new Map<string, NodeUsage>();
  readonly #counted = new Map<string, { node: string; requests: ResourceAmounts }>();
  readonly #pending = new Set<string>();
  readonly #parked = new Map<string, string>();
  readonly #claimWaiters = new Map<string, Set<string>>();

  constructor(ctx: SimContext, scoring: ScoringStrategy) {
    this.#ctx = ctx;
    this.#scoring = scoring;
    this.#queue = new SyncQueue('scheduler', () => this.#pass(), ctx.report);
    ctx.informers.pods.onChange((type, pod) => this.#onPod(type, pod));
    ctx.informers.nodes.onChange(() => this.#unpark());
    ctx.informers.persistentvolumeclaims.onChange((_type, claim) => this.#onClaim(keyOf(claim)));
  }

  /** Stops scheduling; pending work is dropped. */
  stop(): void {
    this.#queue.stop();
  }

  #onPod(type: ChangeType, pod: KubeObject): void {
    const key = keyOf(pod);
    const node = podNodeName(pod);
    const counts = type !== 'DELETED' && node !== undefined && !isPodTerminal(pod);
    const before = this.#counted.get(key);
    if (before !== undefined && (!counts || before.node !== node)) {
      this.#account(before.node, before.requests, -1);
      this.#counted.delete(key);
      this.#unpark();
    }
    if (counts && (before === undefined || before.node !== node)) {
      const requests = safeRequests(pod) ?? new Map();
      this.#account(node, requests, 1);
      this.#counted.set(key, { node, requests });
    }
    if (type === 'DELETED' || !wantsScheduling(pod)) {
      this.#pending.delete(key);
      this.#parked.delete(key);
      for (const volume of (pod.spec as PodSpec | undefined)?.volumes ?? []) {
        const claimName = volume.persistentVolumeClaim?.claimName;
        if (claimName !== undefined) this.#claimWaiters.get(`${pod.metadata.namespace ?? 'default'}/${claimName}`)?.delete(key);
      }
      return;
    }
    if (this.#parked.get(key) === signature(pod)) return;
    this.#parked.delete(key);
    this.#pending.add(key);
    this.#queue.add(PASS);
  }

  /** A claim changed: only the pods that were waiting for it can now be placed. */
  #onClaim(claimKey: string): void {
    const waiters = this.#claimWaiters.get(claimKey);
    if (waiters === undefined) return;
    this.#claimWaiters.delete(claimKey);
    for (const key of waiters) {
      if (!this.#parked.delete(key)) continue;
      this.#pending.add(key);
      this.#queue.add(PASS);
    }
  }

  #account(node: string, requests: ResourceAmounts, sign: 1 | -1): void {
    let usage = this.#usage.get(node);
    if (usage === undefined) this.#usage.set(node, (usage = { requested: new Map(), podCount: 0 }));
    addAmounts(usage.requested, requests, sign);
    usage.podCount += sign;
  }

  #unpark(): void {
    if (this.#parked.size === 0) return;
    for (const key of this.#parked.keys()) this.#pending.add(key);
    this.#parked.clear();
    this.#queue.add(PASS);
  }

  #pass(): void {
    if (this.#pending.size === 0) return;
    const nodes = this.#nodeStates();
    let failure: unknown;
    for (const key of [...this.#pending]) {
      this.#pending.delete(key);
      const pod = this.#ctx.informers.pods.get(key);
      if (pod === undefined || !wantsScheduling(pod)) continue;
      try {
        this.#schedule(pod, nodes);
      } catch (error) {
        // One pod's failed write must not starve the others; it stays pending for the retry.
        this.#pending.add(key);
        failure ??= error;
      }
    }
    if (failure !== undefined) throw failure;
  }

  #schedule(pod: KubeObject, nodes: NodeState[]): void {
    if (((pod.spec as PodSpec | undefined)?.schedulingGates ?? []).length > 0) {
      return this.#park(pod, 'Scheduling is blocked due to non-empty scheduling gates', 'SchedulingGated');
    }
    const volumeProblem = this.#waitForClaims(pod);
    if (volumeProblem !== undefined) return this.#park(pod, preFilterMessage(nodes.length, volumeProblem));
    const needs = podNeeds(pod);
    if (needs === undefined) return this.#park(pod, preFilterMessage(nodes.length, 'pod has an invalid resource quantity'));
    const failures: FilterFailure[] = [];
    let best: NodeState | undefined;
    let bestScore = -1;
    for (const node of nodes) {
      const failure = filterNode(needs, node);
      if (failure !== undefined) {
        failures.push(failure);
        continue;
      }
      const score = scoreNode(needs, node, this.#scoring);
      if (score > bestScore) [best, bestScore] = [node, score];
    }
    if (best === undefined) return this.#park(pod, unschedulableMessage(nodes.length, failures));
    this.#bind(pod, best);
    const usage = this.#usage.get(best.name);
    if (usage !== undefined) [best.requested, best.podCount] = [usage.requested, usage.podCount];
  }

  #nodeStates(): NodeState[] {
    const states: NodeState[] = [];
    for (const node of this.#ctx.informers.nodes.values()) {
      if (node.metadata.deletionTimestamp !== undefined) continue;
      const spec = (node.spec ?? {}) as { taints?: Taint[]; unschedulable?: boolean };
      const status = (node.status ?? {}) as { allocatable?: Record<string, string>; conditions?: Condition[] };
      const taints = [...(spec.taints ?? [])];
      const ready = status.conditions?.find((c) => c.type === 'Ready')?.status === 'True';
      if (!ready && !taints.some((t) => t.key === 'node.kubernetes.io/not-ready')) {
        taints.push({ key: 'node.kubernetes.io/not-ready', effect: 'NoSchedule' });
      }
      let allocatable: ResourceAmounts;
      try {
        allocatable = parseResourceList(status.allocatable);
      } catch {
        allocatable = new Map();
      }
      const usage = this.#usage.get(node.metadata.name);
      states.push({
        name: node.metadata.name,
        labels: node.metadata.labels ?? {},
        taints,
        unschedulable: spec.unschedulable === true,
        allocatable,
        requested: usage?.requested ?? new Map(),
        podCount: usage?.podCount ?? 0,
      });
    }
    return states;
  }

  /**
   * The VolumeBinding pre-filter: every claim the pod mounts must exist and be bound. When one is
   * not, the pod waits for that claim to change (and is told why).
   */
  #waitForClaims(pod: KubeObject): string | undefined {
    let problem: string | undefined;
    for (const volume of (pod.spec as PodSpec | undefined)?.volumes ?? []) {
      const claimName = volume.persistentVolumeClaim?.claimName;
      if (claimName === undefined) continue;
      const claimKey = `${pod.metadata.namespace ?? 'default'}/${claimName}`;
      const claim = this.#ctx.informers.persistentvolumeclaims.get(claimKey);
      let why: string | undefined;
      if (claim === undefined) why = `persistentvolumeclaim "${claimName}" not found`;
      else if (claim.metadata.deletionTimestamp !== undefined) why = `persistentvolumeclaim "${claimName}" is being deleted`;
      else if ((claim.status as { phase?: string } | undefined)?.phase !== 'Bound') why = 'pod has unbound immediate PersistentVolumeClaims';
      if (why === undefined) continue;
      let waiters = this.#claimWaiters.get(claimKey);
      if (waiters === undefined) this.#claimWaiters.set(claimKey, (waiters = new Set()));
      waiters.add(keyOf(pod));
      if (problem === undefined || why.startsWith('persistentvolumeclaim')) problem = why;
    }
    return problem;
  }

  // A binding (pods/binding) sets the node and PodScheduled without touching managedFields.
  #bind(pod: KubeObject, node: NodeState): void {
    const binding = structuredClone(pod);
    (binding.spec as PodSpec).nodeName = node.name;
    this.#ctx.store.update(BUILTINS.pods, binding, { managedFieldsSet: true });
    const bound = this.#ctx.informers.pods.get(keyOf(pod));
    if (bound !== undefined) {
      const status = { ...((bound.status ?? {}) as Record<string, unknown>) };
      status.phase = podPhase(bound);
      status.conditions = withCondition(status.conditions as Condition[] | undefined, { type: 'PodScheduled', status: 'True', lastProbeTime: null });
      this.#ctx.store.update(BUILTINS.pods, { ...bound, status }, { subresource: 'status', managedFieldsSet: true });
    }
    this.#ctx.events.record(SCHEDULER_NAME, pod, 'Normal', 'Scheduled',
      `Successfully assigned ${pod.metadata.namespace ?? 'default'}/${pod.metadata.name} to ${node.name}`);
  }

  /** Leaves the pod Pending with the reason, until something that could change the answer changes. */
  #park(pod: KubeObject, message: string, reason: 'Unschedulable' | 'SchedulingGated' = 'Unschedulable'): void {
    this.#parked.set(keyOf(pod), signature(pod));
    const current = podCondition(pod, 'PodScheduled');
    if (current?.status !== 'False' || current.reason !== reason || current.message !== message) {
      const status: Record<string, unknown> = { ...((pod.status ?? {}) as Record<string, unknown>), phase: 'Pending' };
      status.conditions = withCondition(status.conditions as Condition[] | undefined, {
        type: 'PodScheduled', status: 'False', reason, message, lastProbeTime: null,
      });
      this.#ctx.store.update(BUILTINS.pods, { ...pod, status }, { subresource: 'status', fieldManager: SCHEDULER_MANAGER });
      if (reason === 'Unschedulable') this.#ctx.events.record(SCHEDULER_NAME, pod, 'Warning', 'FailedScheduling', message);
    }
  }
}

/** Whether this scheduler should place the pod: unbound, alive, Pending and addressed to it. */
function wantsScheduling(pod: KubeObject): boolean {
  const spec = (pod.spec ?? {}) as PodSpec;
  return podNodeName(pod) === undefined
    && pod.metadata.deletionTimestamp === undefined
    && podPhase(pod) === 'Pending'
    && (spec.schedulerName === undefined || spec.schedulerName === SCHEDULER_NAME);
}

/** What, of a pod, decides where it may go; a parked pod is retried when this changes. */
function signature(pod: KubeObject): string {
  return JSON.stringify(pod.spec ?? {});
}

function safeRequests(pod: KubeObject): ResourceAmounts | undefined {
  try {
    return podRequests((pod.spec ?? {}) as PodResourcesSpec);
  } catch {
    return undefined;
  }
}

function podNeeds(pod: KubeObject): PodNeeds | undefined {
  const spec = (pod.spec ?? {}) as PodSpec;
  const requests = safeRequests(pod);
  if (requests === undefined) return undefined;
  const terms = spec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms;
  return {
    requests,
    nodeSelector: spec.nodeSelector ?? {},
    tolerations: spec.tolerations ?? [],
    ...(terms !== undefined ? { requiredNodeSelectorTerms: terms } : {}),
  };
}
