// What Kubernetes fixes when an object is created is not re-applied: a federated job's participant
// Job keeps the pod template it was created with when the FederatedJob is edited (kube-apiserver
// refuses a changed Job template: 422, field is immutable), and the FederatedJob says so. A
// workspace's Service made with a cluster IP before it was headless keeps it, unreported.
import type { KubernetesObject } from '@kubernetes/client-node';
import { afterEach, describe, expect, it } from 'vitest';
import { ENCLAVE, MANAGED_BY, MANAGER, PROJECT } from '../../api/labels.ts';
import { workspacePodSelector } from '../../constructs/workspace.ts';
import { Kinds } from '../../operator/runtime/index.ts';
import { conditionOf, example, startTestSite } from './harness.ts';
import type { TestSite } from './harness.ts';

const SDE = 'sde.london/v1alpha1';
const NS = 'sde-cardiac-mri';
type Job = KubernetesObject & { spec: { suspend?: boolean; template: { spec: { containers: Array<{ image: string }> } } } };
type Obj = KubernetesObject & { spec: { participant: Record<string, unknown> } };

describe('fields fixed at creation', () => {
  let site: TestSite | undefined;
  afterEach(async () => {
    await site?.close();
    site = undefined;
  });

  it('keeps the participant Job as created when the FederatedJob\'s image changes, and reports it on the FederatedJob', async () => {
    site = await startTestSite();
    await site.startOperator();
    await site.apply(example('enclave-cardiac-mri.yaml'));
    await site.waitFor('enclave Ready', async () => conditionOf(await site!.get(SDE, 'Enclave', 'cardiac-mri'), 'Ready')?.status === 'True');
    const fl = example('federatedjob-nvflare.yaml')[0] as Obj;
    await site.apply([fl]);
    const participant = () => site!.get<Job>('batch/v1', 'Job', 'cardiac-segmentation-fl-participant', NS);
    const created = await site.waitFor('the participant Job', async () => (await participant()) ?? false);
    const image = created.spec.template.spec.containers[0]?.image;
    const edited: Obj = { ...fl, spec: { ...fl.spec, participant: { ...fl.spec.participant, image: 'nvcr.io/nvidia/clara/nvflare:2.6.0' } } };
    await site.apply([edited]);
    const reported = await site.waitFor('the FederatedJob reporting it', async () => {
      const applied = conditionOf(await site!.get(SDE, 'FederatedJob', 'cardiac-segmentation-fl', NS), 'Applied');
      return applied?.reason === 'FixedAtCreation' && applied;
    });
    expect(reported.message).toContain('(Job cardiac-segmentation-fl-participant: spec.template): the participant runs as first submitted');
    expect((await participant())?.spec.template.spec.containers[0]?.image).toBe(image);
  });

  it('keeps a workspace\'s home claim as created when its size is cut (a claim cannot shrink), and reports it on the Workspace', async () => {
    site = await startTestSite();
    await site.startOperator();
    await site.apply(example('enclave-cardiac-mri.yaml'));
    await site.waitFor('enclave Ready', async () => conditionOf(await site!.get(SDE, 'Enclave', 'cardiac-mri'), 'Ready')?.status === 'True');
    const rstudio = example('workspace-rstudio.yaml')[0] as KubernetesObject & { spec: { storage: { home: string } } };
    await site.apply([rstudio]);
    const claim = () => site!.get<KubernetesObject & { spec: { resources: { requests: { storage: string } } } }>('v1', 'PersistentVolumeClaim', 'patel-rstudio-home', NS);
    await site.waitFor('the workspace Ready', async () => conditionOf(await site!.get(SDE, 'Workspace', 'patel-rstudio', NS), 'Ready')?.status === 'True');
    expect((await claim())?.spec.resources.requests.storage).toBe('20Gi');
    const shrunk = { ...rstudio, spec: { ...rstudio.spec, storage: { home: '10Gi' } } };
    await site.apply([shrunk]);
    const reported = await site.waitFor('the Workspace reporting it', async () => {
      const applied = conditionOf(await site!.get(SDE, 'Workspace', 'patel-rstudio', NS), 'Applied');
      return applied?.reason === 'FixedAtCreation' && applied;
    });
    expect(reported.message).toContain('PersistentVolumeClaim patel-rstudio-home: spec');
    expect(conditionOf(await site.get(SDE, 'Workspace', 'patel-rstudio', NS), 'Ready')?.status).toBe('True');
    expect((await claim())?.spec.resources.requests.storage).toBe('20Gi');
  });

  it('keeps the cluster IP of a workspace Service an earlier version made, without reporting it or writing it again', async () => {
    site = await startTestSite();
    await site.startOperator();
    await site.apply(example('enclave-cardiac-mri.yaml'));
    await site.waitFor('enclave Ready', async () => conditionOf(await site!.get(SDE, 'Enclave', 'cardiac-mri'), 'Ready')?.status === 'True');
    await site.stopOperator();
    // While the operator is down, the workspace and the ClusterIP Service an earlier version rendered for it.
    await site.apply(example('workspace-rstudio.yaml'));
    const workspace = await site.get<KubernetesObject>(SDE, 'Workspace', 'patel-rstudio', NS);
    const earlier = {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'patel-rstudio', namespace: NS, labels: { [MANAGED_BY]: MANAGER, [ENCLAVE]: 'cardiac-mri', ...workspacePodSelector('patel-rstudio') }, ownerReferences: [{ apiVersion: SDE, kind: 'Workspace', name: 'patel-rstudio', uid: workspace?.metadata?.uid ?? '', controller: true, blockOwnerDeletion: true }] },
      spec: { type: 'ClusterIP', selector: workspacePodSelector('patel-rstudio'), ports: [{ name: 'http', port: 8787, targetPort: 8787, protocol: 'TCP' }] },
    };
    await site.client.apply(earlier as KubernetesObject, { fieldManager: MANAGER, force: true });
    type Service = KubernetesObject & { spec: { clusterIP: string } };
    const service = () => site!.get<Service>('v1', 'Service', 'patel-rstudio', NS);
    const allocated = (await service())?.spec.clusterIP;
    expect(allocated).toMatch(/^\d+\.\d+\.\d+\.\d+$/);

    await site.startOperator();
    const ready = await site.waitFor('the workspace Ready', async () => {
      const live = await site!.get(SDE, 'Workspace', 'patel-rstudio', NS);
      return conditionOf(live, 'Ready')?.status === 'True' && live;
    });
    expect(conditionOf(ready, 'Applied')).toMatchObject({ status: 'True', reason: 'Applied' });
    const kept = await service();
    expect(kept?.spec.clusterIP).toBe(allocated);
    expect(kept?.metadata?.labels?.[PROJECT]).toBe('SDE-2026-0042');
    // Settled: the Service and the Workspace stay as they are.
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    expect((await service())?.metadata?.resourceVersion).toBe(kept?.metadata?.resourceVersion);
    expect((await site.get(SDE, 'Workspace', 'patel-rstudio', NS))?.metadata?.resourceVersion).toBe(ready.metadata?.resourceVersion);
    const events = (await site.client.list(Kinds.Event, { namespace: NS })).items as Array<{ reason?: string }>;
    expect(events.map((e) => e.reason)).not.toContain('FixedAtCreation');
  });
});
