// A fleet of generated enclaves for benchmarks and chaos runs: each derived from the cardiac MRI
// example with a unique name, two CPU-only workspaces, and a simulated site large enough to run them.
import { readFileSync } from 'node:fs';
import type { KubernetesObject } from '@kubernetes/client-node';
import { parse } from 'yaml';
import { siteConfig } from '../../api/siteconfig.ts';
import type { SiteConfig } from '../../api/siteconfig.ts';
import type { NodeSpec } from '../../devcluster/sim/index.ts';

/** The project's root folder. */
export const ROOT = new URL('../../', import.meta.url);

/** A manifest as plain JSON with a spec. */
export type Manifest = KubernetesObject & { spec: Record<string, unknown>; status?: Record<string, unknown> };

function exampleDoc(file: string): Manifest {
  return parse(readFileSync(new URL(`examples/${file}`, ROOT), 'utf8')) as Manifest;
}

/** The UCLH site configuration the fleet is generated for. */
export const FLEET_SITE: SiteConfig = siteConfig.parse(parse(readFileSync(new URL('examples/site-uclh.yaml', ROOT), 'utf8')));

/** Name of the i-th enclave of a fleet: unique, DNS-safe, sorted by index. */
export function enclaveName(i: number, prefix = 'bench'): string {
  return `${prefix}-${String(i).padStart(4, '0')}`;
}

/** How a fleet is generated: name prefix, and whether each enclave has members of its own. */
export interface FleetOptions {
  prefix?: string;
  /**
   * `shared` (default): every enclave has the example's three members. `own`: each enclave's
   * members are its own (`j.patel+<enclave>@ucl.ac.uk`), plus a data-manager group
   * `<enclave>-data-managers`, so what one enclave's members may do elsewhere can be asked.
   */
  members?: 'shared' | 'own';
  /**
   * `standard` (default): workspaces of 1 CPU and 2 Gi. `small`: 100m and 256 Mi, so that two
   * thousand fit the real control plane's stand-in nodes (64 CPUs each); what the operator does
   * is the same.
   */
  workspaceSize?: 'standard' | 'small';
}

/** A member's user name in the i-th enclave of a fleet generated with `members`. */
export function fleetUser(user: string, i: number, options: FleetOptions = {}): string {
  if (options.members !== 'own') return user;
  const [local, domain] = user.split('@');
  return `${local}+${enclaveName(i, options.prefix)}@${domain}`;
}

/**
 * The i-th enclave: the example's project, members and curated datasets, no GPUs in its quota (so
 * any number of them fits the site's pool), expiring at `expiresAt` (default: end of 2027).
 */
export function fleetEnclave(i: number, options: FleetOptions & { expiresAt?: string } = {}): Manifest {
  const doc = exampleDoc('enclave-cardiac-mri.yaml');
  const spec = structuredClone(doc.spec) as Record<string, Record<string, unknown>>;
  if (options.members === 'own') {
    const members = (spec.members as unknown as { user: string; role: string }[]).map((m) => ({ ...m, user: fleetUser(m.user, i, options) }));
    spec.members = [...members, { group: `${enclaveName(i, options.prefix)}-data-managers`, role: 'data-manager' }] as unknown as Record<string, unknown>;
  }
  spec.project = { ...spec.project, id: `SDE-BENCH-${String(i).padStart(4, '0')}` };
  spec.resources = { ...spec.resources, gpus: 0, cpu: '8', memory: '32Gi' };
  delete spec.resources.gpuProduct;
  if (options.expiresAt) spec.access = { validFrom: '2026-01-01T00:00:00Z', expiresAt: options.expiresAt };
  return { apiVersion: doc.apiVersion, kind: 'Enclave', metadata: { name: enclaveName(i, options.prefix) }, spec };
}

/** The i-th enclave's two workspaces: the lead's RStudio and a researcher's JupyterLab, both CPU-only. */
export function fleetWorkspaces(i: number, options: FleetOptions = {}): Manifest[] {
  const namespace = `sde-${enclaveName(i, options.prefix)}`;
  const resources = options.workspaceSize === 'small' ? { cpu: '100m', memory: '256Mi' } : { cpu: '1', memory: '2Gi' };
  const storage = { home: '1Gi' };
  return [
    { apiVersion: 'sde.london/v1alpha1', kind: 'Workspace', metadata: { name: 'patel-rstudio', namespace }, spec: { owner: fleetUser('j.patel@ucl.ac.uk', i, options), tool: 'rstudio', resources, storage, datasets: ['omop'] } },
    { apiVersion: 'sde.london/v1alpha1', kind: 'Workspace', metadata: { name: 'okafor-jupyter', namespace }, spec: { owner: fleetUser('m.okafor@ucl.ac.uk', i, options), tool: 'jupyterlab', image: 'nexus.sde.uclh.nhs.uk/sde/jupyter-scipy:2025.01', resources, storage, datasets: ['cardiac-mri-curated', 'omop'] } },
  ];
}

/** Simulated nodes for `workspaces` CPU-only workspaces of 1 CPU / 2 Gi each, with room to spare; plus the two DGX nodes. */
export function fleetNodes(workspaces: number): NodeSpec[] {
  const perNode = 250;
  const count = Math.max(2, Math.ceil((workspaces * 1.2) / perNode));
  const cpu: NodeSpec[] = Array.from({ length: count }, (_, k) => ({
    name: `cpu-${String(k + 1).padStart(2, '0')}`,
    labels: { 'node.kubernetes.io/instance-type': 'cpu-large' },
    taints: [],
    allocatable: { cpu: String(perNode), memory: `${perNode * 4}Gi`, pods: String(perNode + 10), 'ephemeral-storage': '20Ti' },
  }));
  const dgx = (name: string): NodeSpec => ({
    name,
    labels: { 'nvidia.com/gpu.present': 'true', 'nvidia.com/gpu.product': 'NVIDIA-A100-SXM4-80GB' },
    taints: [{ key: 'nvidia.com/gpu', value: 'present', effect: 'NoSchedule' }],
    allocatable: { cpu: '256', memory: '2Ti', pods: '110', 'nvidia.com/gpu': '8', 'ephemeral-storage': '15Ti' },
  });
  return [dgx('dgx-a100-01'), dgx('dgx-a100-02'), ...cpu];
}

/** True when an object's `Ready` condition is True. */
export function isReady(object: unknown): boolean {
  const conditions = (object as { status?: { conditions?: { type: string; status: string }[] } } | undefined)?.status?.conditions;
  return conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}
