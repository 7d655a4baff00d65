import { describe, expect, it } from 'vitest';
import type { V1NetworkPolicy, V1PolicyRule } from '@kubernetes/client-node';
import { enclaveNamespace } from '../../api/enclave.ts';
import { workspace as workspaceSchema } from '../../api/workspace.ts';
import { renderEnclave, renderFederatedJob, renderWorkspace } from '../../constructs/index.ts';
import { workspacePodSelector } from '../../constructs/workspace.ts';
import { AUTO_PROVISIONED, DATA, ENCLAVE, FEDERATED_JOB, MANAGED_BY, PART_OF, PROJECT, SITE, WORKSPACE } from '../../constructs/labels.ts';
import type { KubeObject } from '../../constructs/objects.ts';
import { NETWORK_POLICY_NAMES } from '../../constructs/network.ts';
import { ROLE_RULES } from '../../constructs/rbac.ts';
import { cardiacEnclave, find, jupyterWorkspace, nvflareJob, ofKind, rstudioWorkspace, uclhSite } from './fixtures.ts';
import { podTemplates } from './pods.ts';

const active = { accessActive: true };
const inactive = { accessActive: false };

function expectCommonLabels(objects: KubeObject[]): void {
  for (const o of objects) {
    expect(o.metadata.labels, `${o.kind} ${o.metadata.name}`).toMatchObject({
      [MANAGED_BY]: 'sde-operator',
      [PART_OF]: 'sde-enclave-operator',
      [ENCLAVE]: 'cardiac-mri',
      [SITE]: 'uclh',
      [PROJECT]: 'SDE-2026-0042',
    });
  }
}

describe('renderEnclave', () => {
  const site = uclhSite();
  const objects = renderEnclave(cardiacEnclave(), site, active);

  it('puts the namespace first and the network policies before any other object', () => {
    const kinds = objects.map((o) => o.kind);
    expect(kinds[0]).toBe('Namespace');
    const lastPolicy = kinds.lastIndexOf('NetworkPolicy');
    expect(kinds.slice(1, lastPolicy + 1).every((k) => k === 'NetworkPolicy')).toBe(true);
    expect(kinds.slice(lastPolicy + 1)).not.toContain('NetworkPolicy');
    expect(objects[1]?.metadata.name).toBe(NETWORK_POLICY_NAMES.defaultDeny);
  });

  it('holds the namespace to Pod Security restricted', () => {
    const ns = find(objects, 'Namespace', 'sde-cardiac-mri');
    for (const mode of ['enforce', 'audit', 'warn']) expect(ns.metadata.labels?.[`pod-security.kubernetes.io/${mode}`]).toBe('restricted');
  });

  it('denies ingress and egress of every pod by default', () => {
    const deny = find(objects, 'NetworkPolicy', NETWORK_POLICY_NAMES.defaultDeny) as unknown as V1NetworkPolicy;
    expect(deny.spec?.podSelector).toEqual({});
    expect(deny.spec?.policyTypes?.slice().sort()).toEqual(['Egress', 'Ingress']);
    expect(deny.spec?.ingress ?? []).toEqual([]);
    expect(deny.spec?.egress ?? []).toEqual([]);
  });

  it('labels every object and owns every child but dataset volumes and claims', () => {
    expectCommonLabels(objects);
    for (const o of objects) {
      const isData = o.metadata.labels?.[DATA] === 'true';
      expect(isData).toBe(o.kind === 'PersistentVolume' || (o.kind === 'PersistentVolumeClaim' && o.metadata.name.startsWith('data-')));
      if (isData) expect(o.metadata.ownerReferences, `${o.kind} ${o.metadata.name}`).toBeUndefined();
      else expect(o.metadata.ownerReferences).toEqual([{ apiVersion: 'sde.london/v1alpha1', kind: 'Enclave', name: 'cardiac-mri', uid: 'enclave-uid-1', controller: true, blockOwnerDeletion: true }]);
    }
  });

  it('leaves out extra egress the site does not allow, and bad addresses, without failing', () => {
    const e = cardiacEnclave();
    e.spec.network.egress = [
      { cidr: '10.40.3.0/30', ports: [{ port: 443, protocol: 'TCP' }, { port: 22, protocol: 'TCP' }], reason: 'approved, but not port 22' },
      { cidr: '999.40.3.0/28', ports: [{ port: 443, protocol: 'TCP' }], reason: 'not an address' },
      { cidr: '0.0.0.0/0', ports: [{ port: 443, protocol: 'TCP' }], reason: 'the internet' },
    ];
    const approved = find(renderEnclave(e, site, active), 'NetworkPolicy', NETWORK_POLICY_NAMES.approvedEgress) as unknown as V1NetworkPolicy;
    expect(approved.spec?.egress).toEqual([{ to: [{ ipBlock: { cidr: '10.40.3.0/30' } }], ports: [{ port: 443, protocol: 'TCP' }] }]);
  });

  it('adds no owner references before the enclave is stored', () => {
    for (const o of renderEnclave(cardiacEnclave(false), site, active)) expect(o.metadata.ownerReferences).toBeUndefined();
  });

  it('caps CPU, memory, storage, pods, claims and GPUs with a quota', () => {
    const hard = (find(objects, 'ResourceQuota', 'enclave-quota').spec as { hard: Record<string, string> }).hard;
    expect(hard).toMatchObject({ 'requests.cpu': '64', 'requests.memory': '512Gi', 'requests.storage': '4Ti', 'requests.nvidia.com/gpu': '4' });
    expect(hard).not.toHaveProperty(['limits.nvidia.com/gpu']);
    expect(Number(hard.pods)).toBeGreaterThanOrEqual(6);
    expect(Number(hard.persistentvolumeclaims)).toBeGreaterThanOrEqual(7);
    expect(ofKind(objects, 'LimitRange')).toHaveLength(1);
  });

  it('runs workloads as a service account without a token', () => {
    expect(find(objects, 'ServiceAccount', 'workload').automountServiceAccountToken).toBe(false);
  });

  it('binds each member to the Role of their role while access is active, and nobody when it is not', () => {
    const bindings = ofKind(objects, 'RoleBinding') as unknown as { roleRef: { name: string }; subjects: { kind: string; name: string }[] }[];
    expect(bindings.map((b) => [b.subjects[0]?.name, b.roleRef.name])).toEqual([
      ['j.patel@ucl.ac.uk', 'sde-lead'],
      ['m.okafor@ucl.ac.uk', 'sde-researcher'],
      ['s.nguyen@uclh.nhs.uk', 'sde-output-checker'],
    ]);
    const off = renderEnclave(cardiacEnclave(), site, inactive);
    expect(ofKind(off, 'RoleBinding')).toEqual([]);
    expect(ofKind(off, 'Role')).toHaveLength(4);
    expect(ofKind(off, 'PersistentVolumeClaim').map((o) => o.metadata.name)).toEqual(ofKind(objects, 'PersistentVolumeClaim').map((o) => o.metadata.name));
  });

  it('binds group members as groups', () => {
    const e = cardiacEnclave();
    e.spec.members.push({ group: 'cardiac-imaging-team', role: 'researcher' });
    const subjects = ofKind(renderEnclave(e, site, active), 'RoleBinding').map((b) => (b as unknown as { subjects: unknown[] }).subjects[0]);
    expect(subjects).toContainEqual({ kind: 'Group', name: 'cardiac-imaging-team', apiGroup: 'rbac.authorization.k8s.io' });
  });

  it.each(Object.entries(ROLE_RULES))('role %s cannot read Secrets, exec into or create pods', (_role, rules: V1PolicyRule[]) => {
    for (const r of rules) {
      expect(r.resources).not.toContain('secrets');
      expect(r.resources).not.toContain('pods/exec');
      expect(r.resources).not.toContain('pods/attach');
      expect(r.resources).not.toContain('*');
      expect(r.verbs).not.toContain('*');
      if (r.resources?.includes('pods')) expect(r.verbs).not.toContain('create');
    }
  });

  it('renders read-only, retained volumes for volume datasets', () => {
    const pv = find(objects, 'PersistentVolume', 'sde-cardiac-mri.cardiac-mri-curated').spec as Record<string, unknown>;
    expect(pv).toMatchObject({ accessModes: ['ReadOnlyMany'], persistentVolumeReclaimPolicy: 'Retain', nfs: { readOnly: true } });
    expect(pv.claimRef).toMatchObject({ namespace: 'sde-cardiac-mri', name: 'data-cardiac-mri-curated' });
    expect(find(objects, 'PersistentVolumeClaim', 'data-cardiac-mri-curated').spec).toMatchObject({ accessModes: ['ReadOnlyMany'], volumeName: 'sde-cardiac-mri.cardiac-mri-curated' });
  });

  it('auto-provisions one valid Workspace per user who may run workspaces, groups only through the site', () => {
    const e = cardiacEnclave();
    e.spec.workspaces.autoProvision = { tool: 'rstudio', resources: { cpu: '2', memory: '8Gi', gpus: 0 }, storage: { home: '20Gi' } };
    e.spec.members.push({ group: 'cardiac-imaging-team', role: 'researcher' }, { group: 'unknown-team', role: 'researcher' });
    const s = uclhSite();
    s.groups = { 'cardiac-imaging-team': ['j.patel@ucl.ac.uk', 'a.new@ucl.ac.uk'] };
    const auto = ofKind(renderEnclave(e, s, active), 'Workspace');
    expect(auto.map((w) => (w.spec as { owner: string }).owner)).toEqual(['j.patel@ucl.ac.uk', 'm.okafor@ucl.ac.uk', 'a.new@ucl.ac.uk']);
    for (const w of auto) {
      expect(w.metadata.name).toMatch(/^auto-[a-z0-9-]+-[0-9a-f]{8}$/);
      expect(w.metadata.name.length).toBeLessThanOrEqual(52);
      expect(w.metadata.labels?.[AUTO_PROVISIONED]).toBe('true');
      expect(w.metadata.namespace).toBe('sde-cardiac-mri');
      expect(workspaceSchema.safeParse(w).success).toBe(true);
      expect(w.spec, 'a researcher may stop their own workspace').not.toHaveProperty('state');
    }
    const again = ofKind(renderEnclave(e, s, active), 'Workspace').map((w) => w.metadata.name);
    expect(again).toEqual(auto.map((w) => w.metadata.name));
    expect(ofKind(renderEnclave(cardiacEnclave(), uclhSite(), active), 'Workspace')).toEqual([]);
  });
});

describe('renderWorkspace', () => {
  const site = uclhSite();
  const enclave = cardiacEnclave();

  it('renders a StatefulSet, its headless Service on the tool port and a home claim, all labelled and owned', () => {
    const objects = renderWorkspace(jupyterWorkspace(), enclave, site, active);
    expect(objects.map((o) => `${o.kind}/${o.metadata.name}`).sort()).toEqual(['PersistentVolumeClaim/okafor-jupyter-home', 'Service/okafor-jupyter', 'StatefulSet/okafor-jupyter']);
    expectCommonLabels(objects);
    for (const o of objects) expect(o.metadata.labels?.[WORKSPACE]).toBe('okafor-jupyter');
    expect(find(objects, 'StatefulSet', 'okafor-jupyter').metadata.ownerReferences?.[0]).toMatchObject({ kind: 'Workspace', uid: 'workspace-uid-1', controller: true });
    expect((find(objects, 'Service', 'okafor-jupyter').spec as { ports: { port: number }[] }).ports[0]?.port).toBe(8888);
    expect(find(objects, 'Service', 'okafor-jupyter').spec).toMatchObject({ clusterIP: 'None', selector: workspacePodSelector('okafor-jupyter') });
    expect((find(objects, 'StatefulSet', 'okafor-jupyter').spec as { serviceName: string }).serviceName).toBe('okafor-jupyter');
    expect((find(renderWorkspace(rstudioWorkspace(), enclave, site, active), 'Service', 'patel-rstudio').spec as { ports: { port: number }[] }).ports[0]?.port).toBe(8787);
  });

  it.each([
    ['Running', true, 1],
    ['Stopped', true, 0],
    ['Running', false, 0],
  ] as const)('state %s with access %s gives %i replicas and keeps the home claim', (state, accessActive, replicas) => {
    const ws = jupyterWorkspace();
    ws.spec.state = state;
    const objects = renderWorkspace(ws, enclave, site, { accessActive });
    expect((find(objects, 'StatefulSet', 'okafor-jupyter').spec as { replicas: number }).replicas).toBe(replicas);
    expect(find(objects, 'PersistentVolumeClaim', 'okafor-jupyter-home')).toBeDefined();
  });

  it.each([
    ['Retain', undefined],
    ['Delete', 'Workspace'],
  ] as const)('home claim under retention %s is owned by %s', (homeVolumes, ownerKind) => {
    const e = cardiacEnclave();
    e.spec.retention.homeVolumes = homeVolumes;
    const home = find(renderWorkspace(jupyterWorkspace(), e, site, active), 'PersistentVolumeClaim', 'okafor-jupyter-home');
    expect(home.metadata.ownerReferences?.[0]?.kind).toBe(ownerKind);
  });

  it('mounts the chosen datasets read-only and takes credentials only from the Secret', () => {
    const [pod] = podTemplates(renderWorkspace(jupyterWorkspace(), enclave, site, active));
    const c = pod?.spec.containers[0];
    expect(c?.volumeMounts?.filter((m) => m.mountPath.startsWith('/data/'))).toEqual([{ name: 'data-cardiac-mri-curated', mountPath: '/data/cardiac-mri-curated', readOnly: true }]);
    expect(pod?.spec.volumes).toContainEqual({ name: 'cred-omop', secret: { secretName: 'omop-readonly', defaultMode: 0o440, optional: false } });
    expect(JSON.stringify(c?.env)).not.toMatch(/password/i);
  });

  it('schedules a GPU workspace on the pool and a CPU workspace off GPU nodes', () => {
    const [gpu] = podTemplates(renderWorkspace(jupyterWorkspace(), enclave, site, active));
    expect(gpu?.spec.containers[0]?.resources?.limits?.['nvidia.com/gpu']).toBe('1');
    expect(gpu?.spec.nodeSelector).toEqual({ 'nvidia.com/gpu.product': 'NVIDIA-A100-SXM4-80GB' });
    expect(gpu?.spec.tolerations).toEqual([{ key: 'nvidia.com/gpu', operator: 'Equal', value: 'present', effect: 'NoSchedule' }]);
    const [cpu] = podTemplates(renderWorkspace(rstudioWorkspace(), enclave, site, active));
    expect(cpu?.spec.containers[0]?.resources?.limits?.['nvidia.com/gpu']).toBeUndefined();
    expect(cpu?.spec.tolerations).toBeUndefined();
    expect(cpu?.spec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms[0]?.matchExpressions).toContainEqual({ key: 'nvidia.com/gpu.present', operator: 'NotIn', values: ['true'] });
  });
});

describe('renderFederatedJob', () => {
  const site = uclhSite();
  const enclave = cardiacEnclave();
  const here = { accessActive: true, thisSite: 'uclh' };

  it('renders nothing at a site that does not take part', () => {
    expect(renderFederatedJob(nvflareJob(), enclave, site, { accessActive: true, thisSite: 'kings' })).toEqual([]);
  });

  it('renders the participant Job with the framework environment and a DNS-and-aggregator-only egress policy', () => {
    const objects = renderFederatedJob(nvflareJob(), enclave, site, here);
    expect(objects.map((o) => o.kind)).toEqual(['NetworkPolicy', 'Job']);
    expectCommonLabels(objects);
    for (const o of objects) expect(o.metadata.labels?.[FEDERATED_JOB]).toBe('cardiac-segmentation-fl');
    const job = find(objects, 'Job', 'cardiac-segmentation-fl-participant');
    expect(job.spec).toMatchObject({ backoffLimit: 2, activeDeadlineSeconds: 86400, suspend: false });
    const env = podTemplates(objects)[0]?.spec.containers[0]?.env ?? [];
    expect(env).toContainEqual({ name: 'NVFLARE_SITE_NAME', value: 'uclh' });
    expect(env).toContainEqual({ name: 'NVFLARE_SERVER_ADDRESS', value: 'fl.sde.london:8002' });
    const policy = find(objects, 'NetworkPolicy', 'cardiac-segmentation-fl-participant-egress') as unknown as V1NetworkPolicy;
    const to = policy.spec?.egress?.flatMap((r) => r.to ?? []) ?? [];
    expect(to.filter((p) => p.ipBlock).map((p) => p.ipBlock?.cidr)).toEqual(['10.90.0.10/32']);
    expect(to.filter((p) => !p.ipBlock).map((p) => p.namespaceSelector?.matchLabels)).toEqual([{ 'kubernetes.io/metadata.name': 'kube-system' }]);
  });

  it('suspends the participant while access is inactive', () => {
    const job = find(renderFederatedJob(nvflareJob(), enclave, site, { ...here, accessActive: false }), 'Job', 'cardiac-segmentation-fl-participant');
    expect((job.spec as { suspend: boolean }).suspend).toBe(true);
  });

  it('runs the aggregator only at the site that hosts it', () => {
    const job = nvflareJob();
    job.spec.aggregator.site = 'uclh';
    const objects = renderFederatedJob(job, enclave, site, here);
    expect(objects.map((o) => `${o.kind}/${o.metadata.name}`).sort()).toEqual([
      'Deployment/cardiac-segmentation-fl-aggregator',
      'Job/cardiac-segmentation-fl-participant',
      'NetworkPolicy/cardiac-segmentation-fl-aggregator-ingress',
      'NetworkPolicy/cardiac-segmentation-fl-participant-egress',
      'Service/cardiac-segmentation-fl-aggregator',
    ]);
    expect(ofKind(renderFederatedJob(nvflareJob(), enclave, site, here), 'Deployment')).toEqual([]);
  });

  it('names the enclave namespace when the job has none', () => {
    const job = nvflareJob();
    delete job.metadata.namespace;
    for (const o of renderFederatedJob(job, enclave, site, here)) expect(o.metadata.namespace).toBe(enclaveNamespace('cardiac-mri'));
  });
});

describe('what the API server stores', () => {
  // Zero values of non-pointer omitempty fields: kube-apiserver drops them, and an apply that
  // carries one is a write every time the second has changed (measured on 1.23).
  const DROPPED = [
    (o: KubeObject) => (o.kind === 'Service' && (o.spec as { externalIPs?: unknown[] }).externalIPs?.length === 0 ? 'spec.externalIPs: []' : undefined),
    ...(['hostNetwork', 'hostPID', 'hostIPC'] as const).map((field) => (o: KubeObject) => podTemplates([o]).some((t) => (t.spec as unknown as Record<string, unknown>)[field] === false) ? `${field}: false` : undefined),
  ];

  it('renders no zero value the server would drop, for the examples with an aggregator hosted here', () => {
    const site = uclhSite();
    const enclave = cardiacEnclave();
    const job = nvflareJob();
    job.spec.aggregator.site = site.site;
    const objects = [
      ...renderEnclave(enclave, site, { accessActive: true }),
      ...renderWorkspace(jupyterWorkspace(), enclave, site, { accessActive: true }),
      ...renderWorkspace(rstudioWorkspace(), enclave, site, { accessActive: true }),
      ...renderFederatedJob(job, enclave, site, { accessActive: true, thisSite: site.site }),
    ];
    expect(objects.some((o) => o.kind === 'Service')).toBe(true);
    expect(objects.flatMap((o) => DROPPED.map((check) => check(o)).filter((found) => found !== undefined).map((found) => `${o.kind}/${o.metadata.name} ${found}`))).toEqual([]);
  });
});
