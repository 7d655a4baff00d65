import { describe, expect, it } from 'vitest';
import type { Enclave } from '../../api/enclave.ts';
import type { FederatedJob } from '../../api/federatedjob.ts';
import type { SiteConfig } from '../../api/siteconfig.ts';
import type { Workspace } from '../../api/workspace.ts';
import { checkEnclave, checkFederatedJob, checkWorkspace, FINDING_REASONS } from '../../policy/index.ts';
import type { Finding } from '../../policy/index.ts';
import { cardiacEnclave, jupyterWorkspace, nvflareJob, rstudioWorkspace, uclhSite } from '../constructs/fixtures.ts';

function only(findings: Finding[]): Pick<Finding, 'field' | 'reason'>[] {
  return findings.map(({ field, reason }) => ({ field, reason }));
}

describe('the shipped examples', () => {
  it('break no site rule', () => {
    const site = uclhSite();
    const enclave = cardiacEnclave();
    expect(checkEnclave(enclave, site)).toEqual([]);
    expect(checkWorkspace(jupyterWorkspace(), enclave, site)).toEqual([]);
    expect(checkWorkspace(rstudioWorkspace(), enclave, site)).toEqual([]);
    expect(checkFederatedJob(nvflareJob(), enclave, site)).toEqual([]);
  });
});

describe('checkEnclave', () => {
  const cases: [string, (e: Enclave, s: SiteConfig) => void, Pick<Finding, 'field' | 'reason'>[]][] = [
    ['another site', (e) => { e.spec.site = 'gstt'; }, [{ field: 'spec.site', reason: 'SiteMismatch' }]],
    ['more GPUs than the pool', (e) => { e.spec.resources.gpus = 17; }, [{ field: 'spec.resources.gpus', reason: 'GpusAbovePool' }]],
    ['a GPU product the pool lacks', (e) => { e.spec.resources.gpuProduct = 'NVIDIA-H100-80GB-HBM3'; }, [{ field: 'spec.resources.gpuProduct', reason: 'GpuProductUnavailable' }]],
    // Hostile: a dataset is whatever the site's catalogue says it is, and only what it catalogues exists.
    ['a dataset the site does not catalogue', (e) => { e.spec.data[1]!.name = 'epr-dump'; }, [{ field: 'spec.data[1].name', reason: 'DatasetNotInCatalogue' }]],
    ['a read-only catalogue volume asked writable', (e) => { e.spec.data[0]!.readOnly = false; }, [{ field: 'spec.data[0].readOnly', reason: 'DatasetReadOnly' }]],
    ['a database asked writable', (e) => { e.spec.data[1]!.readOnly = false; }, [{ field: 'spec.data[1].readOnly', reason: 'DatasetReadOnly' }]],
    ['the writable scratch volume as the catalogue has it', (e) => { e.spec.data.push({ name: 'scratch' }); }, []],
    ['the writable scratch volume asked writable', (e) => { e.spec.data.push({ name: 'scratch', readOnly: false }); }, []],
    ['the writable scratch volume narrowed to read-only', (e) => { e.spec.data.push({ name: 'scratch', readOnly: true }); }, []],
    ['a curated volume narrowed to read-only, as it already is', (e) => { e.spec.data[0]!.readOnly = true; }, []],
    ['catalogue volumes that do not fit the storage quota', (e) => { e.spec.data.push({ name: 'hes-standardised' }); e.spec.resources.storage = '2Ti'; }, [{ field: 'spec.resources.storage', reason: 'StorageAboveQuota' }]],
    ['egress inside an allowed destination', (e) => { e.spec.network.egress = [{ cidr: '10.40.3.0/30', ports: [{ port: 443, protocol: 'TCP' }], reason: 'UK Biobank' }]; }, []],
    ['egress wider than the allowed destination', (e) => { e.spec.network.egress = [{ cidr: '10.40.3.0/24', ports: [{ port: 443, protocol: 'TCP' }], reason: 'x' }]; }, [{ field: 'spec.network.egress[0].cidr', reason: 'EgressNotAllowed' }]],
    ['egress to the internet', (e) => { e.spec.network.egress = [{ cidr: '0.0.0.0/0', ports: [{ port: 443, protocol: 'TCP' }], reason: 'x' }]; }, [{ field: 'spec.network.egress[0].cidr', reason: 'EgressNotAllowed' }]],
    ['egress to an address that is not one', (e) => { e.spec.network.egress = [{ cidr: '999.40.3.0/28', ports: [{ port: 443, protocol: 'TCP' }], reason: 'x' }]; }, [{ field: 'spec.network.egress[0].cidr', reason: 'InvalidCidr' }]],
    ['egress on a port the site does not open', (e) => { e.spec.network.egress = [{ cidr: '10.40.3.1/32', ports: [{ port: 443, protocol: 'TCP' }, { port: 22, protocol: 'TCP' }], reason: 'x' }]; }, [{ field: 'spec.network.egress[0].ports[1]', reason: 'EgressNotAllowed' }]],
    ['egress over UDP where the site opens TCP', (e) => { e.spec.network.egress = [{ cidr: '10.40.3.1/32', ports: [{ port: 443, protocol: 'UDP' }], reason: 'x' }]; }, [{ field: 'spec.network.egress[0].ports[0]', reason: 'EgressNotAllowed' }]],
    ['an auto-provisioned image outside the allowed list', (e) => { e.spec.workspaces.autoProvision = { tool: 'jupyterlab', image: 'docker.io/evil/notebook:1', resources: { cpu: '2', memory: '8Gi', gpus: 0 }, storage: { home: '20Gi' } }; }, [{ field: 'spec.workspaces.autoProvision.image', reason: 'ImageNotAllowed' }]],
    // Hostile: an enclave's list narrows the site's registries and never widens them.
    ['an allowed-image prefix outside the site\'s registries', (e) => { e.spec.workspaces.allowedImages = ['docker.io/']; }, [{ field: 'spec.workspaces.allowedImages[0]', reason: 'ImageNotAllowed' }]],
    ['an allowed-image prefix shorter than the site\'s registry', (e) => { e.spec.workspaces.allowedImages = ['nexus.sde.uclh.nhs.uk']; }, [{ field: 'spec.workspaces.allowedImages[0]', reason: 'ImageNotAllowed' }]],
    ['auto-provisioned workspaces with more GPUs than the enclave', (e) => { e.spec.workspaces.autoProvision = { tool: 'jupyterlab', resources: { cpu: '2', memory: '8Gi', gpus: 8 }, storage: { home: '20Gi' } }; }, [{ field: 'spec.workspaces.autoProvision.resources.gpus', reason: 'GpusAboveEnclave' }]],
  ];
  it.each(cases)('%s', (_name, change, expected) => {
    const e = cardiacEnclave();
    const s = uclhSite();
    change(e, s);
    expect(only(checkEnclave(e, s))).toEqual(expected);
  });

  it('names both layers of the image rule when it refuses an image', () => {
    const w = jupyterWorkspace();
    const e = cardiacEnclave();
    w.spec.image = 'docker.io/attacker/cryptominer:latest';
    expect(checkWorkspace(w, e, uclhSite())[0]?.message).toBe(
      'expected an image under one of the site\'s registries ("nexus.sde.uclh.nhs.uk/", "nvcr.io/nvidia/") and one of the enclave\'s allowed images ("nexus.sde.uclh.nhs.uk/sde/", "nvcr.io/nvidia/clara/nvflare:"); found "docker.io/attacker/cryptominer:latest"',
    );
  });

  it('says what was expected and what was found', () => {
    const e = cardiacEnclave();
    e.spec.resources.gpus = 40;
    expect(checkEnclave(e, uclhSite())[0]?.message).toBe("expected at most the 16 GPU(s) of site uclh's pool; found 40");
  });

  it('names a dataset the catalogue lacks, and the catalogue\'s entries', () => {
    const e = cardiacEnclave();
    e.spec.data[1]!.name = 'epr-dump';
    expect(checkEnclave(e, uclhSite())[0]?.message).toBe('expected a dataset of site uclh\'s catalogue (cardiac-mri-curated, omop, xnat, hes-standardised, scratch); found "epr-dump"');
  });

  it('sizes dataset volumes from the catalogue, whatever an enclave object carries', () => {
    const e = cardiacEnclave();
    // An object from before the catalogue, or built around the schema, still names only a dataset.
    Object.assign(e.spec.data[0]!, { size: '1Gi', zone: 'scratch', source: { nfs: { server: 'datalake.sde.uclh.nhs.uk', path: '/raw/epr-dump' } } });
    e.spec.resources.storage = '1Ti';
    expect(checkEnclave(e, uclhSite())[0]?.message).toBe('expected room for the dataset volumes (cardiac-mri-curated 2Ti); found a storage quota of 1Ti');
  });
});

describe('checkWorkspace', () => {
  const cases: [string, (w: Workspace, e: Enclave, s: SiteConfig) => void, Pick<Finding, 'field' | 'reason'>[]][] = [
    ['an owner who is not a member', (w) => { w.spec.owner = 'x@y.org'; }, [{ field: 'spec.owner', reason: 'OwnerNotMember' }]],
    ['an output checker as owner', (w) => { w.spec.owner = 's.nguyen@uclh.nhs.uk'; }, [{ field: 'spec.owner', reason: 'RoleMayNotRunWorkspaces' }]],
    ['an owner in a member group the site cannot resolve', (w, e) => { w.spec.owner = 'a.new@ucl.ac.uk'; e.spec.members.push({ group: 'imaging', role: 'researcher' }); }, [{ field: 'spec.owner', reason: 'OwnerNotMember' }]],
    ['an image outside the enclave list', (w) => { w.spec.image = 'nvcr.io/nvidia/pytorch:24.01-py3'; }, [{ field: 'spec.image', reason: 'ImageNotAllowed' }]],
    ['a dataset the enclave lacks', (w) => { w.spec.datasets = ['omop', 'hes']; }, [{ field: 'spec.datasets[1]', reason: 'UnknownDataset' }]],
    ['a dataset the site catalogues but the enclave does not name', (w) => { w.spec.datasets = ['hes-standardised']; }, [{ field: 'spec.datasets[0]', reason: 'UnknownDataset' }]],
    ['a dataset the enclave names but the site no longer catalogues', (w, _e, s) => { s.datasets = s.datasets.filter((d) => d.name !== 'omop'); w.spec.datasets = ['omop']; }, [{ field: 'spec.datasets[0]', reason: 'UnknownDataset' }]],
    ['more GPUs than the enclave', (w) => { w.spec.resources.gpus = 5; }, [{ field: 'spec.resources.gpus', reason: 'GpusAboveEnclave' }]],
    ['a GPU product the pool lacks', (w) => { w.spec.resources.gpuProduct = 'Tesla-T4'; }, [{ field: 'spec.resources.gpuProduct', reason: 'GpuProductUnavailable' }]],
    ['a name too long for its StatefulSet', (w) => { w.metadata.name = 'w'.repeat(53); }, [{ field: 'metadata.name', reason: 'NameTooLong' }]],
    // Hostile: its Service would be federated job fj-host-agg's aggregator Service.
    ['a name ending as a federated job\'s aggregator does', (w) => { w.metadata.name = 'fj-host-agg-aggregator'; }, [{ field: 'metadata.name', reason: 'NameReserved' }]],
    ['a name ending as a home claim does', (w) => { w.metadata.name = 'notes-home'; }, [{ field: 'metadata.name', reason: 'NameReserved' }]],
    ['another enclave\'s namespace', (w) => { w.metadata.namespace = 'sde-other'; }, [{ field: 'metadata.namespace', reason: 'NamespaceMismatch' }]],
    ['site registries when the enclave lists no images', (w, e) => { e.spec.workspaces.allowedImages = []; w.spec.image = 'nvcr.io/nvidia/pytorch:24.01-py3'; }, []],
    // Hostile: the enclave's list widened to docker.io, which the site does not allow.
    ['an image the enclave allows from a registry the site does not', (w, e) => { e.spec.workspaces.allowedImages = ['docker.io/']; w.spec.image = 'docker.io/attacker/cryptominer:latest'; }, [{ field: 'spec.image', reason: 'ImageNotAllowed' }]],
  ];
  it.each(cases)('%s', (_name, change, expected) => {
    const w = jupyterWorkspace();
    const e = cardiacEnclave();
    const s = uclhSite();
    change(w, e, s);
    expect(only(checkWorkspace(w, e, s))).toEqual(expected);
  });

  it('accepts an owner through a member group the site resolves', () => {
    const w = jupyterWorkspace();
    const e = cardiacEnclave();
    const s = uclhSite();
    w.spec.owner = 'a.new@ucl.ac.uk';
    e.spec.members.push({ group: 'imaging', role: 'researcher' });
    s.groups = { imaging: ['a.new@ucl.ac.uk'] };
    expect(checkWorkspace(w, e, s)).toEqual([]);
  });
});

describe('checkFederatedJob', () => {
  const cases: [string, (j: FederatedJob) => void, Pick<Finding, 'field' | 'reason'>[]][] = [
    ['an unknown aggregator', (j) => { j.spec.aggregator.endpoint = 'paris-fl'; }, [{ field: 'spec.aggregator.endpoint', reason: 'UnknownAggregator' }]],
    ['a participant image from an unknown registry', (j) => { j.spec.participant.image = 'docker.io/flwr/supernode:1.13'; }, [{ field: 'spec.participant.image', reason: 'ImageNotAllowed' }]],
    ['an aggregator image from an unknown registry', (j) => { j.spec.aggregator.image = 'ghcr.io/x/server:1'; }, [{ field: 'spec.aggregator.image', reason: 'ImageNotAllowed' }]],
    // Hostile: a Secret of the namespace mounted into a job that runs the researcher's own command.
    ['a CA Secret other than the site\'s federation kit', (j) => { j.spec.aggregator.caSecretRef = { name: 'site-admin-backup-creds' }; }, [{ field: 'spec.aggregator.caSecretRef.name', reason: 'SecretNotDeclared' }]],
    // Hostile: under the site's registries but outside what the enclave narrowed them to.
    ['a participant image the site allows but the enclave does not', (j) => { j.spec.participant.image = 'nvcr.io/nvidia/pytorch:24.01-py3'; }, [{ field: 'spec.participant.image', reason: 'ImageNotAllowed' }]],
    ['a dataset the enclave lacks', (j) => { j.spec.participant.datasets = ['hes']; }, [{ field: 'spec.participant.datasets[0]', reason: 'UnknownDataset' }]],
    ['a database dataset participants cannot reach', (j) => { j.spec.participant.datasets = ['omop']; }, [{ field: 'spec.participant.datasets[0]', reason: 'DatasetUnreachable' }]],
    ['an imaging dataset participants cannot reach', (j) => { j.spec.participant.datasets = ['xnat']; }, [{ field: 'spec.participant.datasets[0]', reason: 'DatasetUnreachable' }]],
    ['more GPUs than the enclave', (j) => { j.spec.participant.resources.gpus = 8; }, [{ field: 'spec.participant.resources.gpus', reason: 'GpusAboveEnclave' }]],
  ];
  it.each(cases)('%s', (_name, change, expected) => {
    const j = nvflareJob();
    change(j);
    expect(only(checkFederatedJob(j, cardiacEnclave(), uclhSite()))).toEqual(expected);
  });
});

describe('the federation kit', () => {
  it('says which Secret the site declares, or that it declares none', () => {
    const job = nvflareJob();
    job.spec.aggregator.caSecretRef = { name: 'site-admin-backup-creds' };
    expect(checkFederatedJob(job, cardiacEnclave(), uclhSite())[0]?.message).toBe('expected the federation kit site uclh declares ("nvflare-startup-kit" for aggregator london-fl); found "site-admin-backup-creds"');
    const site = uclhSite();
    site.aggregators = site.aggregators.map(({ kitSecret: _kit, ...aggregator }) => aggregator);
    expect(checkFederatedJob(nvflareJob(), cardiacEnclave(), site)[0]?.message).toBe('expected the federation kit site uclh declares (none for aggregator london-fl); found "nvflare-startup-kit"');
  });
});

describe('finding reasons', () => {
  it('are CamelCase and unique', () => {
    for (const r of FINDING_REASONS) expect(r).toMatch(/^[A-Z][A-Za-z]+$/);
    expect(new Set(FINDING_REASONS).size).toBe(FINDING_REASONS.length);
  });
});
