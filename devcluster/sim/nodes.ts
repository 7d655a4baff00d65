// The simulated site's nodes: their specs (from a flag/file or the default trust-site shape) and
// the Node objects the store holds for them.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { timestamp } from '../store/timestamps.ts';
import type { KubeObject } from '../store/types.ts';

const quantity = z.union([z.string().min(1), z.number().nonnegative()]).transform(String);

const nodeSpecSchema = z.object({
  name: z.string().regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, 'a DNS subdomain such as dgx-a100-01'),
  labels: z.record(z.string(), z.string()).default({}),
  taints: z.array(z.object({
    key: z.string().min(1),
    value: z.string().optional(),
    effect: z.enum(['NoSchedule', 'PreferNoSchedule', 'NoExecute']),
  })).default([]),
  allocatable: z.object({ cpu: quantity, memory: quantity, pods: quantity.default('110') }).catchall(quantity),
});

const nodeListSchema = z.array(nodeSpecSchema);

/** One simulated node: name, labels, taints and what it offers (cpu, memory, pods, GPUs...). */
export type NodeSpec = z.output<typeof nodeSpecSchema>;

/** Thrown when a nodes file cannot be read or does not describe nodes; says which field is wrong. */
export class InvalidNodesFileError extends Error {
  override readonly name = 'InvalidNodesFileError';
}

const DGX_A100_LABELS: Record<string, string> = {
  'nvidia.com/gpu.present': 'true',
  'nvidia.com/gpu.product': 'NVIDIA-A100-SXM4-80GB',
  'nvidia.com/gpu.count': '8',
  'nvidia.com/gpu.memory': '81920',
  'nvidia.com/gpu.family': 'ampere',
  'nvidia.com/gpu.compute.major': '8',
  'nvidia.com/gpu.compute.minor': '0',
  'nvidia.com/gpu.machine': 'DGXA100-920-23687-2530-000',
  'nvidia.com/gpu.replicas': '1',
  'nvidia.com/gpu.sharing-strategy': 'none',
  'nvidia.com/mig.capable': 'true',
  'nvidia.com/mig.strategy': 'single',
  'nvidia.com/cuda.driver.major': '550',
  'node.kubernetes.io/instance-type': 'dgx-a100',
};

function dgxA100(name: string, pods: number): NodeSpec {
  return {
    name,
    labels: { ...DGX_A100_LABELS },
    taints: [{ key: 'nvidia.com/gpu', value: 'present', effect: 'NoSchedule' }],
    allocatable: { cpu: '256', memory: '2Ti', pods: String(pods), 'nvidia.com/gpu': '8', 'ephemeral-storage': '15Ti' },
  };
}

function cpuNode(name: string, pods: number): NodeSpec {
  return {
    name,
    labels: { 'node.kubernetes.io/instance-type': 'cpu-standard' },
    taints: [],
    allocatable: { cpu: '64', memory: '256Gi', pods: String(pods), 'ephemeral-storage': '2Ti' },
  };
}

/**
 * A trust site of `dgx` DGX A100 nodes (`dgx-a100-01`...) and `cpu` CPU nodes (`cpu-01`...),
 * each taking `podsPerNode` pods (kubelet's default 110; raise it for benchmarks with thousands
 * of pods, since the default site holds only 220 pods that tolerate no GPU taint).
 */
export function siteNodes(opts: { dgx?: number; cpu?: number; podsPerNode?: number } = {}): NodeSpec[] {
  const pods = opts.podsPerNode ?? 110;
  const numbered = (prefix: string, count: number) => Array.from({ length: count }, (_, i) => `${prefix}-${String(i + 1).padStart(2, '0')}`);
  return [
    ...numbered('dgx-a100', opts.dgx ?? 2).map((name) => dgxA100(name, pods)),
    ...numbered('cpu', opts.cpu ?? 2).map((name) => cpuNode(name, pods)),
  ];
}

/** The default site: a trust's two DGX A100 nodes (8 GPUs each, tainted) and two CPU nodes. */
export const DEFAULT_SITE_NODES: readonly NodeSpec[] = Object.freeze(siteNodes());

/** Validates node specs given as a list or `{nodes: [...]}`; throws InvalidNodesFileError naming the field. */
export function parseNodeSpecs(data: unknown, source = 'nodes'): NodeSpec[] {
  const wrapped = typeof data === 'object' && data !== null && !Array.isArray(data) && 'nodes' in data;
  const parsed = nodeListSchema.safeParse(wrapped ? (data as { nodes: unknown }).nodes : data);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const path = [...(wrapped ? ['nodes'] : []), ...(issue?.path ?? [])];
    const where = path.length > 0 ? path.join('.') : '(top level)';
    throw new InvalidNodesFileError(`${source}: expected a list of nodes {name, labels, taints, allocatable}; at ${where}: ${issue?.message ?? 'invalid'}`);
  }
  const names = new Set<string>();
  for (const node of parsed.data) {
    if (names.has(node.name)) throw new InvalidNodesFileError(`${source}: expected unique node names, found "${node.name}" twice`);
    names.add(node.name);
  }
  return parsed.data;
}

/** Reads a YAML or JSON nodes file (the `--nodes FILE` flag). */
export async function loadNodeSpecs(path: string): Promise<NodeSpec[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new InvalidNodesFileError(`expected a readable nodes file at ${path}, found: ${(error as Error).message}`);
  }
  let data: unknown;
  try {
    data = parseYaml(text);
  } catch (error) {
    throw new InvalidNodesFileError(`${path}: expected YAML or JSON, found: ${(error as Error).message}`);
  }
  return parseNodeSpecs(data, path);
}

/** The Ready Node object for a spec; `index` gives it stable addresses (10.0.0.x, pod CIDR 10.244.x.0/24). */
export function nodeObject(spec: NodeSpec, index: number, now = new Date()): KubeObject {
  const at = timestamp(now);
  const condition = (type: string, status: string, reason: string, message: string) =>
    ({ type, status, reason, message, lastHeartbeatTime: at, lastTransitionTime: at });
  const resources = { ...spec.allocatable } as Record<string, string>;
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name: spec.name,
      labels: {
        'beta.kubernetes.io/arch': 'amd64',
        'beta.kubernetes.io/os': 'linux',
        'kubernetes.io/arch': 'amd64',
        'kubernetes.io/os': 'linux',
        'kubernetes.io/hostname': spec.name,
        ...spec.labels,
      },
      annotations: { 'node.alpha.kubernetes.io/ttl': '0', 'devcluster.sde.london/simulated': 'true' },
    },
    spec: {
      podCIDR: podCidr(index),
      podCIDRs: [podCidr(index)],
      providerID: `devcluster://${spec.name}`,
      ...(spec.taints.length > 0 ? { taints: spec.taints.map((taint) => ({ ...taint })) } : {}),
    },
    status: {
      capacity: resources,
      allocatable: { ...resources },
      conditions: [
        condition('MemoryPressure', 'False', 'KubeletHasSufficientMemory', 'kubelet has sufficient memory available'),
        condition('DiskPressure', 'False', 'KubeletHasNoDiskPressure', 'kubelet has no disk pressure'),
        condition('PIDPressure', 'False', 'KubeletHasSufficientPID', 'kubelet has sufficient PID available'),
        condition('Ready', 'True', 'KubeletReady', 'kubelet is posting ready status'),
      ],
      addresses: [{ type: 'InternalIP', address: nodeAddress(index) }, { type: 'Hostname', address: spec.name }],
      daemonEndpoints: { kubeletEndpoint: { Port: 10250 } },
      nodeInfo: {
        machineID: machineId(spec.name), systemUUID: machineId(`uuid/${spec.name}`), bootID: machineId(`boot/${spec.name}`),
        kernelVersion: '6.8.0-devcluster', osImage: 'Simulated by the SDE devcluster',
        containerRuntimeVersion: 'devcluster://simulated', kubeletVersion: 'v1.32.0-devcluster',
        kubeProxyVersion: '', operatingSystem: 'linux', architecture: 'amd64',
      },
    },
  };
}

/** Where kubelets keep their heartbeat Leases. */
export const NODE_LEASE_NAMESPACE = 'kube-node-lease';

/** The node's heartbeat Lease, owned by the Node as the kubelet makes it. */
export function nodeLease(node: KubeObject, now = new Date()): KubeObject {
  return {
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: {
      name: node.metadata.name,
      namespace: NODE_LEASE_NAMESPACE,
      ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name: node.metadata.name, uid: node.metadata.uid ?? '' }],
    },
    spec: { holderIdentity: node.metadata.name, leaseDurationSeconds: 40, renewTime: now.toISOString().replace('Z', '000Z') },
  };
}

/** The InternalIP of the node at `index`. */
function nodeAddress(index: number): string {
  return `10.0.${Math.floor(index / 250)}.${(index % 250) + 2}`;
}

function machineId(seed: string): string {
  return createHash('sha256').update(seed).digest('hex').slice(0, 32);
}

function podCidr(index: number): string {
  return `10.${244 + Math.floor(index / 256)}.${index % 256}.0/24`;
}
