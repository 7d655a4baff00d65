// No reference or name a member chooses can point at what is not theirs: a Workspace named like a
// federated job's aggregator is refused (the Service stays the job's), and a federated job naming
// any Secret but the site's federation kit is refused before anything mounts it. Issue 20's
// hostile cases, over HTTP against the devcluster with the real operator.
import type { KubernetesObject } from '@kubernetes/client-node';
import { afterEach, describe, expect, it } from 'vitest';
import { conditionOf, example, startTestSite } from './harness.ts';
import type { TestSite } from './harness.ts';

const SDE = 'sde.london/v1alpha1';
const NS = 'sde-cardiac-mri';
type Obj = KubernetesObject & { spec?: Record<string, unknown> };

describe('names that would collide', () => {
  let site: TestSite | undefined;
  afterEach(async () => {
    await site?.close();
    site = undefined;
  });

  it('refuses a workspace named as a hosted aggregator\'s Service, which stays the federated job\'s', async () => {
    site = await startTestSite();
    await site.startOperator();
    await site.apply(example('enclave-cardiac-mri.yaml'));
    await site.waitFor('enclave Ready', async () => conditionOf(await site!.get(SDE, 'Enclave', 'cardiac-mri'), 'Ready')?.status === 'True');
    const job = example('federatedjob-nvflare.yaml')[0] as Obj;
    // This site hosts the aggregator: a Deployment and a Service fj-host-agg-aggregator.
    const hosted: Obj = { ...job, metadata: { name: 'fj-host-agg', namespace: NS }, spec: { ...job.spec, aggregator: { ...(job.spec?.aggregator as object), site: 'uclh' } } };
    await site.apply([hosted]);
    const service = () => site!.get<Obj>('v1', 'Service', 'fj-host-agg-aggregator', NS);
    const owned = await site.waitFor('the aggregator Service', async () => (await service()) ?? false);
    const jupyter = example('workspace-jupyter-gpu.yaml')[0] as Obj;
    await site.apply([{ ...jupyter, metadata: { name: 'fj-host-agg-aggregator', namespace: NS } }]);
    const refused = await site.waitFor('the workspace refused', async () => {
      const ws = await site!.get(SDE, 'Workspace', 'fj-host-agg-aggregator', NS);
      return conditionOf(ws, 'SpecValid')?.reason === 'NameReserved' && conditionOf(ws, 'SpecValid');
    });
    expect(refused.message).toContain('expected a name not ending in "-aggregator"');
    const after = await service();
    expect(after?.metadata?.ownerReferences?.map((r) => `${r.kind}/${r.name}`)).toEqual(['FederatedJob/fj-host-agg']);
    expect(after?.spec?.selector).toEqual(owned.spec?.selector);
    expect(await site.get('apps/v1', 'StatefulSet', 'fj-host-agg-aggregator', NS)).toBeUndefined();
  });

  it('refuses a federated job that names a Secret other than the federation kit, and creates nothing that would mount it', async () => {
    site = await startTestSite();
    await site.startOperator();
    await site.apply(example('enclave-cardiac-mri.yaml'));
    await site.waitFor('enclave Ready', async () => conditionOf(await site!.get(SDE, 'Enclave', 'cardiac-mri'), 'Ready')?.status === 'True');
    const job = example('federatedjob-nvflare.yaml')[0] as Obj;
    const reader: Obj = { ...job, metadata: { name: 'cat-secrets', namespace: NS }, spec: { ...job.spec, aggregator: { ...(job.spec?.aggregator as object), caSecretRef: { name: 'site-admin-backup-creds' } }, participant: { ...(job.spec?.participant as object), command: ['sh', '-c', 'cat /var/run/secrets/sde/federation/*'] } } };
    await site.apply([reader]);
    const refused = await site.waitFor('the job refused', async () => {
      const condition = conditionOf(await site!.get(SDE, 'FederatedJob', 'cat-secrets', NS), 'SpecValid');
      return condition?.reason === 'SecretNotDeclared' && condition;
    });
    expect(refused.message).toContain('spec.aggregator.caSecretRef.name: expected the federation kit site uclh declares ("nvflare-startup-kit" for aggregator london-fl); found "site-admin-backup-creds"');
    expect(await site.get('batch/v1', 'Job', 'cat-secrets-participant', NS)).toBeUndefined();
  });
});
