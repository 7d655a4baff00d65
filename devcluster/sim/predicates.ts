// The scheduler's filter plugins, in kube-scheduler's default order, as pure functions of a pod's
// needs and a node's state; plus the FitError message the real scheduler writes.
import type { ResourceAmounts } from '../resources/quantity.ts';
import { nodeSelectorTermMatches, type NodeSelectorTerm } from '../../api/selectors.ts';

/** A core/v1 Taint. */
export interface Taint { key: string; value?: string; effect: string }
/** A core/v1 Toleration. */
export interface Toleration { key?: string; operator?: string; value?: string; effect?: string; tolerationSeconds?: number }

/** What the scheduler knows about one node: its shape and what bound pods already request. */
export interface NodeState {
  name: string;
  labels: Record<string, string>;
  taints: Taint[];
  unschedulable: boolean;
  allocatable: ResourceAmounts;
  requested: ResourceAmounts;
  podCount: number;
}

/** What a pending pod needs from a node. */
export interface PodNeeds {
  requests: ResourceAmounts;
  nodeSelector: Record<string, string>;
  requiredNodeSelectorTerms?: NodeSelectorTerm[];
  tolerations: Toleration[];
}

/**
 * Why a node was filtered out. `resolvable` is false for UnschedulableAndUnresolvable plugins
 * (taints, affinity, cordon): preemption cannot help there.
 */
export interface FilterFailure { reasons: string[]; resolvable: boolean }

const POD_SLOTS = 'pods';

/** Whether a toleration tolerates a taint (key, operator Equal/Exists, value, effect). */
export function toleratesTaint(toleration: Toleration, taint: Taint): boolean {
  if (toleration.effect && toleration.effect !== taint.effect) return false;
  if (toleration.key && toleration.key !== taint.key) return false;
  const operator = toleration.operator ?? 'Equal';
  if (operator === 'Exists') return true;
  if (operator === 'Equal') return (toleration.value ?? '') === (taint.value ?? '');
  return false;
}

/** The first NoSchedule/NoExecute taint no toleration tolerates, as TaintToleration reports it. */
export function firstUntoleratedTaint(taints: Taint[], tolerations: Toleration[]): Taint | undefined {
  return taints.find((taint) => (taint.effect === 'NoSchedule' || taint.effect === 'NoExecute')
    && !tolerations.some((toleration) => toleratesTaint(toleration, taint)));
}

/** NodeAffinity: nodeSelector labels all match and, when given, any one required term matches. */
function matchesNodeAffinity(pod: PodNeeds, node: Pick<NodeState, 'name' | 'labels'>): boolean {
  for (const [key, value] of Object.entries(pod.nodeSelector)) if (node.labels[key] !== value) return false;
  const terms = pod.requiredNodeSelectorTerms;
  return terms === undefined || terms.some((term) => nodeSelectorTermMatches(term, node));
}

/** NodeResourcesFit: "Too many pods" and one "Insufficient <resource>" per resource short. */
function insufficientResources(pod: PodNeeds, node: NodeState): string[] {
  const reasons: string[] = [];
  if (node.podCount + 1 > Math.floor((node.allocatable.get(POD_SLOTS) ?? 0) / 1000)) reasons.push('Too many pods');
  const names = [...pod.requests.keys()].filter((name) => name !== POD_SLOTS).sort(resourceOrder);
  for (const name of names) {
    const wanted = pod.requests.get(name) ?? 0;
    if (wanted <= 0) continue;
    const free = (node.allocatable.get(name) ?? 0) - (node.requested.get(name) ?? 0);
    if (wanted > free) reasons.push(`Insufficient ${name}`);
  }
  return reasons;
}

/** Runs the filters in kube-scheduler's default order and returns the first failure, if any. */
export function filterNode(pod: PodNeeds, node: NodeState): FilterFailure | undefined {
  const cordonTaint = { key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' };
  if (node.unschedulable && !pod.tolerations.some((toleration) => toleratesTaint(toleration, cordonTaint))) {
    return { reasons: ['node(s) were unschedulable'], resolvable: false };
  }
  const taint = firstUntoleratedTaint(node.taints, pod.tolerations);
  if (taint) return { reasons: [`node(s) had untolerated taint {${taint.key}: ${taint.value ?? ''}}`], resolvable: false };
  if (!matchesNodeAffinity(pod, node)) return { reasons: ["node(s) didn't match Pod's node affinity/selector"], resolvable: false };
  const insufficient = insufficientResources(pod, node);
  if (insufficient.length > 0) return { reasons: insufficient, resolvable: true };
  return undefined;
}

/**
 * The FitError message of kube-scheduler 1.28+, e.g. "0/4 nodes are available: 2 Insufficient
 * nvidia.com/gpu, 2 node(s) had untolerated taint {nvidia.com/gpu: present}. preemption: 0/4
 * nodes are available: 2 No preemption victims found for incoming pod, 2 Preemption is not
 * helpful for scheduling." Every simulated pod has the same priority, so preemption never finds
 * victims.
 */
export function unschedulableMessage(nodeCount: number, failures: FilterFailure[]): string {
  const filterCounts = new Map<string, number>();
  const preemptionCounts = new Map<string, number>();
  for (const failure of failures) {
    for (const reason of failure.reasons) filterCounts.set(reason, (filterCounts.get(reason) ?? 0) + 1);
    const verdict = failure.resolvable ? 'No preemption victims found for incoming pod' : 'Preemption is not helpful for scheduling';
    preemptionCounts.set(verdict, (preemptionCounts.get(verdict) ?? 0) + 1);
  }
  if (nodeCount === 0) return 'no nodes available to schedule pods';
  const head = `0/${nodeCount} nodes are available`;
  return `${head}: ${histogram(filterCounts)}. preemption: ${head}: ${histogram(preemptionCounts)}.`;
}

/**
 * The message when a pre-filter rejects the pod before any node is tried (an unbound or missing
 * PersistentVolumeClaim): no node can help, so preemption is not helpful on any of them.
 */
export function preFilterMessage(nodeCount: number, why: string): string {
  const head = `0/${nodeCount} nodes are available`;
  return `${head}: ${why}. preemption: ${head}: ${nodeCount} Preemption is not helpful for scheduling.`;
}

/** Scoring strategies of NodeResourcesFit: spread (the default) or bin-pack. */
export type ScoringStrategy = 'LeastAllocated' | 'MostAllocated';

/**
 * NodeResourcesFit's score (0-100) for placing the pod on the node, averaged over cpu, memory
 * and every extended resource the pod asks for. Pods without cpu/memory requests count the
 * scheduler's non-zero defaults (100m, 200Mi), so they still spread.
 */
export function scoreNode(pod: PodNeeds, node: NodeState, strategy: ScoringStrategy): number {
  const names = new Set(['cpu', 'memory', ...[...pod.requests.keys()].filter((name) => name !== POD_SLOTS)]);
  let total = 0;
  let counted = 0;
  for (const name of names) {
    const allocatable = node.allocatable.get(name) ?? 0;
    if (allocatable <= 0) continue;
    const own = pod.requests.get(name) || NON_ZERO_DEFAULTS[name] || 0;
    const requested = (node.requested.get(name) ?? 0) + own;
    const used = Math.min(1, requested / allocatable);
    total += strategy === 'MostAllocated' ? used * 100 : (1 - used) * 100;
    counted += 1;
  }
  return counted === 0 ? 0 : total / counted;
}

const NON_ZERO_DEFAULTS: Record<string, number> = { cpu: 100, memory: 200 * 2 ** 20 * 1000 };

function histogram(counts: Map<string, number>): string {
  return [...counts].map(([reason, count]) => `${count} ${reason}`).sort().join(', ');
}

function resourceOrder(a: string, b: string): number {
  const rank = (name: string): number => ['cpu', 'memory', 'ephemeral-storage'].indexOf(name) >>> 0;
  return rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0);
}
