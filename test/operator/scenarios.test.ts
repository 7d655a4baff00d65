// The operator end to end against the project's local Kubernetes over HTTP, with the real
// client library: what a platform engineer and a researcher would see.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KubernetesObject } from '@kubernetes/client-node';
import { homeClaimName } from '../../constructs/workspace.ts';
import { Kinds } from '../../operator/runtime/resources.ts';
import { conditionOf, example, exampleSite, settled, startTestSite } from './harness.ts';
import type { TestSite } from './harness.ts';

const SDE = 'sde.london/v1alpha1';
const NS = 'sde-cardiac-mri';
type Obj = KubernetesObject & { spec?: Record<string, unknown>; status?: Record<string, unknown> };

const enclaveDoc = (): Obj => example('enclave-cardiac-mri.yaml')[0] as Obj;
const withSpec = (doc: Obj, patch: (spec: Record<string, unknown>) => void): Obj => {
  const copy = structuredClone(doc);
  patch(copy.spec as Record<string, unknown>);
  return copy;
};

async function ready(site: TestSite, kind: string, name: string, namespace?: string): Promise<Obj> {
  return site.waitFor(`${kind} ${name} Ready`, async () => {
    const o = await site.get<Obj>(SDE, kind, name, namespace);
    return conditionOf(o, 'Ready')?.status === 'True' && o;
  });
}

async function list(site: TestSite, apiVersion: string, kind: string, namespace?: string): Promise<Obj[]> {
  const r = await site.client.objects.list(apiVersion, kind, namespace);
  return r.items as Obj[];
}

describe('a site with the cardiac MRI enclave', () => {
  let site: TestSite;
  beforeAll(async () => {
    site = await startTestSite();
    await site.startOperator();
    await site.apply([enclaveDoc()]);
    await ready(site, 'Enclave', 'cardiac-mri');
    await site.apply([...example('workspace-jupyter-gpu.yaml'), ...example('workspace-rstudio.yaml'), ...example('federatedjob-nvflare.yaml')]);
  });
  afterAll(async () => site?.close());

  it('makes each kind Ready, with the enclave deny-first and the GPU workspace on a DGX node', async () => {
    await site.waitFor('the enclave counts both workspaces', async () => (await site.get<Obj>(SDE, 'Enclave', 'cardiac-mri'))?.status?.workspaces === 2);
    const jupyter = await ready(site, 'Workspace', 'okafor-jupyter', NS);
    const rstudio = await ready(site, 'Workspace', 'patel-rstudio', NS);
    await ready(site, 'FederatedJob', 'cardiac-segmentation-fl', NS);
    expect(jupyter.status).toMatchObject({ phase: 'Running', gpus: 1, url: 'http://okafor-jupyter.sde-cardiac-mri.svc:8888/' });
    expect(String(jupyter.status?.node)).toMatch(/^dgx-a100-0[12]$/);
    expect(String(rstudio.status?.node)).toMatch(/^cpu-0[12]$/);
    const policies = await list(site, 'networking.k8s.io/v1', 'NetworkPolicy', NS);
    const denyAll = policies.find((p) => JSON.stringify((p.spec as { podSelector?: unknown }).podSelector) === '{}' && ((p.spec as { policyTypes?: string[] }).policyTypes ?? []).length === 2 && !(p.spec as { ingress?: unknown }).ingress && !(p.spec as { egress?: unknown }).egress);
    expect(denyAll, 'a default-deny policy for ingress and egress').toBeDefined();
    const ns = await site.get<Obj>('v1', 'Namespace', NS);
    expect(ns?.metadata?.labels?.['pod-security.kubernetes.io/enforce']).toBe('restricted');
    const participant = (await list(site, 'batch/v1', 'Job', NS))[0];
    expect(participant?.metadata?.labels?.['sde.london/federatedjob']).toBe('cardiac-segmentation-fl');
  });

  it('writes only what an edit changes: a new CPU quota updates the ResourceQuota and the status, nothing else', async () => {
    const op = site.operator!;
    await ready(site, 'Workspace', 'okafor-jupyter', NS);
    const before = await settled(op.client.requests);
    await site.apply([withSpec(enclaveDoc(), (s) => ((s.resources as Record<string, unknown>).cpu = '96'))]);
    const quota = await site.waitFor('quota updated', async () => {
      const q = (await list(site, 'v1', 'ResourceQuota', NS))[0] as Obj | undefined;
      return (q?.spec as { hard?: Record<string, string> })?.hard?.['requests.cpu'] === '96' && q;
    });
    expect(quota).toBeDefined();
    await site.waitFor('enclave observed generation 2', async () => (await site.get<Obj>(SDE, 'Enclave', 'cardiac-mri'))?.status?.observedGeneration === 2);
    await new Promise((r) => setTimeout(r, 500));
    const after = op.client.requests;
    expect((after.get('apply') ?? 0) - (before.get('apply') ?? 0)).toBe(1);
    expect((after.get('delete') ?? 0) - (before.get('delete') ?? 0)).toBe(0);
  });

  it('recreates a child someone deleted', async () => {
    const policies = await list(site, 'networking.k8s.io/v1', 'NetworkPolicy', NS);
    const victim = policies[0] as Obj;
    await site.client.objects.delete({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: victim.metadata?.name, namespace: NS } });
    const back = await site.waitFor('policy recreated', async () => {
      const p = await site.get<Obj>('networking.k8s.io/v1', 'NetworkPolicy', victim.metadata?.name ?? '', NS);
      return p && p.metadata?.uid !== victim.metadata?.uid && p;
    });
    expect(back.spec).toEqual(victim.spec);
  });

  it('refuses a workspace whose owner is not a member, whose image is not allowed, or whose GPUs exceed the quota', async () => {
    const base = example('workspace-jupyter-gpu.yaml')[0] as Obj;
    const variant = (name: string, patch: (spec: Record<string, unknown>) => void): Obj => {
      const o = withSpec(base, patch);
      o.metadata = { ...o.metadata, name };
      return o;
    };
    await site.apply([
      variant('stranger', (s) => (s.owner = 'someone@else.org')),
      variant('bad-image', (s) => (s.image = 'docker.io/library/ubuntu:latest')),
      variant('greedy', (s) => ((s.resources as Record<string, unknown>).gpus = 4)),
    ]);
    const reasonOf = async (name: string) => site.waitFor(`${name} refused`, async () => {
      const c = conditionOf(await site.get<Obj>(SDE, 'Workspace', name, NS), 'Ready');
      return c?.status === 'False' && c;
    });
    expect(await reasonOf('stranger')).toMatchObject({ reason: 'OwnerNotMember', message: expect.stringContaining('spec.owner') });
    expect(await reasonOf('bad-image')).toMatchObject({ reason: 'ImageNotAllowed', message: expect.stringContaining('spec.image') });
    expect(await reasonOf('greedy')).toMatchObject({ reason: 'QuotaExceeded', message: expect.stringContaining('spec.resources.gpus') });
    const sets = (await list(site, 'apps/v1', 'StatefulSet', NS)).map((s) => s.metadata?.name);
    expect(sets).not.toContain('stranger');
    expect(sets).not.toContain('bad-image');
    expect(sets).not.toContain('greedy');
    const events = await list(site, 'v1', 'Event', NS);
    expect(events.map((e) => (e as { reason?: string }).reason)).toEqual(expect.arrayContaining(['OwnerNotMember', 'ImageNotAllowed', 'QuotaExceeded']));
  });

  it('serves metrics on the metrics port, and the data use register only on its own listener', async () => {
    const base = `http://127.0.0.1:${site.operator!.port}`;
    expect((await fetch(`${base}/register`)).status).toBe(404);
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toMatch(/sde_reconcile_total\{controller="enclave",result="(success|requeue)"\} [1-9]/);
  });

  it('ignores a federated job that does not name this site', async () => {
    const job = example('federatedjob-nvflare.yaml')[0] as Obj;
    job.metadata = { ...job.metadata, name: 'elsewhere' };
    (job.spec as Record<string, unknown>).sites = ['gstt', 'barts'];
    await site.apply([job]);
    await new Promise((r) => setTimeout(r, 1000));
    const live = await site.get<Obj>(SDE, 'FederatedJob', 'elsewhere', NS);
    expect(live?.status).toBeUndefined();
    expect((await list(site, 'batch/v1', 'Job', NS)).map((j) => j.metadata?.name)).not.toContain('elsewhere-participant');
  });
});

describe('invalid enclaves', () => {
  let site: TestSite;
  beforeAll(async () => {
    site = await startTestSite();
    await site.startOperator();
  });
  afterAll(async () => site?.close());

  it('reports a site-rule violation as a condition and an Event, builds nothing, and stays healthy', async () => {
    const greedy = withSpec(enclaveDoc(), (s) => {
      (s.resources as Record<string, unknown>).gpus = 64;
      (s.network as Record<string, unknown>).egress = [{ cidr: '8.8.8.0/24', ports: [{ port: 443 }], reason: 'the internet' }];
    });
    greedy.metadata = { name: 'greedy' };
    await site.apply([greedy]);
    const cond = await site.waitFor('refusal', async () => {
      const c = conditionOf(await site.get<Obj>(SDE, 'Enclave', 'greedy'), 'Ready');
      return c?.status === 'False' && c;
    });
    expect(cond.reason).toBe('GpusAbovePool');
    expect(cond.message).toContain('spec.resources.gpus');
    expect(cond.message).toContain('spec.network.egress[0]');
    expect(await site.get('v1', 'Namespace', 'sde-greedy')).toBeUndefined();
    const events = await list(site, 'v1', 'Event', 'default');
    expect(events.some((e) => (e as { reason?: string }).reason === 'GpusAbovePool')).toBe(true);
    const health = await fetch(`http://127.0.0.1:${site.operator!.port}/healthz`);
    expect(health.status).toBe(200);
  });

  it('is refused by the API server itself when the CRD schema can tell (422 naming the field)', async () => {
    const bad = withSpec(enclaveDoc(), (s) => ((s.access as Record<string, unknown>).validFrom = '2030-01-01T00:00:00Z'));
    bad.metadata = { name: 'backwards' };
    await expect(site.apply([bad])).rejects.toMatchObject({ statusCode: 422, message: expect.stringContaining('spec.access.validFrom') });
  });
});

describe('time-limited access', () => {
  let site: TestSite;
  beforeAll(async () => {
    site = await startTestSite();
    await site.startOperator();
  });
  afterAll(async () => site?.close());

  it('at expiresAt removes member bindings, stops workspaces and suspends jobs, keeps data; an extension restores access', async () => {
    const expiresAt = new Date(Date.now() + 4_000).toISOString();
    const doc = withSpec(enclaveDoc(), (s) => ((s.access as Record<string, unknown>).expiresAt = expiresAt));
    await site.apply([doc]);
    await ready(site, 'Enclave', 'cardiac-mri');
    await site.apply([...example('workspace-rstudio.yaml'), ...example('federatedjob-nvflare.yaml')]);
    await ready(site, 'Workspace', 'patel-rstudio', NS);
    expect((await list(site, 'rbac.authorization.k8s.io/v1', 'RoleBinding', NS)).length).toBeGreaterThan(0);
    const claimsBefore = (await list(site, 'v1', 'PersistentVolumeClaim', NS)).map((c) => c.metadata?.name).sort();

    await site.waitFor('access expired', async () => conditionOf(await site.get<Obj>(SDE, 'Enclave', 'cardiac-mri'), 'AccessActive')?.reason === 'Expired', 15_000);
    const expiredAt = Date.now();
    await site.waitFor('bindings removed', async () => (await list(site, 'rbac.authorization.k8s.io/v1', 'RoleBinding', NS)).length === 0);
    await site.waitFor('workspace scaled to zero', async () => ((await site.get<Obj>('apps/v1', 'StatefulSet', 'patel-rstudio', NS))?.spec?.replicas as number) === 0);
    await site.waitFor('job suspended', async () => (await list(site, 'batch/v1', 'Job', NS)).every((j) => j.spec?.suspend === true));
    expect(Date.now() - expiredAt).toBeLessThan(10_000);
    expect((await list(site, 'v1', 'PersistentVolumeClaim', NS)).map((c) => c.metadata?.name).sort()).toEqual(claimsBefore);
    const ws = await site.get<Obj>(SDE, 'Workspace', 'patel-rstudio', NS);
    expect(ws?.status?.phase).toBe('Suspended');

    const extended = withSpec(doc, (s) => ((s.access as Record<string, unknown>).extensions = [{ until: '2028-06-30T00:00:00Z', justification: 'Peer review revisions', approvedBy: 'UCLH Data Access Committee' }]));
    await site.apply([extended]);
    await ready(site, 'Enclave', 'cardiac-mri');
    await site.waitFor('bindings restored', async () => (await list(site, 'rbac.authorization.k8s.io/v1', 'RoleBinding', NS)).length > 0);
    await ready(site, 'Workspace', 'patel-rstudio', NS);
    const enclave = await site.get<Obj>(SDE, 'Enclave', 'cardiac-mri');
    expect(enclave?.status?.effectiveExpiresAt).toBe('2028-06-30T00:00:00Z');
    expect(enclave?.status?.accessHistory).toHaveLength(2);
    const reasons = (await list(site, 'v1', 'Event', 'default')).map((e) => (e as { reason?: string }).reason);
    expect(reasons).toEqual(expect.arrayContaining(['ExpiringSoon', 'Expired', 'Extended']));
  });
});

describe('automatic workspaces and deletion', () => {
  let site: TestSite;
  beforeAll(async () => {
    site = await startTestSite();
    await site.startOperator();
  });
  afterAll(async () => site?.close());

  it('gives a member added to the enclave a ready workspace, and removes it (keeping the home volume) when they leave', async () => {
    const doc = withSpec(enclaveDoc(), (s) => ((s.workspaces as Record<string, unknown>).autoProvision = { tool: 'jupyterlab', image: 'nexus.sde.uclh.nhs.uk/sde/jupyter-scipy:2025.01' }));
    await site.apply([doc]);
    await ready(site, 'Enclave', 'cardiac-mri');
    const auto = async () => (await list(site, SDE, 'Workspace', NS)).filter((w) => w.metadata?.labels?.['sde.london/auto-provisioned'] === 'true');
    await site.waitFor('two auto workspaces (lead and researcher)', async () => (await auto()).length === 2);

    const joined = withSpec(doc, (s) => (s.members as unknown[]).push({ user: 'a.khan@ucl.ac.uk', role: 'researcher' }));
    await site.apply([joined]);
    const mine = await site.waitFor('a workspace for the new member', async () => (await auto()).find((w) => w.spec?.owner === 'a.khan@ucl.ac.uk'));
    await ready(site, 'Workspace', mine.metadata?.name ?? '', NS);

    await site.apply([doc]);
    await site.waitFor('their workspace removed', async () => !(await auto()).some((w) => w.spec?.owner === 'a.khan@ucl.ac.uk'));
    await site.waitFor('its StatefulSet removed', async () => (await site.get('apps/v1', 'StatefulSet', mine.metadata?.name ?? '', NS)) === undefined);
    expect(await site.get('v1', 'PersistentVolumeClaim', `${mine.metadata?.name}-home`, NS)).toBeDefined();
  });

  it('deleting the enclave removes its namespace but never a dataset volume, and keeps home volumes under retention Retain', async () => {
    const pvs = async () => (await list(site, 'v1', 'PersistentVolume')).filter((p) => p.metadata?.labels?.['sde.london/enclave'] === 'cardiac-mri');
    const homes = async () => (await list(site, 'v1', 'PersistentVolume')).filter((p) => String((p.spec as { claimRef?: { name?: string } }).claimRef?.name).endsWith('-home'));
    const before = await pvs();
    expect(before.length).toBeGreaterThan(0);
    const homesBefore = await site.waitFor('home volumes set to Retain', async () => {
      const h = await homes();
      return h.length >= 2 && h.every((p) => (p.spec as { persistentVolumeReclaimPolicy?: string }).persistentVolumeReclaimPolicy === 'Retain') && h;
    });
    await site.client.objects.delete({ apiVersion: SDE, kind: 'Enclave', metadata: { name: 'cardiac-mri' } });
    await site.waitFor('namespace gone', async () => (await site.get('v1', 'Namespace', NS)) === undefined, 20_000);
    expect((await pvs()).map((p) => p.metadata?.uid)).toEqual(before.map((p) => p.metadata?.uid));
    const homesAfter = await site.waitFor('home volumes released, not deleted', async () => {
      const h = await homes();
      return h.every((p) => (p.status as { phase?: string } | undefined)?.phase === 'Released') && h;
    });
    expect(homesAfter.map((p) => p.metadata?.uid).sort()).toEqual(homesBefore.map((p) => p.metadata?.uid).sort());
  });
});

describe('resilience', () => {
  let site: TestSite;
  beforeAll(async () => {
    site = await startTestSite();
  });
  afterAll(async () => site?.close());

  it('an operator stopped mid-converge and started again reaches the same state with no duplicates', async () => {
    await site.startOperator();
    const docs = Array.from({ length: 6 }, (_, i) => {
      const d = enclaveDoc();
      d.metadata = { name: `study-${i}` };
      return d;
    });
    await site.apply(docs);
    await new Promise((r) => setTimeout(r, 150));
    await site.stopOperator({ releaseLease: false });
    await site.startOperator();
    for (const d of docs) await ready(site, 'Enclave', d.metadata?.name ?? '');
    for (const d of docs) {
      const ns = `sde-${d.metadata?.name}`;
      const names = (await list(site, 'networking.k8s.io/v1', 'NetworkPolicy', ns)).map((p) => p.metadata?.name);
      expect(new Set(names).size).toBe(names.length);
      expect((await list(site, 'v1', 'ResourceQuota', ns))).toHaveLength(1);
    }
  });

  it('relists after 410 Gone and dropped watches, and still acts on changes', async () => {
    site.cluster.faults.forceGone();
    site.cluster.faults.dropWatches();
    const d = enclaveDoc();
    d.metadata = { name: 'after-gone' };
    await site.apply([d]);
    await ready(site, 'Enclave', 'after-gone');
    const restarts = await (await fetch(`http://127.0.0.1:${site.operator!.port}/metrics`)).text();
    expect(restarts).toMatch(/sde_watch_restarts_total\{[^}]*\} [1-9]/);
  });

  it('two replicas with leader election: one leads, the other takes over when it dies', async () => {
    await site.stopOperator();
    const lease = { namespace: 'default', leaseDurationSeconds: 2, renewDeadlineMs: 1_500, retryPeriodMs: 200 };
    const a = await site.startOperator({ leaderElection: lease });
    const b = (await import('../../operator/operator.ts')).createOperator({ site: exampleSite, kubeConfig: site.kubeConfig, port: 0, host: '127.0.0.1', leaderElection: lease, logger: (await import('../../operator/runtime/index.ts')).createLogger({ level: 'silent' }) });
    await b.start();
    await site.waitFor('a leader', async () => a.isLeader || b.isLeader);
    expect(a.isLeader && b.isLeader).toBe(false);
    const [leader, standby] = a.isLeader ? [a, b] : [b, a];
    await leader.stop({ releaseLease: false });
    await site.waitFor('failover', async () => standby.isLeader, 10_000);
    const d = enclaveDoc();
    d.metadata = { name: 'after-failover' };
    await site.apply([d]);
    await ready(site, 'Enclave', 'after-failover');
    await standby.stop();
    site.operator = undefined;
  });
});

describe('scheduling', () => {
  let site: TestSite;
  // The site says it has H100s, but no node carries that product: the scheduler cannot place the pod.
  const h100Site = { ...exampleSite, gpuPool: { ...exampleSite.gpuPool, products: [...exampleSite.gpuPool.products, 'NVIDIA-H100-80GB-HBM3'] } };
  beforeAll(async () => {
    site = await startTestSite({ site: h100Site });
    await site.startOperator();
  });
  afterAll(async () => site?.close());

  it('surfaces an unschedulable workspace as a condition with the scheduler\'s message and an Event', async () => {
    await site.apply([enclaveDoc()]);
    await ready(site, 'Enclave', 'cardiac-mri');
    const ws = example('workspace-jupyter-gpu.yaml')[0] as Obj;
    ((ws.spec as Record<string, unknown>).resources as Record<string, unknown>).gpuProduct = 'NVIDIA-H100-80GB-HBM3';
    await site.apply([ws]);
    const scheduled = await site.waitFor('Unschedulable', async () => {
      const c = conditionOf(await site.get<Obj>(SDE, 'Workspace', 'okafor-jupyter', NS), 'Scheduled');
      return c?.reason === 'Unschedulable' && c;
    });
    expect(scheduled.status).toBe('False');
    expect(scheduled.message).toMatch(/^0\/4 nodes are available/);
    const live = await site.get<Obj>(SDE, 'Workspace', 'okafor-jupyter', NS);
    expect(live?.status?.phase).toBe('Pending');
    expect(conditionOf(live, 'Ready')?.status).toBe('False');
    await site.waitFor('Unschedulable event', async () => (await list(site, 'v1', 'Event', NS)).some((e) => (e as { reason?: string; involvedObject?: { kind?: string } }).reason === 'Unschedulable' && (e as { involvedObject?: { kind?: string } }).involvedObject?.kind === 'Workspace'));
  });

  it('reports a workspace whose home volume is still being provisioned as WaitingForVolume, naming the claim, without a Warning', async () => {
    await ready(site, 'Enclave', 'cardiac-mri');
    const ws = example('workspace-rstudio.yaml')[0] as Obj;
    const name = ws.metadata!.name!;
    // A slow storage backend: the new home claim stays Pending, and the scheduler calls the pod Unschedulable.
    site.cluster.simulation!.pauseVolumes();
    try {
      await site.apply([ws]);
      const scheduled = await site.waitFor('WaitingForVolume', async () => {
        const c = conditionOf(await site.get<Obj>(SDE, 'Workspace', name, NS), 'Scheduled');
        return c?.reason === 'WaitingForVolume' && c;
      });
      expect(scheduled).toMatchObject({ status: 'False', message: `waiting for claim ${homeClaimName(name)} to be bound (it is Pending)` });
      expect((await site.get<Obj>(SDE, 'Workspace', name, NS))?.status?.phase).toBe('Pending');
      const pod = await site.get<{ status?: { conditions?: { type: string; reason?: string; message?: string }[] } }>('v1', 'Pod', `${name}-0`, NS);
      expect(pod?.status?.conditions?.find((c) => c.type === 'PodScheduled')).toMatchObject({ reason: 'Unschedulable', message: expect.stringContaining('unbound immediate PersistentVolumeClaims') });
    } finally {
      site.cluster.simulation!.resumeVolumes();
    }
    await ready(site, 'Workspace', name, NS);
    const warnings = (await list(site, 'v1', 'Event', NS)).filter((e) => (e as { involvedObject?: { kind?: string; name?: string } }).involvedObject?.name === name && (e as { involvedObject?: { kind?: string } }).involvedObject?.kind === 'Workspace' && (e as { type?: string }).type === 'Warning');
    expect(warnings).toEqual([]);
  });

  it('still warns when the claim it waits for is Lost: that one will not bind', async () => {
    await ready(site, 'Enclave', 'cardiac-mri');
    const ws = structuredClone(example('workspace-rstudio.yaml')[0]) as Obj;
    ws.metadata = { ...ws.metadata, name: 'patel-rstudio-lost' };
    const name = ws.metadata.name!;
    site.cluster.simulation!.pauseVolumes();
    try {
      await site.apply([ws]);
      await site.waitFor('WaitingForVolume', async () => conditionOf(await site.get<Obj>(SDE, 'Workspace', name, NS), 'Scheduled')?.reason === 'WaitingForVolume');
      await site.client.patchStatus(Kinds.PersistentVolumeClaim, homeClaimName(name), NS, { phase: 'Lost' });
      // A claim's status does not reconcile its workspace (its children count by spec); an edit of the workspace does.
      await site.apply([{ ...ws, metadata: { ...ws.metadata, annotations: { 'sde.london/test': 'lost' } } }]);
      const scheduled = await site.waitFor('Unschedulable', async () => {
        const c = conditionOf(await site.get<Obj>(SDE, 'Workspace', name, NS), 'Scheduled');
        return c?.reason === 'Unschedulable' && c;
      });
      expect(scheduled.message).toContain('unbound immediate PersistentVolumeClaims');
      await site.waitFor('Unschedulable event', async () => (await list(site, 'v1', 'Event', NS)).some((e) => (e as { reason?: string; involvedObject?: { name?: string } }).reason === 'Unschedulable' && (e as { involvedObject?: { name?: string } }).involvedObject?.name === name));
    } finally {
      site.cluster.simulation!.resumeVolumes();
    }
  });
});

describe('deny first', () => {
  let site: TestSite;
  beforeAll(async () => {
    site = await startTestSite();
    await site.startOperator();
  });
  afterAll(async () => site?.close());

  it('runs no workload in an enclave namespace until the enclave is isolated by its network policies', async () => {
    // Someone made the namespace by hand, and the enclave is refused by the site rules: no policies.
    await site.apply([{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'sde-greedy' } }]);
    const greedy = withSpec(enclaveDoc(), (s) => ((s.resources as Record<string, unknown>).gpus = 64));
    greedy.metadata = { name: 'greedy' };
    await site.apply([greedy]);
    const ws = example('workspace-rstudio.yaml')[0] as Obj;
    ws.metadata = { ...ws.metadata, namespace: 'sde-greedy' };
    await site.apply([ws]);
    const cond = await site.waitFor('workspace held back', async () => {
      const c = conditionOf(await site.get<Obj>(SDE, 'Workspace', 'patel-rstudio', 'sde-greedy'), 'Ready');
      return c?.reason === 'EnclaveNotReady' && c;
    });
    expect(cond.status).toBe('False');
    expect((await site.get<Obj>(SDE, 'Workspace', 'patel-rstudio', 'sde-greedy'))?.status?.phase).toBe('Pending');
    expect(await site.get('apps/v1', 'StatefulSet', 'patel-rstudio', 'sde-greedy')).toBeUndefined();
    expect(await list(site, 'networking.k8s.io/v1', 'NetworkPolicy', 'sde-greedy')).toEqual([]);
  });
});

describe('refusals the API server makes', () => {
  let site: TestSite;
  beforeAll(async () => {
    site = await startTestSite();
    await site.startOperator();
  });
  afterAll(async () => site?.close());

  it('an enclave whose dataset volumes exceed its storage quota is refused naming spec.resources.storage', async () => {
    const doc = withSpec(enclaveDoc(), (s) => ((s.resources as Record<string, unknown>).storage = '1Ti'));
    doc.metadata = { name: 'short-on-storage' };
    await site.apply([doc]);
    const c = await site.waitFor('refusal', async () => {
      const r = conditionOf(await site.get<Obj>(SDE, 'Enclave', 'short-on-storage'), 'Ready');
      return r?.status === 'False' && r;
    });
    expect(c).toMatchObject({ reason: 'StorageAboveQuota', message: expect.stringContaining('spec.resources.storage') });
    expect(await site.get('v1', 'Namespace', 'sde-short-on-storage')).toBeUndefined();
  });

  it('a workspace whose home volume the quota refuses reports it as a condition instead of retrying silently', async () => {
    await site.apply([enclaveDoc()]);
    await ready(site, 'Enclave', 'cardiac-mri');
    const ws = example('workspace-rstudio.yaml')[0] as Obj;
    ((ws.spec as Record<string, unknown>).storage as Record<string, unknown>).home = '3Ti';
    await site.apply([ws]);
    const c = await site.waitFor('Applied False', async () => {
      const r = conditionOf(await site.get<Obj>(SDE, 'Workspace', 'patel-rstudio', NS), 'Applied');
      return r?.status === 'False' && r;
    });
    expect(c.reason).toBe('QuotaExceeded');
    expect(c.message).toContain('patel-rstudio-home');
    expect(c.message).toContain('exceeded quota');
    expect(conditionOf(await site.get<Obj>(SDE, 'Workspace', 'patel-rstudio', NS), 'Ready')?.status).toBe('False');
  });
});

describe('the site\'s package mirror', () => {
  let site: TestSite;
  beforeAll(async () => {
    site = await startTestSite();
    await site.startOperator();
  });
  afterAll(async () => site?.close());

  const mirrorConfig = async (): Promise<Obj | undefined> => site.get<Obj>('v1', 'ConfigMap', 'package-mirror', NS);
  const podEnv = async (): Promise<string[]> => {
    const set = await site.get<Obj>('apps/v1', 'StatefulSet', 'patel-rstudio', NS);
    const pod = ((set?.spec?.template as { spec?: { containers?: { env?: { name: string }[] }[] } } | undefined)?.spec?.containers ?? [])[0];
    return (pod?.env ?? []).map((e) => e.name);
  };

  it('configures pip, conda, R and npm in a workspace from one ConfigMap per enclave, writes nothing more once settled, and takes it away with the mirror', async () => {
    await site.apply([enclaveDoc()]);
    await ready(site, 'Enclave', 'cardiac-mri');
    const config = await site.waitFor('package-mirror ConfigMap', mirrorConfig);
    expect(config.metadata?.labels).toMatchObject({ 'app.kubernetes.io/managed-by': 'sde-operator', 'sde.london/enclave': 'cardiac-mri' });
    expect(config.metadata?.ownerReferences?.[0]).toMatchObject({ kind: 'Enclave', name: 'cardiac-mri', controller: true });
    const data = (config as { data?: Record<string, string> }).data ?? {};
    expect(Object.keys(data).sort()).toEqual(['Rprofile.site', 'condarc']);
    expect(data['Rprofile.site']).toContain('options(repos = c(CRAN = "https://nexus.sde.uclh.nhs.uk/repository/cran"))');
    expect(data.condarc).toContain('channel_alias: https://nexus.sde.uclh.nhs.uk/repository\n');

    await site.apply(example('workspace-rstudio.yaml'));
    await ready(site, 'Workspace', 'patel-rstudio', NS);
    expect(await podEnv()).toEqual(expect.arrayContaining(['PIP_INDEX_URL', 'CONDARC', 'R_PROFILE', 'NPM_CONFIG_REGISTRY']));

    const op = site.operator!;
    const before = await settled(op.client.requests);
    const versions = async () => [(await mirrorConfig())?.metadata?.resourceVersion, (await site.get<Obj>('apps/v1', 'StatefulSet', 'patel-rstudio', NS))?.metadata?.resourceVersion];
    const versionsBefore = await versions();
    await new Promise((r) => setTimeout(r, 3_000));
    for (const verb of ['apply', 'patch', 'update', 'create', 'delete']) expect(op.client.requests.get(verb) ?? 0, verb).toBe(before.get(verb) ?? 0);
    expect(await versions()).toEqual(versionsBefore);

    await site.apply([withSpec(enclaveDoc(), (s) => ((s.network as Record<string, unknown>).packageMirror = false))]);
    await site.waitFor('ConfigMap pruned', async () => (await mirrorConfig()) === undefined);
    await site.waitFor('workspace no longer pointed at the mirror', async () => !(await podEnv()).includes('PIP_INDEX_URL'));

    await site.apply([enclaveDoc()]);
    await site.waitFor('ConfigMap back', mirrorConfig);
    await site.client.objects.delete({ apiVersion: SDE, kind: 'Enclave', metadata: { name: 'cardiac-mri' } });
    await site.waitFor('namespace gone, and the ConfigMap with it', async () => (await site.get('v1', 'Namespace', NS)) === undefined && (await mirrorConfig()) === undefined, 20_000);
  });
});
