import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_SITE_NODES, InvalidNodesFileError, loadNodeSpecs, nodeObject, parseNodeSpecs, siteNodes } from '../../devcluster/sim/nodes.ts';

describe('simulated nodes', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sim-nodes-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('the default site is two tainted DGX A100 nodes with 8 GPUs and two CPU nodes', () => {
    expect(DEFAULT_SITE_NODES.map((n) => n.name)).toEqual(['dgx-a100-01', 'dgx-a100-02', 'cpu-01', 'cpu-02']);
    const [dgx, , cpu] = DEFAULT_SITE_NODES;
    expect(dgx?.allocatable).toMatchObject({ 'nvidia.com/gpu': '8', cpu: '256', memory: '2Ti' });
    expect(dgx?.labels).toMatchObject({ 'nvidia.com/gpu.present': 'true', 'nvidia.com/gpu.product': 'NVIDIA-A100-SXM4-80GB', 'nvidia.com/gpu.count': '8', 'nvidia.com/gpu.memory': '81920' });
    expect(dgx?.taints).toEqual([{ key: 'nvidia.com/gpu', value: 'present', effect: 'NoSchedule' }]);
    expect(cpu?.allocatable['nvidia.com/gpu']).toBeUndefined();
    expect(cpu?.taints).toEqual([]);
  });

  it('builds bigger sites for benchmarks: more nodes, more pods per node', () => {
    const site = siteNodes({ dgx: 3, cpu: 10, podsPerNode: 500 });
    expect(site.map((n) => n.name)).toEqual(['dgx-a100-01', 'dgx-a100-02', 'dgx-a100-03', ...Array.from({ length: 10 }, (_, i) => `cpu-${String(i + 1).padStart(2, '0')}`)]);
    expect(new Set(site.map((n) => n.allocatable.pods))).toEqual(new Set(['500']));
  });

  it('loads a YAML nodes file, defaulting labels, taints and pods', async () => {
    const file = join(dir, 'nodes.yaml');
    await writeFile(file, 'nodes:\n  - name: gpu-h100-01\n    allocatable: {cpu: 112, memory: 2Ti, nvidia.com/gpu: 8}\n');
    const [node] = await loadNodeSpecs(file);
    expect(node).toEqual({ name: 'gpu-h100-01', labels: {}, taints: [], allocatable: { cpu: '112', memory: '2Ti', pods: '110', 'nvidia.com/gpu': '8' } });
  });

  it('loads a JSON list', async () => {
    const file = join(dir, 'nodes.json');
    await writeFile(file, JSON.stringify([{ name: 'a', allocatable: { cpu: '1', memory: '1Gi' } }]));
    expect((await loadNodeSpecs(file)).map((n) => n.name)).toEqual(['a']);
  });

  it.each([
    [[{ name: 'x' }], /at 0\.allocatable/],
    [[{ name: 'Bad_Name', allocatable: { cpu: '1', memory: '1Gi' } }], /at 0\.name/],
    [[{ name: 'x', allocatable: { cpu: '1', memory: '1Gi' }, taints: [{ key: 'k', effect: 'Sometimes' }] }], /at 0\.taints\.0\.effect/],
    [[{ name: 'x', allocatable: { cpu: '1', memory: '1Gi' } }, { name: 'x', allocatable: { cpu: '1', memory: '1Gi' } }], /"x" twice/],
    ['just text', /expected a list of nodes/],
  ])('rejects %j with a message naming the problem', (data, message) => {
    expect(() => parseNodeSpecs(data)).toThrow(InvalidNodesFileError);
    expect(() => parseNodeSpecs(data)).toThrow(message);
  });

  it('reports a missing file as an InvalidNodesFileError', async () => {
    await expect(loadNodeSpecs(join(dir, 'absent.yaml'))).rejects.toThrow(InvalidNodesFileError);
  });

  it('a Node object is Ready, with capacity, addresses and the hostname label', () => {
    const node = nodeObject(DEFAULT_SITE_NODES[2]!, 2);
    const status = node.status as { conditions: { type: string; status: string }[]; allocatable: Record<string, string>; addresses: { type: string; address: string }[] };
    expect(status.conditions.find((c) => c.type === 'Ready')?.status).toBe('True');
    expect(status.allocatable).toMatchObject({ cpu: '64', memory: '256Gi', pods: '110' });
    expect(status.addresses).toContainEqual({ type: 'InternalIP', address: '10.0.0.4' });
    expect(node.metadata.labels?.['kubernetes.io/hostname']).toBe('cpu-01');
  });
});
