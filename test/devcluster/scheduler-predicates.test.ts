import { describe, expect, it } from 'vitest';
import {
  filterNode, firstUntoleratedTaint, scoreNode, toleratesTaint, unschedulableMessage,
  type NodeState, type PodNeeds, type Taint, type Toleration,
} from '../../devcluster/sim/predicates.ts';
import { QuantityParseError } from '../../api/quantity.ts';
import { parseMilli, parseResourceList } from '../../devcluster/resources/quantity.ts';
import { podRequests } from '../../devcluster/resources/pod-resources.ts';
import { labelSelectorMatches, nodeSelectorTermMatches, requirementMatches } from '../../api/selectors.ts';

const GPU_TAINT: Taint = { key: 'nvidia.com/gpu', value: 'present', effect: 'NoSchedule' };
const GPU_TOLERATION: Toleration = { key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' };

function dgx(name: string, gpusInUse = 0): NodeState {
  return {
    name,
    labels: { 'kubernetes.io/hostname': name, 'nvidia.com/gpu.product': 'NVIDIA-A100-SXM4-80GB', 'nvidia.com/gpu.count': '8' },
    taints: [GPU_TAINT],
    unschedulable: false,
    allocatable: parseResourceList({ cpu: '256', memory: '2Ti', pods: '110', 'nvidia.com/gpu': '8' }),
    requested: parseResourceList({ 'nvidia.com/gpu': String(gpusInUse) }),
    podCount: gpusInUse,
  };
}

function cpuNode(name: string): NodeState {
  return {
    name, labels: { 'kubernetes.io/hostname': name }, taints: [], unschedulable: false,
    allocatable: parseResourceList({ cpu: '64', memory: '256Gi', pods: '110' }), requested: new Map(), podCount: 0,
  };
}

function pod(needs: Partial<PodNeeds> & { limits?: Record<string, string> } = {}): PodNeeds {
  return {
    requests: needs.requests ?? podRequests({ containers: [{ resources: { limits: needs.limits ?? {} } }] }),
    nodeSelector: needs.nodeSelector ?? {},
    tolerations: needs.tolerations ?? [],
    ...(needs.requiredNodeSelectorTerms ? { requiredNodeSelectorTerms: needs.requiredNodeSelectorTerms } : {}),
  };
}

describe('quantities', () => {
  it.each([
    ['500m', 500], ['1', 1000], ['2', 2000], ['1.5', 1500], ['1Ki', 1024_000], ['2Ti', 2 * 2 ** 40 * 1000],
    ['1.5Gi', 1.5 * 2 ** 30 * 1000], ['1k', 1_000_000], ['1e3', 1_000_000], ['1n', 1], [8, 8000],
  ])('%s is %d milli-units', (text, milli) => {
    expect(parseMilli(text)).toBe(milli);
  });

  it.each(['', 'lots', '1Gb', '1.2.3'])('rejects %j with a typed error', (text) => {
    expect(() => parseMilli(text)).toThrow(QuantityParseError);
  });
});

describe('pod requests', () => {
  it('a GPU limit without a request requests the limit, as API defaulting does', () => {
    const requests = podRequests({ containers: [{ resources: { limits: { 'nvidia.com/gpu': '2', cpu: '4' }, requests: { cpu: '1' } } }] });
    expect(requests.get('nvidia.com/gpu')).toBe(2000);
    expect(requests.get('cpu')).toBe(1000);
  });

  it('sums containers, takes the larger init container and adds sidecars and overhead', () => {
    const requests = podRequests({
      containers: [{ resources: { requests: { cpu: '1' } } }, { resources: { requests: { cpu: '500m' } } }],
      initContainers: [
        { resources: { requests: { cpu: '3' } } },
        { restartPolicy: 'Always', resources: { requests: { cpu: '250m' } } },
      ],
      overhead: { cpu: '100m' },
    });
    expect(requests.get('cpu')).toBe(3000 + 100);
  });
});

describe('selectors', () => {
  it.each([
    [{ key: 'a', operator: 'In', values: ['x', 'y'] }, { a: 'y' }, true],
    [{ key: 'a', operator: 'In', values: ['x'] }, { a: 'y' }, false],
    [{ key: 'a', operator: 'In', values: ['x'] }, {}, false],
    [{ key: 'a', operator: 'NotIn', values: ['x'] }, { a: 'y' }, true],
    [{ key: 'a', operator: 'NotIn', values: ['x'] }, {}, true],
    [{ key: 'a', operator: 'NotIn', values: ['x'] }, { a: 'x' }, false],
    [{ key: 'a', operator: 'Exists' }, { a: '' }, true],
    [{ key: 'a', operator: 'Exists' }, { b: '1' }, false],
    [{ key: 'a', operator: 'DoesNotExist' }, { b: '1' }, true],
    [{ key: 'a', operator: 'DoesNotExist' }, { a: '1' }, false],
    [{ key: 'gpus', operator: 'Gt', values: ['4'] }, { gpus: '8' }, true],
    [{ key: 'gpus', operator: 'Lt', values: ['4'] }, { gpus: '8' }, false],
    [{ key: 'a', operator: 'Bogus' }, { a: '1' }, false],
  ])('%j on %j is %s', (req, labels, expected) => {
    expect(requirementMatches(req, labels as Record<string, string>)).toBe(expected);
  });

  it('an empty label selector selects everything; matchLabels and expressions are ANDed', () => {
    expect(labelSelectorMatches({}, { app: 'x' })).toBe(true);
    expect(labelSelectorMatches({ matchLabels: { app: 'x' }, matchExpressions: [{ key: 'tier', operator: 'Exists' }] }, { app: 'x' })).toBe(false);
    expect(labelSelectorMatches({ matchLabels: { app: 'x' }, matchExpressions: [{ key: 'tier', operator: 'Exists' }] }, { app: 'x', tier: 'db' })).toBe(true);
  });

  it('an empty node selector term matches no node, and matchFields sees metadata.name', () => {
    const node = { name: 'cpu-01', labels: {} };
    expect(nodeSelectorTermMatches({}, node)).toBe(false);
    expect(nodeSelectorTermMatches({ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['cpu-01'] }] }, node)).toBe(true);
  });
});

describe('taints and tolerations', () => {
  it.each([
    [{ key: 'nvidia.com/gpu', operator: 'Exists' }, true],
    [{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }, true],
    [{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoExecute' }, false],
    [{ key: 'nvidia.com/gpu', operator: 'Equal', value: 'present' }, true],
    [{ key: 'nvidia.com/gpu', value: 'present' }, true],
    [{ key: 'nvidia.com/gpu', operator: 'Equal', value: 'absent' }, false],
    [{ operator: 'Exists' }, true],
    [{ key: 'other', operator: 'Exists' }, false],
  ] as [Toleration, boolean][])('%j tolerates nvidia.com/gpu=present:NoSchedule: %s', (toleration, expected) => {
    expect(toleratesTaint(toleration, GPU_TAINT)).toBe(expected);
  });

  it('PreferNoSchedule taints never filter a node', () => {
    expect(firstUntoleratedTaint([{ key: 'soft', effect: 'PreferNoSchedule' }], [])).toBeUndefined();
    expect(firstUntoleratedTaint([{ key: 'hard', value: 'x', effect: 'NoExecute' }], [])?.key).toBe('hard');
  });
});

describe('filterNode', () => {
  it.each([
    ['a pod without the GPU toleration on a DGX node', pod(), dgx('dgx-a100-01'), 'node(s) had untolerated taint {nvidia.com/gpu: present}'],
    ['one GPU with the toleration on a free DGX node', pod({ limits: { 'nvidia.com/gpu': '1' }, tolerations: [GPU_TOLERATION] }), dgx('dgx-a100-01'), undefined],
    ['one GPU on a full DGX node', pod({ limits: { 'nvidia.com/gpu': '1' }, tolerations: [GPU_TOLERATION] }), dgx('dgx-a100-01', 8), 'Insufficient nvidia.com/gpu'],
    ['nine GPUs on a free DGX node', pod({ limits: { 'nvidia.com/gpu': '9' }, tolerations: [GPU_TOLERATION] }), dgx('dgx-a100-01'), 'Insufficient nvidia.com/gpu'],
    ['one GPU on a CPU node', pod({ limits: { 'nvidia.com/gpu': '1' } }), cpuNode('cpu-01'), 'Insufficient nvidia.com/gpu'],
    ['a product selector on a CPU node', pod({ nodeSelector: { 'nvidia.com/gpu.product': 'NVIDIA-A100-SXM4-80GB' } }), cpuNode('cpu-01'), "node(s) didn't match Pod's node affinity/selector"],
    ['an affinity NotIn the node', pod({ requiredNodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'NotIn', values: ['cpu-01'] }] }] }), cpuNode('cpu-01'), "node(s) didn't match Pod's node affinity/selector"],
    ['an affinity with a second matching term', pod({ requiredNodeSelectorTerms: [{ matchExpressions: [{ key: 'x', operator: 'Exists' }] }, { matchExpressions: [{ key: 'x', operator: 'DoesNotExist' }] }] }), cpuNode('cpu-01'), undefined],
    ['a pod asking for more memory than a CPU node has', pod({ limits: { memory: '300Gi' } }), cpuNode('cpu-01'), 'Insufficient memory'],
  ])('%s', (_what, needs, node, reason) => {
    expect(filterNode(needs, node)?.reasons[0]).toBe(reason);
  });

  it('reports every short resource and a full node', () => {
    const node = { ...cpuNode('cpu-01'), podCount: 110 };
    expect(filterNode(pod({ limits: { cpu: '65', memory: '1Ti' } }), node)?.reasons).toEqual(['Too many pods', 'Insufficient cpu', 'Insufficient memory']);
  });

  it('a cordoned node filters pods that do not tolerate the unschedulable taint', () => {
    const node = { ...cpuNode('cpu-01'), unschedulable: true };
    expect(filterNode(pod(), node)?.reasons).toEqual(['node(s) were unschedulable']);
    expect(filterNode(pod({ tolerations: [{ key: 'node.kubernetes.io/unschedulable', operator: 'Exists' }] }), node)).toBeUndefined();
  });
});

describe('unschedulableMessage', () => {
  it('reads like kube-scheduler for a nine-GPU pod on the default site', () => {
    const needs = pod({ limits: { 'nvidia.com/gpu': '9' }, tolerations: [GPU_TOLERATION] });
    const nodes = [dgx('dgx-a100-01'), dgx('dgx-a100-02'), cpuNode('cpu-01'), cpuNode('cpu-02')];
    const failures = nodes.map((node) => filterNode(needs, node)).filter((failure) => failure !== undefined);
    expect(unschedulableMessage(nodes.length, failures)).toBe(
      '0/4 nodes are available: 4 Insufficient nvidia.com/gpu. preemption: 0/4 nodes are available: 4 No preemption victims found for incoming pod.');
  });

  it('sorts the histogram and separates unresolvable nodes for preemption', () => {
    const needs = pod({ limits: { 'nvidia.com/gpu': '1' } });
    const nodes = [dgx('dgx-a100-01'), dgx('dgx-a100-02'), cpuNode('cpu-01'), cpuNode('cpu-02')];
    const failures = nodes.map((node) => filterNode(needs, node)).filter((failure) => failure !== undefined);
    expect(unschedulableMessage(4, failures)).toBe(
      '0/4 nodes are available: 2 Insufficient nvidia.com/gpu, 2 node(s) had untolerated taint {nvidia.com/gpu: present}. '
      + 'preemption: 0/4 nodes are available: 2 No preemption victims found for incoming pod, 2 Preemption is not helpful for scheduling.');
  });

  it('says so when there are no nodes at all', () => {
    expect(unschedulableMessage(0, [])).toBe('no nodes available to schedule pods');
  });
});

describe('scoreNode', () => {
  it('spreads by default and bin-packs with MostAllocated', () => {
    const needs = pod({ limits: { 'nvidia.com/gpu': '1' }, tolerations: [GPU_TOLERATION] });
    const busy = dgx('dgx-a100-01', 4);
    const idle = dgx('dgx-a100-02');
    expect(scoreNode(needs, idle, 'LeastAllocated')).toBeGreaterThan(scoreNode(needs, busy, 'LeastAllocated'));
    expect(scoreNode(needs, busy, 'MostAllocated')).toBeGreaterThan(scoreNode(needs, idle, 'MostAllocated'));
  });
});
