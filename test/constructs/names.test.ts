import { describe, expect, it } from 'vitest';
import { renderEnclave, renderFederatedJob, renderWorkspace } from '../../constructs/index.ts';
import { enclaveOwnChildrenSelector } from '../../constructs/labels.ts';
import { childName, memberName, prefixedName } from '../../api/names.ts';
import { datasetVolumeName } from '../../constructs/datasets.ts';
import { cardiacEnclave, jupyterWorkspace, nvflareJob, uclhSite } from './fixtures.ts';

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

describe('rendered names', () => {
  it.each([
    ['okafor-jupyter', 'home', 'okafor-jupyter-home'],
    ['a'.repeat(63), 'home', undefined],
    ['fl-'.padEnd(63, 'x'), 'participant-egress', undefined],
  ])('childName(%s, %s) is a DNS label of at most 63 characters', (base, suffix, expected) => {
    const name = childName(base, suffix);
    expect(name.length).toBeLessThanOrEqual(63);
    expect(name).toMatch(DNS_LABEL);
    expect(name.endsWith(`-${suffix}`)).toBe(true);
    if (expected !== undefined) expect(name).toBe(expected);
  });

  it('keeps shortened names distinct', () => {
    expect(childName(`${'a'.repeat(60)}-one`, 'home')).not.toBe(childName(`${'a'.repeat(60)}-two`, 'home'));
    expect(prefixedName('data', `${'d'.repeat(60)}1`)).not.toBe(prefixedName('data', `${'d'.repeat(60)}2`));
    expect(memberName('auto', 'A.B@x.org')).not.toBe(memberName('auto', 'a.b@x.org'));
  });

  it('never gives two enclaves the same dataset volume name', () => {
    expect(datasetVolumeName('a-b', 'c')).not.toBe(datasetVolumeName('a', 'b-c'));
  });

  it('stays within Kubernetes limits for the longest names the API accepts', () => {
    const enclave = cardiacEnclave();
    enclave.metadata.name = 'e'.repeat(59);
    enclave.spec.data[0]!.name = 'd'.repeat(63);
    enclave.spec.members.push({ user: `${'very-long-user-name.'.repeat(12)}@example.org`, role: 'researcher' });
    enclave.spec.workspaces.autoProvision = { tool: 'vscode', resources: { cpu: '1', memory: '1Gi', gpus: 0 }, storage: { home: '1Gi' } };
    const ws = jupyterWorkspace();
    ws.metadata.name = 'w'.repeat(63);
    ws.metadata.namespace = `sde-${enclave.metadata.name}`;
    ws.spec.datasets = [enclave.spec.data[0]!.name];
    const job = nvflareJob();
    job.metadata.name = 'j'.repeat(63);
    job.metadata.namespace = ws.metadata.namespace;
    job.spec.aggregator.site = 'uclh';
    const site = uclhSite();
    site.datasets[0]!.name = enclave.spec.data[0]!.name;
    const objects = [
      ...renderEnclave(enclave, site, { accessActive: true }),
      ...renderWorkspace(ws, enclave, site, { accessActive: true }),
      ...renderFederatedJob(job, enclave, site, { accessActive: true, thisSite: 'uclh' }),
    ];
    for (const o of objects) {
      if (o.kind === 'PersistentVolume') expect(o.metadata.name.length).toBeLessThanOrEqual(253);
      else expect(o.metadata.name, `${o.kind} ${o.metadata.name}`).toMatch(DNS_LABEL);
      if (o.kind !== 'PersistentVolume') expect(o.metadata.name.length).toBeLessThanOrEqual(63);
      for (const v of Object.values(o.metadata.labels ?? {})) expect(v.length).toBeLessThanOrEqual(63);
    }
    for (const w of objects.filter((o) => o.kind === 'Workspace')) expect(w.metadata.name.length).toBeLessThanOrEqual(52);
    expect(objects.filter((o) => o.kind === 'Workspace')).toHaveLength(3);
    const volumes = objects.flatMap((o) => ((o.spec as { template?: { spec?: { volumes?: { name: string }[] } } } | undefined)?.template?.spec?.volumes ?? []).map((v) => v.name));
    for (const v of volumes) expect(v).toMatch(DNS_LABEL);
    for (const v of volumes) expect(v.length).toBeLessThanOrEqual(63);
    expect(objects.filter((o) => o.kind === 'PersistentVolumeClaim' && o.metadata.name.startsWith('data-'))).toHaveLength(1);
  });

  it('selects only the enclave\'s own children for pruning', () => {
    expect(enclaveOwnChildrenSelector('cardiac-mri')).toBe('app.kubernetes.io/managed-by=sde-operator,sde.london/enclave=cardiac-mri,!sde.london/workspace,!sde.london/federatedjob');
  });
});
