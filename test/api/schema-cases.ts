// The API's rules as a table of specs, each valid or invalid with the field it fails on. Shared by
// the local comparison of zod and the CRD schema (test/api/schema-cases.test.ts) and the same
// table sent to a real API server (test/e2e/schema-cases.e2e.test.ts).
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';

/** A manifest as plain JSON. */
export type Doc = Record<string, unknown>;
const example = (file: string): Doc => parse(readFileSync(new URL(`../../examples/${file}`, import.meta.url), 'utf8')) as Doc;
/** The checked-in example of each kind, which every case edits. */
export const BASE: Record<string, Doc> = {
  Enclave: example('enclave-cardiac-mri.yaml'),
  Workspace: example('workspace-jupyter-gpu.yaml'),
  FederatedJob: example('federatedjob-nvflare.yaml'),
};

/** A copy of `doc` with a dotted path such as "spec.members[0].role" set to `value` (deleted when undefined). */
export function edit(doc: Doc, path: string, value: unknown): Doc {
  const copy = structuredClone(doc);
  const keys = path.split(/\.|\[(\d+)\]/).filter((k) => k !== undefined && k !== '');
  let node = copy as Record<string, unknown>;
  for (const k of keys.slice(0, -1)) node = node[k] as Record<string, unknown>;
  const last = keys[keys.length - 1] as string;
  if (value === undefined) delete node[last];
  else node[last] = value;
  return copy;
}

/**
 * One spec and its verdict: valid, or invalid naming `field`.
 * decidedBy: 'both' — zod and the CRD schema (OpenAPI + CEL) must give the same verdict and field;
 * 'api-server' — the CRD cannot say it in OpenAPI or CEL (list-map/set uniqueness, metadata name
 * syntax): the API server enforces it itself, zod here.
 * cel: the CRD schema names the field only through an `x-kubernetes-validations` rule, so an API
 * server without CEL (before 1.25) accepts the spec and zod alone refuses it, in the operator.
 */
export interface Case { kind: string; name: string; doc: Doc; valid: boolean; field?: string; decidedBy?: 'both' | 'api-server'; cel?: true }

const E = BASE.Enclave as Doc;
const W = BASE.Workspace as Doc;
const F = BASE.FederatedJob as Doc;
const longName = 'a'.repeat(60);

/** Valid and invalid Enclave, Workspace and FederatedJob specs. */
export const CASES: Case[] = [
  // Enclave: valid
  { kind: 'Enclave', name: 'the cardiac MRI example', doc: E, valid: true },
  { kind: 'Enclave', name: 'no validFrom (access starts at once)', doc: edit(E, 'spec.access.validFrom', undefined), valid: true },
  { kind: 'Enclave', name: 'an approved extension', doc: edit(E, 'spec.access.extensions', [{ until: '2028-06-30T00:00:00Z', justification: 'Reviewer revisions', approvedBy: 'UCLH DAC' }]), valid: true },
  { kind: 'Enclave', name: 'a group member', doc: edit(E, 'spec.members[1]', { group: 'cardiac-imaging-team', role: 'researcher' }), valid: true },
  { kind: 'Enclave', name: 'a catalogue dataset narrowed to read-only', doc: edit(E, 'spec.data[3]', { name: 'scratch', readOnly: true }), valid: true },
  { kind: 'Enclave', name: 'a catalogue dataset asked writable (the site rules decide)', doc: edit(E, 'spec.data[3]', { name: 'scratch', readOnly: false }), valid: true },
  { kind: 'Enclave', name: 'CPU as an integer quantity', doc: edit(E, 'spec.resources.cpu', 8), valid: true },
  { kind: 'Enclave', name: 'no GPUs', doc: edit(E, 'spec.resources.gpus', 0), valid: true },
  { kind: 'Enclave', name: 'auto-provisioned workspaces', doc: edit(E, 'spec.workspaces.autoProvision', { tool: 'rstudio' }), valid: true },
  { kind: 'Enclave', name: 'a 59-character name', doc: edit(E, 'metadata.name', 'a'.repeat(59)), valid: true },
  { kind: 'Enclave', name: 'no members yet', doc: edit(E, 'spec.members', []), valid: true },
  { kind: 'Enclave', name: 'approved extra egress', doc: edit(E, 'spec.network.egress', [{ cidr: '10.40.3.0/28', ports: [{ port: 443 }], reason: 'UK Biobank mirror' }]), valid: true },
  // Enclave: invalid
  { kind: 'Enclave', name: 'expiresAt missing', doc: edit(E, 'spec.access.expiresAt', undefined), valid: false, field: 'spec.access.expiresAt' },
  { kind: 'Enclave', name: 'validFrom after expiresAt', doc: edit(E, 'spec.access.validFrom', '2028-01-01T00:00:00Z'), valid: false, field: 'spec.access.validFrom', cel: true },
  { kind: 'Enclave', name: 'expiresAt not a date-time', doc: edit(E, 'spec.access.expiresAt', 'next tuesday'), valid: false, field: 'spec.access.expiresAt' },
  { kind: 'Enclave', name: 'member with both user and group', doc: edit(E, 'spec.members[0].group', 'team'), valid: false, field: 'spec.members[0]', cel: true },
  { kind: 'Enclave', name: 'member with neither user nor group', doc: edit(E, 'spec.members[0]', { role: 'lead' }), valid: false, field: 'spec.members[0]', cel: true },
  { kind: 'Enclave', name: 'unknown member role', doc: edit(E, 'spec.members[0].role', 'admin'), valid: false, field: 'spec.members[0].role' },
  { kind: 'Enclave', name: 'duplicate dataset names', doc: edit(E, 'spec.data[1].name', 'cardiac-mri-curated'), valid: false, field: 'spec.data[1]', decidedBy: 'api-server' },
  { kind: 'Enclave', name: 'a dataset named with an underscore', doc: edit(E, 'spec.data[0].name', 'cardiac_mri'), valid: false, field: 'spec.data[0].name' },
  { kind: 'Enclave', name: 'a dataset without a name', doc: edit(E, 'spec.data[0]', { readOnly: true }), valid: false, field: 'spec.data[0].name' },
  { kind: 'Enclave', name: 'readOnly in words', doc: edit(E, 'spec.data[0].readOnly', 'yes'), valid: false, field: 'spec.data[0].readOnly' },
  { kind: 'Enclave', name: 'negative GPUs', doc: edit(E, 'spec.resources.gpus', -1), valid: false, field: 'spec.resources.gpus' },
  { kind: 'Enclave', name: 'fractional GPUs', doc: edit(E, 'spec.resources.gpus', 1.5), valid: false, field: 'spec.resources.gpus' },
  { kind: 'Enclave', name: 'CPU not a quantity', doc: edit(E, 'spec.resources.cpu', 'lots'), valid: false, field: 'spec.resources.cpu' },
  { kind: 'Enclave', name: 'negative memory', doc: edit(E, 'spec.resources.memory', '-4Gi'), valid: false, field: 'spec.resources.memory' },
  { kind: 'Enclave', name: 'storage with a unit Kubernetes does not know', doc: edit(E, 'spec.resources.storage', '4TB'), valid: false, field: 'spec.resources.storage' },
  { kind: 'Enclave', name: 'site not a DNS label', doc: edit(E, 'spec.site', 'UCLH'), valid: false, field: 'spec.site' },
  { kind: 'Enclave', name: 'project id with spaces', doc: edit(E, 'spec.project.id', 'SDE 2026 42'), valid: false, field: 'spec.project.id' },
  { kind: 'Enclave', name: 'project title missing', doc: edit(E, 'spec.project.title', undefined), valid: false, field: 'spec.project.title' },
  { kind: 'Enclave', name: 'egress CIDR without a mask', doc: edit(E, 'spec.network.egress', [{ cidr: '0.0.0.0', ports: [{ port: 443 }], reason: 'x' }]), valid: false, field: 'spec.network.egress[0].cidr' },
  { kind: 'Enclave', name: 'egress with no ports', doc: edit(E, 'spec.network.egress', [{ cidr: '10.0.0.0/8', ports: [], reason: 'x' }]), valid: false, field: 'spec.network.egress[0].ports' },
  { kind: 'Enclave', name: 'unknown auto-provision tool', doc: edit(E, 'spec.workspaces.autoProvision', { tool: 'emacs' }), valid: false, field: 'spec.workspaces.autoProvision.tool' },
  { kind: 'Enclave', name: 'idle timeout in words', doc: edit(E, 'spec.workspaces.idleTimeout', '8 hours'), valid: false, field: 'spec.workspaces.idleTimeout' },
  { kind: 'Enclave', name: 'unknown retention policy', doc: edit(E, 'spec.retention.homeVolumes', 'Archive'), valid: false, field: 'spec.retention.homeVolumes' },
  { kind: 'Enclave', name: 'name too long for its namespace', doc: edit(E, 'metadata.name', longName), valid: false, field: 'metadata.name', cel: true },
  { kind: 'Enclave', name: 'name with a dot (a subdomain, not a label)', doc: edit(E, 'metadata.name', 'cardiac.mri'), valid: false, field: 'metadata.name', cel: true },
  { kind: 'Enclave', name: 'name with capitals', doc: edit(E, 'metadata.name', 'Cardiac'), valid: false, field: 'metadata.name', cel: true },
  // Workspace
  { kind: 'Workspace', name: 'the JupyterLab GPU example', doc: W, valid: true },
  { kind: 'Workspace', name: 'the RStudio example', doc: example('workspace-rstudio.yaml'), valid: true },
  { kind: 'Workspace', name: 'a whole DGX node (8 GPUs)', doc: edit(W, 'spec.resources.gpus', 8), valid: true },
  { kind: 'Workspace', name: 'stopped', doc: edit(W, 'spec.state', 'Stopped'), valid: true },
  { kind: 'Workspace', name: 'datasets omitted (all of the enclave\'s)', doc: edit(W, 'spec.datasets', undefined), valid: true },
  { kind: 'Workspace', name: 'nine GPUs in one pod', doc: edit(W, 'spec.resources.gpus', 9), valid: false, field: 'spec.resources.gpus' },
  { kind: 'Workspace', name: 'negative GPUs', doc: edit(W, 'spec.resources.gpus', -1), valid: false, field: 'spec.resources.gpus' },
  { kind: 'Workspace', name: 'unknown tool', doc: edit(W, 'spec.tool', 'emacs'), valid: false, field: 'spec.tool' },
  { kind: 'Workspace', name: 'owner missing', doc: edit(W, 'spec.owner', undefined), valid: false, field: 'spec.owner' },
  { kind: 'Workspace', name: 'unknown state', doc: edit(W, 'spec.state', 'Paused'), valid: false, field: 'spec.state' },
  { kind: 'Workspace', name: 'memory in GB', doc: edit(W, 'spec.resources.memory', '64GB'), valid: false, field: 'spec.resources.memory' },
  { kind: 'Workspace', name: 'home size not a quantity', doc: edit(W, 'spec.storage.home', 'big'), valid: false, field: 'spec.storage.home' },
  { kind: 'Workspace', name: 'dataset name with underscore', doc: edit(W, 'spec.datasets', ['omop_cdm']), valid: false, field: 'spec.datasets[0]' },
  { kind: 'Workspace', name: 'GPU product with spaces', doc: edit(W, 'spec.resources.gpuProduct', 'NVIDIA A100'), valid: false, field: 'spec.resources.gpuProduct' },
  { kind: 'Workspace', name: 'a dataset twice', doc: edit(W, 'spec.datasets', ['omop', 'omop']), valid: false, field: 'spec.datasets[1]', decidedBy: 'api-server' },
  // FederatedJob
  { kind: 'FederatedJob', name: 'the NVFLARE example', doc: F, valid: true },
  { kind: 'FederatedJob', name: 'Flower at one site', doc: edit(edit(F, 'spec.framework', 'flower'), 'spec.sites', ['uclh']), valid: true },
  { kind: 'FederatedJob', name: 'no sites', doc: edit(F, 'spec.sites', []), valid: false, field: 'spec.sites' },
  { kind: 'FederatedJob', name: 'a site twice', doc: edit(F, 'spec.sites', ['uclh', 'uclh']), valid: false, field: 'spec.sites[1]', decidedBy: 'api-server' },
  { kind: 'FederatedJob', name: 'a participant dataset twice', doc: edit(F, 'spec.participant.datasets', ['cardiac-mri-curated', 'cardiac-mri-curated']), valid: false, field: 'spec.participant.datasets[1]', decidedBy: 'api-server' },
  { kind: 'FederatedJob', name: 'zero rounds', doc: edit(F, 'spec.rounds', 0), valid: false, field: 'spec.rounds' },
  { kind: 'FederatedJob', name: 'unknown framework', doc: edit(F, 'spec.framework', 'tensorflow'), valid: false, field: 'spec.framework' },
  { kind: 'FederatedJob', name: 'participant image missing', doc: edit(F, 'spec.participant.image', undefined), valid: false, field: 'spec.participant.image' },
  { kind: 'FederatedJob', name: 'nine GPUs per participant', doc: edit(F, 'spec.participant.resources.gpus', 9), valid: false, field: 'spec.participant.resources.gpus' },
  { kind: 'FederatedJob', name: 'negative backoff limit', doc: edit(F, 'spec.backoffLimit', -1), valid: false, field: 'spec.backoffLimit' },
  { kind: 'FederatedJob', name: 'aggregator endpoint missing', doc: edit(F, 'spec.aggregator.endpoint', undefined), valid: false, field: 'spec.aggregator.endpoint' },
  { kind: 'FederatedJob', name: 'zero deadline', doc: edit(F, 'spec.activeDeadlineSeconds', 0), valid: false, field: 'spec.activeDeadlineSeconds' },
];
