// The data use register on the local Kubernetes, as a visitor and a platform engineer see it:
// every project listed while active, after it ends and after its enclave is deleted (even while
// no operator ran), kept in ConfigMaps across restarts, served as JSON, CSV and HTML on its own
// listener, written only when a record changes, and never naming a member.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { KubernetesObject } from '@kubernetes/client-node';
import { KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderOperatorInstall } from '../../constructs/install/operator.ts';
import { createOperator } from '../../operator/operator.ts';
import { REGISTER_LISTENER } from '../../operator/data-use-register/index.ts';
import { createLogger, Kinds } from '../../operator/runtime/index.ts';
import type { Manager } from '../../operator/runtime/index.ts';
import { exampleSite, settled, startTestSite } from './harness.ts';
import type { TestSite } from './harness.ts';
import { daysFromNow, memberIdentities, publishedProjects, REGISTER_NAMESPACE, registerEnclave } from './register-fixtures.ts';

const SDE = 'sde.london/v1alpha1';
const register = { namespace: REGISTER_NAMESPACE, port: 0, host: '127.0.0.1' };

const active = registerEnclave('cardiac-mri', 'SDE-2026-0042', 'Deep learning for cardiac MRI outcome prediction', { validFrom: daysFromNow(-30), expiresAt: daysFromNow(365) });
const expired = registerEnclave('sepsis-2025', 'SDE-2025-0007', 'Early warning of sepsis from ward observations', {
  validFrom: daysFromNow(-400),
  expiresAt: daysFromNow(-40),
  extensions: [{ until: daysFromNow(-10), justification: 'Reviewers asked for a validation cohort', approvedBy: 'UCLH Data Access Committee' }],
});
const retired = registerEnclave('retired-pilot', 'SDE-2026-0051', 'Pilot of imaging de-identification', { expiresAt: daysFromNow(200) });
const ALL = [active, expired, retired];

/** The resourceVersion of each register record, by the enclave it is about: a write changes it. */
function versions(records: readonly KubernetesObject[]): Record<string, string | undefined> {
  return Object.fromEntries(records.map((r) => [r.metadata?.labels?.['sde.london/registered-enclave'] ?? '', r.metadata?.resourceVersion]));
}

describe('the data use register on a site', () => {
  let site: TestSite;
  let base: string;
  const records = async (): Promise<KubernetesObject[]> => (await site.client.list(Kinds.ConfigMap, { namespace: REGISTER_NAMESPACE, labelSelector: 'app.kubernetes.io/component=data-use-register' })).items;
  const start = async (): Promise<Manager> => {
    const operator = await site.startOperator({ register });
    base = `http://127.0.0.1:${operator.portOf(REGISTER_LISTENER)}`;
    return operator;
  };

  beforeAll(async () => {
    site = await startTestSite();
    await site.apply([{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: REGISTER_NAMESPACE } }]);
    await start();
    await site.apply(ALL);
  });
  afterAll(async () => site?.close());

  it('lists an active, an expired and a deleted project, each kept as a ConfigMap in the operator\'s namespace', async () => {
    await site.waitFor('three records', async () => (await records()).length === 3);
    await site.client.delete({ apiVersion: SDE, kind: 'Enclave', metadata: { name: 'retired-pilot' } });
    const projects = await site.waitFor('the deleted project closed', async () => {
      const listed = await publishedProjects(base);
      return Boolean(listed.find((p) => p.projectId === 'SDE-2026-0051')?.closedAt) && listed;
    });
    expect(projects.map((p) => [p.projectId, p.status])).toEqual([
      ['SDE-2025-0007', 'ended'],
      ['SDE-2026-0042', 'active'],
      ['SDE-2026-0051', 'closed'],
    ]);
    expect(projects[0]?.extensions).toEqual(expired.spec.access.extensions);
    expect(await site.get(SDE, 'Enclave', 'retired-pilot')).toBeUndefined();
    expect((await records()).map((r) => r.metadata?.labels?.['sde.london/registered-enclave']).sort()).toEqual(['cardiac-mri', 'retired-pilot', 'sepsis-2025']);
  });

  it('records an extension with its justification, and the end moves', async () => {
    const extended = structuredClone(active);
    const until = daysFromNow(500);
    extended.spec.access.extensions = [{ until, justification: 'Funder extended the grant by four months', approvedBy: 'UCLH Data Access Committee' }];
    await site.apply([extended]);
    const project = await site.waitFor('the extension on record', async () => (await publishedProjects(base)).find((p) => p.projectId === 'SDE-2026-0042' && p.extensions.length === 1));
    expect(project.extensions[0]).toEqual({ until, justification: 'Funder extended the grant by four months', approvedBy: 'UCLH Data Access Committee' });
    expect(project.endsAt).toBe(new Date(until).toISOString());
  });

  it('shows a project whose period ends as ended, without writing anything for it', async () => {
    await site.apply([registerEnclave('short-audit', 'SDE-2026-0060', 'Audit of discharge letters', { expiresAt: new Date(Date.now() + 3_000).toISOString() })]);
    await site.waitFor('the short project active', async () => (await publishedProjects(base)).find((p) => p.projectId === 'SDE-2026-0060')?.status === 'active');
    const before = versions(await records());
    await site.waitFor('the short project ended', async () => (await publishedProjects(base)).find((p) => p.projectId === 'SDE-2026-0060')?.status === 'ended', 10_000);
    await settled((site.operator as Manager).client.requests);
    expect(versions(await records())).toEqual(before);
  });

  it('survives a restart, and closes the record of an enclave deleted while no operator ran', async () => {
    await site.stopOperator();
    const before = versions(await records());
    await site.client.delete({ apiVersion: SDE, kind: 'Enclave', metadata: { name: 'cardiac-mri' } });
    await site.waitFor('the enclave gone', async () => (await site.get(SDE, 'Enclave', 'cardiac-mri')) === undefined);
    const operator = await start();
    const projects = await site.waitFor('the deleted project closed after the restart', async () => {
      const listed = await publishedProjects(base);
      return Boolean(listed.find((p) => p.projectId === 'SDE-2026-0042')?.closedAt) && listed;
    });
    expect(projects.map((p) => [p.projectId, p.status])).toEqual([
      ['SDE-2025-0007', 'ended'],
      ['SDE-2026-0042', 'closed'],
      ['SDE-2026-0051', 'closed'],
      ['SDE-2026-0060', 'ended'],
    ]);
    expect(projects.find((p) => p.projectId === 'SDE-2026-0042')?.extensions).toHaveLength(1);
    await settled(operator.client.requests);
    // The closed record is the only one a restart had to write; the others were as rendered.
    const after = versions(await records());
    expect(after['cardiac-mri']).not.toBe(before['cardiac-mri']);
    expect({ ...after, 'cardiac-mri': undefined }).toEqual({ ...before, 'cardiac-mri': undefined });
  });

  it('writes nothing at steady state', async () => {
    const operator = site.operator as Manager;
    const before = (await settled(operator.client.requests)).get('apply') ?? 0;
    const writes = operator.client.writes;
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    expect(operator.client.writes).toBe(writes);
    expect(operator.client.requests.get('apply') ?? 0).toBe(before);
  });

  it('serves JSON, CSV and an HTML page, with no member named in any of them', async () => {
    const [html, csv, json] = await Promise.all(['/', '/register.csv', '/register.json'].map((path) => fetch(`${base}${path}`)));
    expect(html?.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(html?.headers.get('content-security-policy')).toMatch(/^default-src 'none'; style-src 'sha256-/);
    expect(csv?.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(csv?.headers.get('content-disposition')).toBe('attachment; filename="data-use-register-uclh.csv"');
    expect(json?.headers.get('content-type')).toBe('application/json; charset=utf-8');
    const bodies = await Promise.all([html, csv, json].map((r) => (r as Response).text()));
    expect(bodies[0]).toContain('<th scope="row">SDE-2025-0007</th>');
    expect(bodies[1]?.split('\r\n').filter((line) => /^SDE-/.test(line))).toHaveLength(4);
    const everything = [...bodies, JSON.stringify(await records())].join('\n');
    const identities = memberIdentities(ALL);
    expect(identities).toEqual(expect.arrayContaining(['j.patel@ucl.ac.uk', 'cardiac-imaging-team']));
    for (const identity of identities) expect(everything).not.toContain(identity);
  });

  it('answers only its three pages: 404 elsewhere (no metrics, no health), 405 for writes', async () => {
    for (const path of ['/metrics', '/healthz', '/register', '/api/v1/namespaces']) expect((await fetch(`${base}${path}`)).status).toBe(404);
    const post = await fetch(`${base}/register.json`, { method: 'POST', body: '{}' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
    const head = await fetch(`${base}/register.csv`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
  });
});

describe('an operator whose register port is taken', () => {
  it('refuses to start and closes the metrics port it had opened, so the process can exit', async () => {
    const site = await startTestSite();
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    try {
      const port = (taken.address() as AddressInfo).port;
      const operator = createOperator({ site: exampleSite, kubeConfig: site.kubeConfig, port: 0, host: '127.0.0.1', register: { ...register, port }, logger: createLogger({ level: 'silent' }) });
      await expect(operator.start()).rejects.toThrow(/EADDRINUSE/);
      await expect(fetch(`http://127.0.0.1:${operator.port}/healthz`)).rejects.toThrow();
    } finally {
      taken.close();
      await site.close();
    }
  });
});

describe('the register under the operator\'s own RBAC', () => {
  let site: TestSite;
  const SERVICE_ACCOUNT = `system:serviceaccount:${REGISTER_NAMESPACE}:sde-operator`;

  beforeAll(async () => {
    site = await startTestSite({ cluster: { tokens: [{ token: 'admin-token', user: 'admin', groups: ['system:masters'] }, { token: 'operator-token', user: SERVICE_ACCOUNT, groups: ['system:serviceaccounts'] }] } });
    const install = renderOperatorInstall(exampleSite, { namespace: REGISTER_NAMESPACE });
    await site.apply(install.filter((o) => ['Namespace', 'ServiceAccount', 'ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding'].includes(o.kind)) as KubernetesObject[]);
  });
  afterAll(async () => site?.close());

  it('keeps and serves the register with exactly the installed permissions', async () => {
    const asOperator = new KubeConfig();
    asOperator.loadFromOptions({
      clusters: [{ name: 'devcluster', server: site.cluster.url, skipTLSVerify: true }],
      users: [{ name: 'sde-operator', token: 'operator-token' }],
      contexts: [{ name: 'sde-operator', cluster: 'devcluster', user: 'sde-operator' }],
      currentContext: 'sde-operator',
    });
    const operator = await site.startOperator({ kubeConfig: asOperator, register });
    await site.apply([active]);
    const base = `http://127.0.0.1:${operator.portOf(REGISTER_LISTENER)}`;
    await site.waitFor('the project listed', async () => (await publishedProjects(base)).some((p) => p.projectId === 'SDE-2026-0042'));
    await site.client.delete({ apiVersion: SDE, kind: 'Enclave', metadata: { name: 'cardiac-mri' } });
    await site.waitFor('the project closed', async () => (await publishedProjects(base)).find((p) => p.projectId === 'SDE-2026-0042')?.status === 'closed');
  });
});
