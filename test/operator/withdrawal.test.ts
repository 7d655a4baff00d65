// Revocation that takes effect at once: when a member, a member group or a dataset leaves an
// enclave, every workload that relied on it stops within 2 s (scaled to zero, or its Job
// suspended), with the reason in its status; home volumes are kept. Hostile cases of issue 20,
// over HTTP against the devcluster with the real operator.
import type { KubernetesObject } from '@kubernetes/client-node';
import { afterEach, describe, expect, it } from 'vitest';
import { siteConfig } from '../../api/siteconfig.ts';
import { conditionOf, example, exampleSite, startTestSite } from './harness.ts';
import type { TestSite } from './harness.ts';

const SDE = 'sde.london/v1alpha1';
const NS = 'sde-cardiac-mri';
type Obj = KubernetesObject & { spec?: Record<string, unknown>; status?: Record<string, unknown> };

describe('withdrawing what a workload relies on stops it at once', () => {
  let site: TestSite | undefined;
  afterEach(async () => {
    await site?.close();
    site = undefined;
  });

  const enclave = (): Obj => structuredClone(example('enclave-cardiac-mri.yaml')[0] as Obj);
  const replicas = async (name: string): Promise<number | undefined> => (await site!.get<{ spec: { replicas: number } }>('apps/v1', 'StatefulSet', name, NS))?.spec.replicas;
  const ready = (kind: string, name: string): Promise<unknown> =>
    site!.waitFor(`${kind} ${name} Ready`, async () => conditionOf(await site!.get(SDE, kind, name, NS), 'Ready')?.status === 'True', 30_000);

  /** Applies `change` and returns the ms until `stopped` holds, polled every 50 ms. */
  async function timeToStop(change: Obj, stopped: () => Promise<boolean>): Promise<number> {
    const start = Date.now();
    await site!.apply([change]);
    await site!.waitFor('the workload stopped', async () => stopped(), 10_000);
    return Date.now() - start;
  }

  async function siteWithWorkspaces(groups?: Record<string, string[]>): Promise<TestSite> {
    site = await startTestSite(groups ? { site: siteConfig.parse({ ...exampleSite, groups }) } : {});
    await site.startOperator();
    await site.apply([enclave()]);
    await site.waitFor('enclave Ready', async () => conditionOf(await site!.get(SDE, 'Enclave', 'cardiac-mri'), 'Ready')?.status === 'True');
    await site.apply([...example('workspace-jupyter-gpu.yaml'), ...example('workspace-rstudio.yaml')]);
    await ready('Workspace', 'okafor-jupyter');
    await ready('Workspace', 'patel-rstudio');
    return site;
  }

  it('a member removed from the enclave: their workspace stops within 2 s, refused OwnerNotMember, its home volume kept; others run on', async () => {
    await siteWithWorkspaces();
    const e = enclave();
    (e.spec as { members: Array<{ user?: string }> }).members = (e.spec as { members: Array<{ user?: string }> }).members.filter((m) => m.user !== 'm.okafor@ucl.ac.uk');
    const ms = await timeToStop(e, async () => (await replicas('okafor-jupyter')) === 0);
    expect(ms).toBeLessThanOrEqual(2_000);
    const ws = await site!.waitFor('the refusal reported', async () => {
      const w = await site!.get<Obj>(SDE, 'Workspace', 'okafor-jupyter', NS);
      return conditionOf(w, 'SpecValid')?.reason === 'OwnerNotMember' && w;
    });
    expect(ws.status?.phase).toBe('Failed');
    expect(await site!.get('v1', 'PersistentVolumeClaim', 'okafor-jupyter-home', NS)).toBeDefined();
    expect(await replicas('patel-rstudio')).toBe(1);
  });

  it('a member group removed: the workspace of a member only through that group stops within 2 s', async () => {
    await siteWithWorkspaces({ 'cardiac-imaging-team': ['a.khan@ucl.ac.uk'] });
    const withGroup = enclave();
    (withGroup.spec as { members: unknown[] }).members.push({ group: 'cardiac-imaging-team', role: 'researcher' });
    await site!.apply([withGroup]);
    const jupyter = example('workspace-jupyter-gpu.yaml')[0] as Obj;
    const khan: Obj = { ...jupyter, metadata: { name: 'khan-jupyter', namespace: NS }, spec: { ...jupyter.spec, owner: 'a.khan@ucl.ac.uk', resources: { cpu: '2', memory: '8Gi' } } };
    await site!.apply([khan]);
    await ready('Workspace', 'khan-jupyter');
    const ms = await timeToStop(enclave(), async () => (await replicas('khan-jupyter')) === 0);
    expect(ms).toBeLessThanOrEqual(2_000);
    expect(await replicas('okafor-jupyter')).toBe(1);
  });

  it('a dataset removed: every workspace and federated job that mounts it stops within 2 s', async () => {
    await siteWithWorkspaces();
    await site!.apply(example('federatedjob-nvflare.yaml'));
    const job = (): Promise<{ spec: { suspend?: boolean } } | undefined> => site!.get('batch/v1', 'Job', 'cardiac-segmentation-fl-participant', NS);
    await site!.waitFor('the participant Job', async () => (await job()) !== undefined && (await job())?.spec.suspend !== true);
    const e = enclave();
    (e.spec as { data: Array<{ name: string }> }).data = (e.spec as { data: Array<{ name: string }> }).data.filter((d) => d.name !== 'cardiac-mri-curated');
    // okafor-jupyter and the participant mount cardiac-mri-curated; patel-rstudio mounts only omop.
    const ms = await timeToStop(e, async () => (await replicas('okafor-jupyter')) === 0 && (await job())?.spec.suspend === true);
    expect(ms).toBeLessThanOrEqual(2_000);
    expect(conditionOf(await site!.get(SDE, 'Workspace', 'okafor-jupyter', NS), 'SpecValid')?.reason).toBe('UnknownDataset');
    expect(await replicas('patel-rstudio')).toBe(1);
  });
});
