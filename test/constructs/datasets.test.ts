// Datasets as the site's catalogue describes them: the volumes, claims, mounts, credentials and
// egress an enclave's workspaces and federated-job participants get come from the catalogue entry
// the enclave names, never from anything the enclave says about the dataset.
import { describe, expect, it } from 'vitest';
import type { V1NetworkPolicy } from '@kubernetes/client-node';
import { renderEnclave, renderFederatedJob, renderWorkspace } from '../../constructs/index.ts';
import type { KubeObject } from '../../constructs/objects.ts';
import { NETWORK_POLICY_NAMES } from '../../constructs/network.ts';
import { cardiacEnclave, find, jupyterWorkspace, nvflareJob, ofKind, uclhSite } from './fixtures.ts';
import { podTemplates } from './pods.ts';

const active = { accessActive: true };
const here = { accessActive: true, thisSite: 'uclh' };

function podOf(objects: KubeObject[]) {
  const [pod] = podTemplates(objects);
  if (pod === undefined) throw new Error('expected a pod template');
  return pod.spec;
}

describe('datasets from the site\'s catalogue', () => {
  it('gives a workspace exactly the catalogue\'s source and credential', () => {
    const site = uclhSite();
    const enclave = cardiacEnclave();
    const ws = jupyterWorkspace();
    ws.spec.datasets = ['cardiac-mri-curated', 'omop', 'xnat'];
    const pv = find(renderEnclave(enclave, site, active), 'PersistentVolume', 'sde-cardiac-mri.cardiac-mri-curated').spec as Record<string, unknown>;
    expect(pv).toMatchObject({ nfs: { server: 'datalake.sde.uclh.nhs.uk', path: '/curated/cardiac-mri', readOnly: true }, capacity: { storage: '2Ti' } });
    const pod = podOf(renderWorkspace(ws, enclave, site, active));
    const env = pod.containers[0]?.env ?? [];
    expect(env).toContainEqual({ name: 'SDE_DATASET_OMOP_HOST', value: 'omop.sde.uclh.nhs.uk' });
    expect(env).toContainEqual({ name: 'SDE_DATASET_OMOP_PORT', value: '5432' });
    expect(env).toContainEqual({ name: 'SDE_DATASET_XNAT_HOST', value: 'xnat.sde.uclh.nhs.uk' });
    expect(pod.volumes?.filter((v) => v.secret).map((v) => v.secret?.secretName)).toEqual(['omop-readonly', 'xnat-token']);
  });

  it('takes one key of the catalogue\'s Secret as the credential when the catalogue names one', () => {
    const site = uclhSite();
    const omop = site.datasets.find((d) => d.name === 'omop');
    if (omop?.kind === 'volume' || omop === undefined) throw new Error('expected the omop database');
    omop.source.secretRef = { name: 'omop-readonly', key: 'password' };
    const ws = jupyterWorkspace();
    ws.spec.datasets = ['omop'];
    const pod = podOf(renderWorkspace(ws, cardiacEnclave(), site, active));
    expect(pod.containers[0]?.env).toContainEqual({ name: 'SDE_DATASET_OMOP_CREDENTIALS', valueFrom: { secretKeyRef: { name: 'omop-readonly', key: 'password', optional: false } } });
    expect(pod.volumes?.filter((v) => v.secret)).toEqual([]);
  });

  it('gives a federated-job participant the catalogue\'s volumes only', () => {
    const site = uclhSite();
    const enclave = cardiacEnclave();
    enclave.spec.data.push({ name: 'scratch' });
    const job = nvflareJob();
    job.spec.participant.datasets = ['cardiac-mri-curated', 'scratch', 'omop'];
    const pod = podOf(renderFederatedJob(job, enclave, site, here));
    expect(pod.volumes?.filter((v) => v.persistentVolumeClaim).map((v) => v.persistentVolumeClaim)).toEqual([
      { claimName: 'data-cardiac-mri-curated', readOnly: true },
      { claimName: 'data-scratch', readOnly: false },
    ]);
    expect(JSON.stringify(pod.containers[0]?.env)).not.toContain('SDE_DATASET_OMOP');
  });

  it('writes scratch space only where the catalogue allows it, through the enclave\'s own folder, and lets an enclave narrow it', () => {
    const site = uclhSite();
    const enclave = cardiacEnclave();
    enclave.spec.data.push({ name: 'scratch' });
    const ws = jupyterWorkspace();
    ws.spec.datasets = ['scratch'];
    const objects = renderEnclave(enclave, site, active);
    expect(find(objects, 'PersistentVolume', 'sde-cardiac-mri.scratch').spec).toMatchObject({ accessModes: ['ReadWriteMany'], csi: { driver: 'nfs.csi.k8s.io', volumeHandle: 'datalake.sde.uclh.nhs.uk#scratch', readOnly: false } });
    expect(podOf(renderWorkspace(ws, enclave, site, active)).containers[0]?.volumeMounts).toContainEqual({ name: 'data-scratch', mountPath: '/data/scratch', readOnly: false, subPath: 'cardiac-mri' });
    enclave.spec.data[3] = { name: 'scratch', readOnly: true };
    expect(find(renderEnclave(enclave, site, active), 'PersistentVolumeClaim', 'data-scratch').spec).toMatchObject({ accessModes: ['ReadOnlyMany'] });
    expect(podOf(renderWorkspace(ws, enclave, site, active)).containers[0]?.volumeMounts).toContainEqual({ name: 'data-scratch', mountPath: '/data/scratch', readOnly: true, subPath: 'cardiac-mri' });
  });

  // Hostile: the render never widens what the catalogue says, whatever the enclave object holds.
  it('keeps a curated volume read-only when an enclave asks to write it', () => {
    const enclave = cardiacEnclave();
    enclave.spec.data[0] = { name: 'cardiac-mri-curated', readOnly: false };
    const site = uclhSite();
    expect(find(renderEnclave(enclave, site, active), 'PersistentVolume', 'sde-cardiac-mri.cardiac-mri-curated').spec).toMatchObject({ accessModes: ['ReadOnlyMany'], nfs: { readOnly: true } });
    expect(podOf(renderWorkspace(jupyterWorkspace(), enclave, site, active)).containers[0]?.volumeMounts).toContainEqual({ name: 'data-cardiac-mri-curated', mountPath: '/data/cardiac-mri-curated', readOnly: true });
  });

  it('mounts nothing from a source an enclave object names itself, nor a dataset the catalogue lacks', () => {
    const enclave = cardiacEnclave();
    // As an enclave from before the catalogue (or one built around the schema) would carry them.
    Object.assign(enclave.spec.data[0]!, { zone: 'curated', source: { nfs: { server: 'datalake.sde.uclh.nhs.uk', path: '/raw/epr-dump' } } });
    Object.assign(enclave.spec.data[1]!, { source: { endpoint: 'cogstack', secretRef: { name: 'cogstack-admin' } } });
    enclave.spec.data.push(Object.assign({ name: 'epr-dump' }, { kind: 'volume', zone: 'curated', source: { nfs: { server: 'datalake.sde.uclh.nhs.uk', path: '/raw/epr-dump' } } }));
    const site = uclhSite();
    const ws = jupyterWorkspace();
    ws.spec.datasets = ['cardiac-mri-curated', 'omop', 'epr-dump'];
    const objects = [...renderEnclave(enclave, site, active), ...renderWorkspace(ws, enclave, site, active)];
    expect(JSON.stringify(objects)).not.toMatch(/\/raw\/|cogstack/);
    expect(ofKind(objects, 'PersistentVolume').map((o) => o.metadata.name)).toEqual(['sde-cardiac-mri.cardiac-mri-curated']);
    expect(ofKind(objects, 'PersistentVolumeClaim').map((o) => o.metadata.name)).not.toContain('data-epr-dump');
    const datasets = find(objects, 'NetworkPolicy', NETWORK_POLICY_NAMES.datasets) as unknown as V1NetworkPolicy;
    expect(datasets.spec?.egress?.flatMap((r) => r.to ?? []).map((p) => p.ipBlock?.cidr)).toEqual(['10.40.2.20/32', '10.40.2.30/32']);
  });
});
