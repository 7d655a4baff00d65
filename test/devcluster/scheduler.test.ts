import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { BUILTINS } from '../../devcluster/store/builtins.ts';
import { ClusterStore } from '../../devcluster/store/cluster-store.ts';
import type { KubeObject } from '../../devcluster/store/types.ts';
import { startSimulation, type Simulation } from '../../devcluster/sim/index.ts';

const GPU_TOLERATION = { key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' };
const A100 = { 'nvidia.com/gpu.product': 'NVIDIA-A100-SXM4-80GB' };

function gpuPod(name: string, gpus: number, extra: Record<string, unknown> = {}): KubeObject {
  return {
    apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default' },
    spec: {
      containers: [{ name: 'train', image: 'nvcr.io/nvidia/pytorch:24.05-py3', resources: { limits: { 'nvidia.com/gpu': String(gpus) } } }],
      tolerations: [GPU_TOLERATION],
      ...extra,
    },
  };
}

function plainPod(name: string): KubeObject {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default' }, spec: { containers: [{ name: 'app', image: 'busybox' }] } };
}

describe('simulated scheduler and kubelet (in-process)', () => {
  let store: ClusterStore;
  let sim: Simulation;
  const pod = (name: string) => store.get(BUILTINS.pods, 'default', name);
  const nodeOf = (name: string) => (pod(name)?.spec as { nodeName?: string } | undefined)?.nodeName;
  const phaseOf = (name: string) => (pod(name)?.status as { phase?: string } | undefined)?.phase;

  beforeEach(() => {
    store = new ClusterStore();
    sim = startSimulation(store, { onError: (c, k, e) => { throw new Error(`${c} ${k}: ${String(e)}`); } });
  });
  afterEach(async () => {
    await sim.stop();
  });

  it('registers the default site as four Ready nodes with DGX labels and taints', () => {
    const nodes = store.list(BUILTINS.nodes).items;
    expect(nodes.map((n) => n.metadata.name)).toEqual(['cpu-01', 'cpu-02', 'dgx-a100-01', 'dgx-a100-02']);
    const dgx = nodes.find((n) => n.metadata.name === 'dgx-a100-01');
    expect(dgx?.metadata.labels).toMatchObject({ ...A100, 'nvidia.com/gpu.count': '8', 'kubernetes.io/hostname': 'dgx-a100-01' });
    expect((dgx?.spec as { taints: unknown[] }).taints).toEqual([{ key: 'nvidia.com/gpu', value: 'present', effect: 'NoSchedule' }]);
    expect((dgx?.status as { allocatable: Record<string, string> }).allocatable['nvidia.com/gpu']).toBe('8');
  });

  it('eight one-GPU pods fill one DGX node; a ninth with the product selector lands on the other', async () => {
    for (let i = 1; i <= 8; i += 1) store.create(BUILTINS.pods, gpuPod(`gpu-${i}`, 1, { nodeSelector: { 'kubernetes.io/hostname': 'dgx-a100-01' } }));
    await vi.waitFor(() => expect(phaseOf('gpu-8')).toBe('Running'));
    for (let i = 1; i <= 8; i += 1) expect(nodeOf(`gpu-${i}`)).toBe('dgx-a100-01');
    store.create(BUILTINS.pods, gpuPod('gpu-9', 1, { nodeSelector: A100 }));
    await vi.waitFor(() => expect(phaseOf('gpu-9')).toBe('Running'));
    expect(nodeOf('gpu-9')).toBe('dgx-a100-02');
  });

  it('bin-packs eight GPU pods onto one node with MostAllocated scoring', async () => {
    await sim.stop();
    store = new ClusterStore();
    sim = startSimulation(store, { scoring: 'MostAllocated' });
    for (let i = 1; i <= 9; i += 1) store.create(BUILTINS.pods, gpuPod(`gpu-${i}`, 1, { nodeSelector: A100 }));
    await vi.waitFor(() => expect(phaseOf('gpu-9')).toBe('Running'));
    const placed = new Map<string, number>();
    for (let i = 1; i <= 9; i += 1) placed.set(nodeOf(`gpu-${i}`) ?? '', (placed.get(nodeOf(`gpu-${i}`) ?? '') ?? 0) + 1);
    expect([...placed.values()].sort()).toEqual([1, 8]);
  });

  it('a pod without the GPU toleration never lands on a DGX node', async () => {
    for (let i = 0; i < 12; i += 1) store.create(BUILTINS.pods, plainPod(`web-${i}`));
    await vi.waitFor(() => expect(Array.from({ length: 12 }, (_, i) => phaseOf(`web-${i}`))).toEqual(Array(12).fill('Running')));
    for (let i = 0; i < 12; i += 1) expect(nodeOf(`web-${i}`)).toMatch(/^cpu-0[12]$/);
  });

  it('a pod asking for nine GPUs stays Pending, Unschedulable, with the scheduler message and a FailedScheduling event', async () => {
    store.create(BUILTINS.pods, gpuPod('too-big', 9));
    const expected = '0/4 nodes are available: 4 Insufficient nvidia.com/gpu. preemption: 0/4 nodes are available: 4 No preemption victims found for incoming pod.';
    await vi.waitFor(() => {
      const condition = (pod('too-big')?.status as { conditions?: { type: string; status: string; reason?: string; message?: string }[] })?.conditions?.find((c) => c.type === 'PodScheduled');
      expect(condition).toMatchObject({ status: 'False', reason: 'Unschedulable', message: expected });
    });
    expect(phaseOf('too-big')).toBe('Pending');
    const events = store.list(BUILTINS.events, { namespace: 'default' }).items;
    expect(events.find((e) => e.reason === 'FailedScheduling')).toMatchObject({ type: 'Warning', message: expected, involvedObject: { name: 'too-big', kind: 'Pod' } });
  });

  it('an untolerated-taint message names the taint, and a pending pod is placed once a node frees up', async () => {
    store.create(BUILTINS.pods, gpuPod('first', 8, { nodeSelector: { 'kubernetes.io/hostname': 'dgx-a100-01' } }));
    store.create(BUILTINS.pods, gpuPod('second', 8, { nodeSelector: { 'kubernetes.io/hostname': 'dgx-a100-01' } }));
    await vi.waitFor(() => expect(phaseOf('first')).toBe('Running'));
    await vi.waitFor(() => expect((pod('second')?.status as { conditions?: { message?: string }[] })?.conditions?.[0]?.message).toContain(
      "0/4 nodes are available: 1 Insufficient nvidia.com/gpu, 3 node(s) didn't match Pod's node affinity/selector."));
    store.delete(BUILTINS.pods, 'default', 'first');
    await vi.waitFor(() => expect(phaseOf('second')).toBe('Running'));
    expect(nodeOf('second')).toBe('dgx-a100-01');
  });

  it('a Running pod is Ready with IPs, container statuses and a start time', async () => {
    store.create(BUILTINS.pods, plainPod('web'));
    await vi.waitFor(() => expect(phaseOf('web')).toBe('Running'));
    const status = pod('web')?.status as Record<string, unknown> & { conditions: { type: string; status: string }[]; containerStatuses: { ready: boolean }[] };
    expect(Object.fromEntries(status.conditions.map((c) => [c.type, c.status]))).toMatchObject({ Initialized: 'True', ContainersReady: 'True', Ready: 'True', PodScheduled: 'True' });
    expect(status.podIP).toMatch(/^10\.244\.\d+\.\d+$/);
    expect(status.hostIP).toMatch(/^10\.0\.0\.\d+$/);
    expect(status.startTime).toBeTypeOf('string');
    expect(status.containerStatuses[0]?.ready).toBe(true);
  });

  it('a paused kubelet leaves bound pods Pending until resumed', async () => {
    sim.pauseKubelet();
    store.create(BUILTINS.pods, plainPod('held'));
    await vi.waitFor(() => expect(nodeOf('held')).toBeDefined());
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(phaseOf('held')).toBe('Pending');
    sim.resumeKubelet();
    await vi.waitFor(() => expect(phaseOf('held')).toBe('Running'));
  });

  it('pods annotated with a run time succeed, or fail when asked to', async () => {
    const annotated = (name: string, annotations: Record<string, string>) => ({
      ...plainPod(name), metadata: { name, namespace: 'default', annotations },
      spec: { ...(plainPod(name).spec as object), restartPolicy: 'Never' },
    });
    store.create(BUILTINS.pods, annotated('ok', { 'devcluster.sde.london/run-seconds': '0.01' }));
    store.create(BUILTINS.pods, annotated('bad', { 'devcluster.sde.london/run-seconds': '0.01', 'devcluster.sde.london/fail': 'true' }));
    await vi.waitFor(() => expect([phaseOf('ok'), phaseOf('bad')]).toEqual(['Succeeded', 'Failed']));
    const terminated = (pod('bad')?.status as { containerStatuses: { state: { terminated?: { exitCode: number } } }[] }).containerStatuses[0]?.state.terminated;
    expect(terminated?.exitCode).toBe(1);
  });

  it('deleting a pod held by a finalizer stops its containers; it goes once the finalizer is removed', async () => {
    store.create(BUILTINS.pods, { ...plainPod('held-open'), metadata: { name: 'held-open', namespace: 'default', finalizers: ['sde.london/audit'] } });
    await vi.waitFor(() => expect(phaseOf('held-open')).toBe('Running'));
    store.delete(BUILTINS.pods, 'default', 'held-open');
    await vi.waitFor(() => expect(phaseOf('held-open')).toBe('Succeeded'));
    const status = pod('held-open')?.status as { conditions: { type: string; status: string }[]; containerStatuses: { state: { terminated?: unknown } }[] };
    expect(status.conditions.find((c) => c.type === 'Ready')?.status).toBe('False');
    expect(status.containerStatuses[0]?.state.terminated).toBeDefined();
    const released = pod('held-open')!;
    released.metadata.finalizers = [];
    store.update(BUILTINS.pods, released);
    await vi.waitFor(() => expect(pod('held-open')).toBeUndefined());
  });

  it('cordoned CPU nodes leave a plain pod Pending; uncordoning one places it', async () => {
    const cordon = (name: string, unschedulable: boolean) => {
      const node = store.get(BUILTINS.nodes, undefined, name)!;
      (node.spec as { unschedulable?: boolean }).unschedulable = unschedulable;
      store.update(BUILTINS.nodes, node);
    };
    cordon('cpu-01', true);
    cordon('cpu-02', true);
    store.create(BUILTINS.pods, plainPod('waiting'));
    await vi.waitFor(() => expect((pod('waiting')?.status as { conditions?: { message?: string }[] })?.conditions?.[0]?.message).toBe(
      '0/4 nodes are available: 2 node(s) had untolerated taint {nvidia.com/gpu: present}, 2 node(s) were unschedulable. '
      + 'preemption: 0/4 nodes are available: 4 Preemption is not helpful for scheduling.'));
    cordon('cpu-02', false);
    await vi.waitFor(() => expect(phaseOf('waiting')).toBe('Running'));
    expect(nodeOf('waiting')).toBe('cpu-02');
  });

  it('a pod with scheduling gates waits, SchedulingGated, until the gates are removed', async () => {
    store.create(BUILTINS.pods, { ...plainPod('gated'), spec: { ...(plainPod('gated').spec as object), schedulingGates: [{ name: 'sde.london/data-approval' }] } });
    await vi.waitFor(() => expect(pod('gated')?.status).toMatchObject({ phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', reason: 'SchedulingGated' }] }));
    const ungated = pod('gated')!;
    delete (ungated.spec as { schedulingGates?: unknown }).schedulingGates;
    store.update(BUILTINS.pods, ungated);
    await vi.waitFor(() => expect(phaseOf('gated')).toBe('Running'));
  });

  it('a failing container that may restart goes into CrashLoopBackOff, not Ready, and comes back after the back-off', async () => {
    store.create(BUILTINS.pods, {
      ...plainPod('crashy'),
      metadata: { name: 'crashy', namespace: 'default', annotations: { 'devcluster.sde.london/run-seconds': '0.05', 'devcluster.sde.london/fail': 'true' } },
    });
    type Status = { phase: string; conditions: { type: string; status: string; reason?: string }[]; containerStatuses: { restartCount: number; state: { waiting?: { reason: string }; running?: unknown }; lastState: { terminated?: { exitCode: number } } }[] };
    const statusOf = () => pod('crashy')?.status as Status;
    await vi.waitFor(() => expect(statusOf().containerStatuses[0]?.state.waiting?.reason).toBe('CrashLoopBackOff'));
    expect(statusOf().phase).toBe('Running');
    expect(statusOf().conditions.find((c) => c.type === 'Ready')).toMatchObject({ status: 'False', reason: 'ContainersNotReady' });
    expect(statusOf().containerStatuses[0]?.lastState.terminated?.exitCode).toBe(1);
    await vi.waitFor(() => expect(statusOf().containerStatuses[0]?.restartCount).toBeGreaterThanOrEqual(2));
  });
});
