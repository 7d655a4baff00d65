// The simulated cluster seen the way the operator and platform engineers see it: over HTTP, with
// @kubernetes/client-node and the real kubectl, against startDevCluster's default trust site.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import { CoreV1Api, KubeConfig, type V1Pod } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { stringify } from 'yaml';
import { startDevCluster, type DevCluster } from '../../devcluster/index.ts';

const KUBECTL = '/usr/bin/kubectl';
const hasKubectl = existsSync(KUBECTL);
const run = promisify(execFile);
const GPU_TOLERATION = { key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' };
const A100 = { 'nvidia.com/gpu.product': 'NVIDIA-A100-SXM4-80GB' };

describe('simulated trust site over HTTP', () => {
  let cluster: DevCluster;
  let core: CoreV1Api;

  /** Runs kubectl; a failure shows kubectl's own output. */
  async function kubectl(args: string[], stdin?: string): Promise<string> {
    const child = run(KUBECTL, ['--kubeconfig', cluster.kubeconfigPath, ...args], { timeout: 30_000 });
    if (stdin !== undefined) {
      child.child.stdin?.end(stdin);
    }
    try {
      return (await child).stdout;
    } catch (error) {
      const failure = error as { stdout?: string; stderr?: string; message: string };
      throw new Error(`kubectl ${args.join(' ')} failed:\n${failure.stderr ?? ''}${failure.stdout ?? ''}`, { cause: error });
    }
  }

  async function namespace(name: string): Promise<string> {
    await core.createNamespace({ body: { metadata: { name } } });
    return name;
  }

  function gpuPod(name: string, gpus: number, nodeSelector: Record<string, string>, tolerate = true): V1Pod {
    return {
      metadata: { name },
      spec: {
        nodeSelector,
        ...(tolerate ? { tolerations: [GPU_TOLERATION] } : {}),
        containers: [{ name: 'train', image: 'nvcr.io/nvidia/pytorch:24.05-py3', resources: { limits: { 'nvidia.com/gpu': String(gpus) } } }],
      },
    };
  }

  beforeAll(async () => {
    cluster = await startDevCluster({ jobRunMillis: 50 });
    const kc = new KubeConfig();
    kc.loadFromFile(cluster.kubeconfigPath);
    core = kc.makeApiClient(CoreV1Api);
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  it('serves the default site: two tainted DGX A100 nodes with 8 GPUs each and two CPU nodes', async () => {
    const nodes = (await core.listNode()).items;
    const gpus = Object.fromEntries(nodes.map((n) => [n.metadata?.name, n.status?.allocatable?.['nvidia.com/gpu'] ?? '0']));
    expect(gpus).toEqual({ 'cpu-01': '0', 'cpu-02': '0', 'dgx-a100-01': '8', 'dgx-a100-02': '8' });
    const dgx = nodes.find((n) => n.metadata?.name === 'dgx-a100-02');
    expect(dgx?.metadata?.labels).toMatchObject({ ...A100, 'nvidia.com/gpu.count': '8' });
    expect(dgx?.spec?.taints).toEqual([{ key: 'nvidia.com/gpu', value: 'present', effect: 'NoSchedule' }]);
    expect(nodes.every((n) => n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'))).toBe(true);
  });

  it('eight one-GPU pods fill one DGX node and a ninth with the gpu.product selector lands on the other', async () => {
    const ns = await namespace('gpu-fill');
    for (let i = 1; i <= 8; i += 1) {
      await core.createNamespacedPod({ namespace: ns, body: gpuPod(`shard-${i}`, 1, { ...A100, 'kubernetes.io/hostname': 'dgx-a100-01' }) });
    }
    await vi.waitFor(async () => {
      const running = (await core.listNamespacedPod({ namespace: ns, fieldSelector: 'status.phase=Running' })).items;
      expect(running).toHaveLength(8);
    });
    const onFirst = (await core.listNamespacedPod({ namespace: ns, fieldSelector: 'spec.nodeName=dgx-a100-01' })).items;
    expect(onFirst).toHaveLength(8);
    await core.createNamespacedPod({ namespace: ns, body: gpuPod('shard-9', 1, A100) });
    await vi.waitFor(async () => {
      const ninth = await core.readNamespacedPod({ name: 'shard-9', namespace: ns });
      expect(ninth.status?.phase).toBe('Running');
      expect(ninth.spec?.nodeName).toBe('dgx-a100-02');
    });
    await core.deleteCollectionNamespacedPod({ namespace: ns });
  });

  // TaintToleration runs before NodeAffinity, so the untargeted DGX node reports its taint too.
  it('a pod without the GPU toleration never lands on a DGX node, even when it asks for one by name', async () => {
    const ns = await namespace('no-toleration');
    for (let i = 0; i < 6; i += 1) {
      await core.createNamespacedPod({ namespace: ns, body: { metadata: { name: `web-${i}` }, spec: { containers: [{ name: 'web', image: 'nginx:1.27' }] } } });
    }
    await core.createNamespacedPod({ namespace: ns, body: gpuPod('pinned', 0, { 'kubernetes.io/hostname': 'dgx-a100-01' }, false) });
    await vi.waitFor(async () => {
      const pods = (await core.listNamespacedPod({ namespace: ns })).items;
      expect(pods.filter((p) => p.status?.phase === 'Running')).toHaveLength(6);
    });
    const placed = (await core.listNamespacedPod({ namespace: ns })).items.filter((p) => p.spec?.nodeName).map((p) => p.spec?.nodeName);
    expect(placed.every((node) => node === 'cpu-01' || node === 'cpu-02')).toBe(true);
    await vi.waitFor(async () => {
      const pinned = await core.readNamespacedPod({ name: 'pinned', namespace: ns });
      expect(pinned.status?.conditions?.find((c) => c.type === 'PodScheduled')?.message).toBe(
        "0/4 nodes are available: 2 node(s) didn't match Pod's node affinity/selector, 2 node(s) had untolerated taint {nvidia.com/gpu: present}. "
        + 'preemption: 0/4 nodes are available: 4 Preemption is not helpful for scheduling.');
    });
    await core.deleteCollectionNamespacedPod({ namespace: ns });
  });

  it.skipIf(!hasKubectl)('a pod asking for nine GPUs stays Pending as Unschedulable, and kubectl describe shows why', async () => {
    const ns = await namespace('too-big');
    await kubectl(['apply', '-n', ns, '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'Pod', ...gpuPod('nine-gpus', 9, {}) }));
    await kubectl(['wait', '-n', ns, '--for=condition=PodScheduled=False', 'pod/nine-gpus', '--timeout=20s']);
    const expected = '0/4 nodes are available: 4 Insufficient nvidia.com/gpu. preemption: 0/4 nodes are available: 4 No preemption victims found for incoming pod.';
    const reason = await kubectl(['get', '-n', ns, 'pod/nine-gpus', '-o', 'jsonpath={.status.phase} {.status.conditions[?(@.type=="PodScheduled")].reason}']);
    expect(reason).toBe('Pending Unschedulable');
    const message = await kubectl(['get', '-n', ns, 'pod/nine-gpus', '-o', 'jsonpath={.status.conditions[?(@.type=="PodScheduled")].message}']);
    expect(message).toBe(expected);
    const described = await kubectl(['describe', '-n', ns, 'pod/nine-gpus']);
    expect(described).toMatch(/Warning\s+FailedScheduling\s+\S+\s+default-scheduler\s+0\/4 nodes are available: 4 Insufficient nvidia\.com\/gpu\./);
  });

  it.skipIf(!hasKubectl)('a Deployment rolls out to readyReplicas, rolls back to its old ReplicaSet, and deleting it removes its ReplicaSets and pods', async () => {
    const ns = await namespace('deployments');
    await kubectl(['apply', '-n', ns, '-f', '-'], JSON.stringify({
      apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'gateway' },
      spec: { replicas: 2, selector: { matchLabels: { app: 'gateway' } }, template: { metadata: { labels: { app: 'gateway' } }, spec: { containers: [{ name: 'gw', image: 'nginx:1.27' }] } } },
    }));
    await kubectl(['rollout', 'status', '-n', ns, 'deployment/gateway', '--timeout=20s']);
    expect(await kubectl(['get', '-n', ns, 'deployment/gateway', '-o', 'jsonpath={.status.readyReplicas}/{.status.availableReplicas}'])).toBe('2/2');
    await kubectl(['wait', '-n', ns, '--for=condition=Available', 'deployment/gateway', '--timeout=20s']);
    expect((await kubectl(['get', '-n', ns, 'pods', '-l', 'app=gateway', '-o', 'name'])).trim().split('\n')).toHaveLength(2);
    await kubectl(['set', 'image', '-n', ns, 'deployment/gateway', 'gw=nginx:1.28']);
    await kubectl(['rollout', 'status', '-n', ns, 'deployment/gateway', '--timeout=20s']);
    await kubectl(['rollout', 'undo', '-n', ns, 'deployment/gateway']);
    await kubectl(['rollout', 'status', '-n', ns, 'deployment/gateway', '--timeout=20s']);
    const sets = await kubectl(['get', '-n', ns, 'replicasets', '-o', 'jsonpath={range .items[*]}{.spec.template.spec.containers[0].image}={.spec.replicas} {end}']);
    expect(sets.trim().split(' ').sort()).toEqual(['nginx:1.27=2', 'nginx:1.28=0']);
    await kubectl(['delete', '-n', ns, 'deployment/gateway', '--wait=true']);
    await vi.waitFor(async () => {
      expect(await kubectl(['get', '-n', ns, 'replicasets,pods', '-o', 'name'])).toBe('');
    });
  });

  it.skipIf(!hasKubectl)('a StatefulSet creates its pod and claim; scaling to 0 removes the pod but keeps the claim', async () => {
    const ns = await namespace('statefulsets');
    await kubectl(['apply', '-n', ns, '-f', '-'], JSON.stringify({
      apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name: 'ws-alice' },
      spec: {
        serviceName: 'ws-alice', replicas: 1, selector: { matchLabels: { app: 'ws-alice' } },
        template: { metadata: { labels: { app: 'ws-alice' } }, spec: { containers: [{ name: 'lab', image: 'jupyter/base-notebook:2024' }] } },
        volumeClaimTemplates: [{ metadata: { name: 'home' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '20Gi' } } } }],
      },
    }));
    await kubectl(['wait', '-n', ns, "--for=jsonpath={.status.readyReplicas}=1", 'statefulset/ws-alice', '--timeout=20s']);
    await kubectl(['wait', '-n', ns, '--for=condition=Ready', 'pod/ws-alice-0', '--timeout=20s']);
    await kubectl(['wait', '-n', ns, '--for=jsonpath={.status.phase}=Bound', 'pvc/home-ws-alice-0', '--timeout=20s']);
    await kubectl(['scale', '-n', ns, 'statefulset/ws-alice', '--replicas=0']);
    await kubectl(['wait', '-n', ns, '--for=delete', 'pod/ws-alice-0', '--timeout=20s']);
    await kubectl(['wait', '-n', ns, "--for=jsonpath={.status.replicas}=0", 'statefulset/ws-alice', '--timeout=20s']);
    expect(await kubectl(['get', '-n', ns, 'pvc/home-ws-alice-0', '-o', 'jsonpath={.status.phase} {.status.capacity.storage}'])).toBe('Bound 20Gi');
  });

  it.skipIf(!hasKubectl)('Jobs: one completes, a failing one hits backoffLimit, a suspended one has no pods', async () => {
    const ns = await namespace('jobs');
    const job = (name: string, spec: Record<string, unknown>, annotations: Record<string, string> = {}) => ({
      apiVersion: 'batch/v1', kind: 'Job', metadata: { name },
      spec: { ...spec, template: { metadata: { annotations }, spec: { restartPolicy: 'Never', containers: [{ name: 'fl', image: 'nvflare/nvflare:2.5' }] } } },
    });
    const jobs = [
      job('round-1', { completions: 2, parallelism: 2 }),
      job('broken', { backoffLimit: 1 }, { 'devcluster.sde.london/fail': 'true' }),
      job('paused', { suspend: true }),
    ];
    await kubectl(['apply', '-n', ns, '-f', '-'], jobs.map((j) => stringify(j)).join('---\n'));
    await kubectl(['wait', '-n', ns, '--for=condition=Complete', 'job/round-1', '--timeout=20s']);
    expect(await kubectl(['get', '-n', ns, 'job/round-1', '-o', 'jsonpath={.status.succeeded}'])).toBe('2');
    await kubectl(['wait', '-n', ns, '--for=condition=Failed', 'job/broken', '--timeout=20s']);
    expect(await kubectl(['get', '-n', ns, 'job/broken', '-o', 'jsonpath={.status.failed} {.status.conditions[?(@.type=="Failed")].reason}'])).toBe('2 BackoffLimitExceeded');
    await kubectl(['wait', '-n', ns, '--for=condition=Suspended', 'job/paused', '--timeout=20s']);
    expect(await kubectl(['get', '-n', ns, 'pods', '-l', 'job-name=paused', '-o', 'name'])).toBe('');
  });
});

describe('simulation options through startDevCluster', () => {
  let cluster: DevCluster | undefined;
  afterAll(async () => {
    await cluster?.stop();
  });

  it.each([
    ['LeastAllocated', true, 2],
    ['MostAllocated', false, 1],
  ] as const)('with %s scoring and events %s, two CPU pods share %d node(s)', async (scoring, events, nodesUsed) => {
    await cluster?.stop();
    cluster = await startDevCluster({ scoring, events });
    const kc = new KubeConfig();
    kc.loadFromFile(cluster.kubeconfigPath);
    const core = kc.makeApiClient(CoreV1Api);
    const ns = 'sde-options';
    await core.createNamespace({ body: { metadata: { name: ns } } });
    for (const name of ['a', 'b']) {
      await core.createNamespacedPod({ namespace: ns, body: { metadata: { name }, spec: { containers: [{ name: 'main', image: 'busybox', resources: { requests: { cpu: '1' } } }] } } });
    }
    const nodes = await vi.waitFor(async () => {
      const pods = (await core.listNamespacedPod({ namespace: ns })).items;
      expect(pods.every((p) => p.spec?.nodeName !== undefined)).toBe(true);
      return new Set(pods.map((p) => p.spec?.nodeName));
    });
    expect(nodes.size).toBe(nodesUsed);
    const scheduled = (await core.listNamespacedEvent({ namespace: ns })).items.filter((e) => e.reason === 'Scheduled');
    expect(scheduled).toHaveLength(events ? 2 : 0);
  });
});
