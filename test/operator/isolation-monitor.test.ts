// The isolation monitor on the local Kubernetes with the real operator (issue 19): each drift is
// planted by hand and found with the object named; removing it restores the condition; report-only
// never deletes, revert does; the operator's own boundary objects are put back and the drift is
// reported; with gateWorkspaces a workspace stops while its enclave's isolation is breached.
import type { KubernetesObject } from '@kubernetes/client-node';
import { afterEach, describe, expect, it } from 'vitest';
import { MANAGED_BY, MANAGER } from '../../api/labels.ts';
import { siteConfig } from '../../api/siteconfig.ts';
import type { SiteConfig } from '../../api/siteconfig.ts';
import { OPERATOR_IDENTITY } from '../../operator/identity.ts';
import { accessMonitorController, foreignBindingChange, subjectAccessReviews } from '../../operator/isolation/access-monitor.ts';
import { Everyone } from '../../operator/kinds.ts';
import { IsolationStore } from '../../operator/isolation/store.ts';
import { createLogger, Manager } from '../../operator/runtime/index.ts';
import { conditionOf, example, exampleSite, startTestSite } from './harness.ts';
import type { TestSite } from './harness.ts';

const SDE = 'sde.london/v1alpha1';
const NS = 'sde-cardiac-mri';
type Condition = { status: string; reason: string; message: string };

const allowAllEgress = (name: string): KubernetesObject => ({
  apiVersion: 'networking.k8s.io/v1',
  kind: 'NetworkPolicy',
  metadata: { name, namespace: NS },
  spec: { podSelector: {}, policyTypes: ['Egress'], egress: [{ to: [{ ipBlock: { cidr: '0.0.0.0/0' } }] }] },
} as KubernetesObject);

const secretsForResearcher: KubernetesObject[] = [
  { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name: 'read-secrets', namespace: NS }, rules: [{ apiGroups: [''], resources: ['secrets'], verbs: ['get', 'list'] }] } as KubernetesObject,
  {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'RoleBinding',
    metadata: { name: 'helpful-admin', namespace: NS },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'read-secrets' },
    subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: 'm.okafor@ucl.ac.uk' }],
  } as KubernetesObject,
];

describe('which binding changes the access check asks about', () => {
  const binding = (name: string, own: boolean): KubernetesObject => ({
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'RoleBinding',
    metadata: { name, namespace: NS, ...(own ? { labels: { [MANAGED_BY]: MANAGER } } : {}) },
  });

  it('skips the operator\'s own bindings being made, changed or revoked, and asks about every other', () => {
    expect(foreignBindingChange({ type: 'ADDED', object: binding('member-lead', true) })).toBe(false);
    expect(foreignBindingChange({ type: 'MODIFIED', object: binding('member-lead', true), previous: binding('member-lead', true) })).toBe(false);
    expect(foreignBindingChange({ type: 'DELETED', object: binding('member-lead', true) })).toBe(false);
    expect(foreignBindingChange({ type: 'ADDED', object: binding('helpful-admin', false) })).toBe(true);
    expect(foreignBindingChange({ type: 'DELETED', object: binding('helpful-admin', false) })).toBe(true);
    // Crossing between the two counts either way: a label removed makes a binding foreign.
    expect(foreignBindingChange({ type: 'MODIFIED', object: binding('member-lead', false), previous: binding('member-lead', true) })).toBe(true);
    expect(foreignBindingChange({ type: 'MODIFIED', object: binding('member-lead', true), previous: binding('member-lead', false) })).toBe(true);
  });

  it('is the filter on the access check\'s RoleBinding watch', () => {
    const options = accessMonitorController({ site: exampleSite, store: new IsolationStore(), ask: async () => false, enclaveKeys: () => [] });
    expect(options.watches?.find((w) => w.type === Everyone.RoleBinding)?.changes).toBe(foreignBindingChange);
  });
});

describe('the isolation monitor', () => {
  let site: TestSite | undefined;
  afterEach(async () => {
    await site?.close();
    site = undefined;
  });

  const condition = async (type: string): Promise<Condition | undefined> => conditionOf(await site!.get(SDE, 'Enclave', 'cardiac-mri'), type);
  const until = (what: string, test: (c: Condition | undefined) => boolean, type: string): Promise<Condition> =>
    site!.waitFor(what, async () => {
      const c = await condition(type);
      return test(c) && c;
    });
  const events = async (reason: string): Promise<string[]> => {
    const list = (await site!.client.list({ apiVersion: 'v1', kind: 'Event', plural: 'events', namespaced: true })).items as Array<{ reason?: string; message?: string; involvedObject?: { name?: string } }>;
    return list.filter((e) => e.reason === reason && e.involvedObject?.name === 'cardiac-mri').map((e) => e.message ?? '');
  };

  async function provisioned(isolation: Partial<SiteConfig['isolation']> = {}, jobRunMillis?: number): Promise<TestSite> {
    site = await startTestSite({ site: siteConfig.parse({ ...exampleSite, isolation: { ...exampleSite.isolation, ...isolation } }), ...(jobRunMillis ? { cluster: { jobRunMillis } } : {}) });
    await site.startOperator();
    await site.apply(example('enclave-cardiac-mri.yaml'));
    await until('NetworkIsolated True', (c) => c?.status === 'True', 'NetworkIsolated');
    await until('AccessIsolated True', (c) => c?.status === 'True', 'AccessIsolated');
    return site;
  }

  it('reports a foreign NetworkPolicy that opens egress, names it, never deletes it, and is True again once it goes', async () => {
    await provisioned();
    await site!.apply([allowAllEgress('open-egress')]);
    const breached = await until('NetworkIsolated False', (c) => c?.status === 'False', 'NetworkIsolated');
    expect(breached.reason).toBe('PathBeyondSpec');
    expect(breached.message).toContain(`NetworkPolicy ${NS}/open-egress`);
    expect(breached.message).toMatch(/egress from .* to 192\.0\.2\.1/);
    expect((await events('IsolationBreached')).join('\n')).toContain('open-egress');
    const metrics = await (await fetch(`http://127.0.0.1:${site!.operator!.port}/metrics`)).text();
    expect(metrics).toMatch(/sde_isolation_findings\{enclave="cardiac-mri",kind="NetworkPolicy"\} 1/);
    // Report-only: the policy stays.
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(await site!.get('networking.k8s.io/v1', 'NetworkPolicy', 'open-egress', NS)).toBeDefined();
    await site!.client.delete(allowAllEgress('open-egress'));
    await until('NetworkIsolated True again', (c) => c?.status === 'True', 'NetworkIsolated');
    expect(await events('IsolationRestored')).not.toHaveLength(0);
  });

  it('writes nothing when restarted: the conditions stand until the checks answer again, and they answer the same', async () => {
    await provisioned();
    // A binding the authorizer must be asked about: its answer comes after the Enclave's first reconcile.
    await site!.apply(secretsForResearcher);
    await until('AccessIsolated False', (c) => c?.status === 'False', 'AccessIsolated');
    await site!.stopOperator();
    const operator = await site!.startOperator();
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(operator.client.requests.get('review')).toBeGreaterThan(0);
    expect(operator.client.writes).toBe(0);
    expect((await condition('AccessIsolated'))?.status).toBe('False');
  });

  it('judges only bindings the operator did not make: its own member bindings, left after access ends, are the Enclave controller\'s to revoke', async () => {
    await provisioned();
    await site!.stopOperator();
    // The access check alone, its clock past the end of access, the member bindings still there.
    const after = new Date('2031-01-01T00:00:00Z');
    const store = new IsolationStore();
    const manager = new Manager({ ...OPERATOR_IDENTITY, kubeConfig: site!.kubeConfig, logger: createLogger({ level: 'silent' }), leaderElection: false, health: false });
    manager.add(accessMonitorController({ site: exampleSite, store, ask: subjectAccessReviews(manager.client), now: () => after, enclaveKeys: () => ['cardiac-mri'] }));
    await manager.start();
    try {
      const result = await site!.waitFor('the access check', async () => store.get('cardiac-mri').access);
      expect((await site!.client.list({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', plural: 'rolebindings', namespaced: true }, { namespace: NS })).items.length).toBeGreaterThan(0);
      expect(result.findings).toEqual([]);
      expect(manager.client.requests.get('review') ?? 0).toBe(0);
    } finally {
      await manager.stop();
    }
  });

  it('finds nothing in a foreign policy that only narrows what the spec allows', async () => {
    await provisioned();
    await site!.apply([{ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'deny-more', namespace: NS }, spec: { podSelector: {}, policyTypes: ['Ingress', 'Egress'] } } as KubernetesObject]);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect((await condition('NetworkIsolated'))?.status).toBe('True');
  });

  it('reverts: with onDrift revert the foreign policy is deleted, with a Warning Event naming it', async () => {
    await provisioned({ onDrift: 'revert' });
    await site!.apply([allowAllEgress('open-egress')]);
    await site!.waitFor('the policy deleted', async () => (await site!.get('networking.k8s.io/v1', 'NetworkPolicy', 'open-egress', NS)) === undefined);
    await site!.waitFor('the IsolationReverted Event', async () => (await events('IsolationReverted')).some((m) => m.includes(`NetworkPolicy ${NS}/open-egress`)));
    expect((await condition('NetworkIsolated'))?.status).toBe('True');
  });

  it('puts back a deleted default-deny and changed Pod Security labels, and says what it found', async () => {
    await provisioned();
    await site!.client.delete({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'default-deny', namespace: NS } });
    await site!.waitFor('default-deny back', async () => site!.get('networking.k8s.io/v1', 'NetworkPolicy', 'default-deny', NS));
    await site!.waitFor('the drift reported', async () => (await events('IsolationDriftReverted')).some((m) => m.includes(`NetworkPolicy ${NS}/default-deny`)));
    await site!.apply([{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS, labels: { 'pod-security.kubernetes.io/enforce': 'privileged' } } } as KubernetesObject]);
    await site!.waitFor('the label drift reported', async () => (await events('IsolationDriftReverted')).some((m) => m.includes(`Namespace ${NS}`) && m.includes('enforce=privileged')));
    const ns = await site!.waitFor('restricted again', async () => {
      const live = await site!.get<KubernetesObject>('v1', 'Namespace', NS);
      return live?.metadata?.labels?.['pod-security.kubernetes.io/enforce'] === 'restricted' && live;
    });
    expect(ns.metadata?.labels?.['pod-security.kubernetes.io/enforce']).toBe('restricted');
  });

  it('finds a RoleBinding that grants a member what the spec does not, through the authorizer, and is True again once it goes', async () => {
    await provisioned();
    // With only the operator's own bindings RBAC could grant nothing beyond the spec: nothing is asked.
    expect(site!.operator!.client.requests.get('review') ?? 0).toBe(0);
    await site!.apply(secretsForResearcher);
    const breached = await until('AccessIsolated False', (c) => c?.status === 'False', 'AccessIsolated');
    // What the new binding could grant is asked of the authorizer, not the whole catalogue.
    expect(site!.operator!.client.requests.get('review')).toBeGreaterThan(0);
    expect(site!.operator!.client.requests.get('review')).toBeLessThan(20);
    expect(breached.reason).toBe('PermissionBeyondSpec');
    expect(breached.message).toContain(`RoleBinding ${NS}/helpful-admin`);
    expect(breached.message).toMatch(/m\.okafor@ucl\.ac\.uk.* may (get|list) secrets in sde-cardiac-mri/);
    expect(await site!.get('rbac.authorization.k8s.io/v1', 'RoleBinding', 'helpful-admin', NS)).toBeDefined();
    await site!.client.delete(secretsForResearcher[1]!);
    await until('AccessIsolated True again', (c) => c?.status === 'True', 'AccessIsolated');
  });

  it('asks about a member of the next enclave by name, and of the one after it once that enclave is deleted', async () => {
    await provisioned();
    const other = (name: string, user: string): KubernetesObject => {
      const doc = structuredClone(example('enclave-cardiac-mri.yaml')[0]) as KubernetesObject & { spec: { members: unknown[]; project: { id: string } } };
      doc.metadata = { name };
      doc.spec.members = [{ user, role: 'researcher' }];
      doc.spec.project.id = `SDE-2026-${name}`;
      return doc;
    };
    // Before and after cardiac-mri by name; the outsider asked about is the member of the next one.
    await site!.apply([other('asthma', 'a.first@ucl.ac.uk'), other('dermatology', 'd.next@ucl.ac.uk'), other('eye', 'e.later@ucl.ac.uk')]);
    const [role] = secretsForResearcher as [KubernetesObject];
    const bindingFor = (user: string): KubernetesObject => ({ ...secretsForResearcher[1]!, metadata: { name: 'helpful-admin', namespace: NS }, subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: user }] } as KubernetesObject);
    await site!.apply([role, bindingFor('d.next@ucl.ac.uk')]);
    const breached = await until('AccessIsolated False', (c) => c?.status === 'False', 'AccessIsolated');
    expect(breached.message).toMatch(/d\.next@ucl\.ac\.uk.*\(another enclave\).* may (get|list) secrets in sde-cardiac-mri/);
    await site!.client.delete(bindingFor('d.next@ucl.ac.uk'));
    await until('AccessIsolated True again', (c) => c?.status === 'True', 'AccessIsolated');
    // With dermatology gone, eye's member is the one asked about.
    await site!.client.delete(other('dermatology', 'd.next@ucl.ac.uk'));
    await site!.waitFor('dermatology gone', async () => (await site!.get(SDE, 'Enclave', 'dermatology')) === undefined);
    await site!.apply([bindingFor('e.later@ucl.ac.uk')]);
    const again = await until('AccessIsolated False for eye\'s member', (c) => c?.status === 'False', 'AccessIsolated');
    expect(again.message).toMatch(/e\.later@ucl\.ac\.uk.*\(another enclave\).* may (get|list) secrets in sde-cardiac-mri/);
  });

  it('finds a Role widened under a binding that was harmless: the role\'s change alone is judged again', async () => {
    await provisioned();
    const [role, binding] = secretsForResearcher as [KubernetesObject & { rules: unknown[] }, KubernetesObject];
    // First the binding grants only what a researcher may do anyway: reading pods.
    await site!.apply([{ ...role, rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['get'] }] } as KubernetesObject, binding]);
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect((await condition('AccessIsolated'))?.status).toBe('True');
    // Then the Role, not the binding, is widened to Secrets.
    await site!.apply([role]);
    const breached = await until('AccessIsolated False', (c) => c?.status === 'False', 'AccessIsolated');
    expect(breached.message).toContain(`RoleBinding ${NS}/helpful-admin`);
    expect(breached.message).toMatch(/m\.okafor@ucl\.ac\.uk.* may (get|list) secrets in sde-cardiac-mri/);
  });

  it('finds a ClusterRoleBinding that grants every signed-in user Secrets everywhere, and never deletes it', async () => {
    await provisioned({ onDrift: 'revert' });
    await site!.apply([{ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: 'secrets-reader' }, rules: [{ apiGroups: [''], resources: ['secrets'], verbs: ['get'] }] } as KubernetesObject]);
    await site!.apply([{
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: 'everyone-reads-secrets' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'secrets-reader' },
      subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: 'system:authenticated' }],
    } as KubernetesObject]);
    const breached = await until('AccessIsolated False', (c) => c?.status === 'False', 'AccessIsolated');
    expect(breached.message).toContain('ClusterRoleBinding everyone-reads-secrets');
    // Cluster-wide bindings are reported even under revert: the operator may not write them.
    expect(await site!.get('rbac.authorization.k8s.io/v1', 'ClusterRoleBinding', 'everyone-reads-secrets')).toBeDefined();
  });

  it('with gateWorkspaces, stops a workspace while the enclave\'s isolation is breached and starts it again once restored', async () => {
    await provisioned({ gateWorkspaces: true });
    await site!.apply(example('workspace-rstudio.yaml'));
    const replicas = async (): Promise<number | undefined> => (await site!.get<{ spec: { replicas: number } }>('apps/v1', 'StatefulSet', 'patel-rstudio', NS))?.spec.replicas;
    await site!.waitFor('the workspace running', async () => (await replicas()) === 1);
    await site!.apply([allowAllEgress('open-egress')]);
    await site!.waitFor('the workspace stopped', async () => (await replicas()) === 0);
    const ws = await site!.waitFor('the refusal reported', async () => {
      const w = await site!.get(SDE, 'Workspace', 'patel-rstudio', NS);
      return conditionOf(w, 'Admitted')?.reason === 'EnclaveNotIsolated' && conditionOf(w, 'Admitted');
    });
    expect(ws.message).toContain('open-egress');
    await site!.client.delete(allowAllEgress('open-egress'));
    await site!.waitFor('the workspace running again', async () => (await replicas()) === 1);
  });

  it('turns NetworkIsolated False when the probe Job reaches the canary, naming the Job (the kubelet plays the exit code)', async () => {
    const probes = { image: 'nexus.sde.uclh.nhs.uk/busybox:1.36', canary: { ip: '203.0.113.7', port: 443 }, period: '1h', podAnnotations: { 'stand-in.sde.test/exit-code': '10' } };
    await site?.close();
    site = await startTestSite({ site: siteConfig.parse({ ...exampleSite, isolation: { ...exampleSite.isolation, probes } }), cluster: { jobRunMillis: 300 } });
    await site.startOperator();
    await site.apply(example('enclave-cardiac-mri.yaml'));
    const breached = await until('NetworkIsolated False from the probe', (c) => c?.status === 'False', 'NetworkIsolated');
    expect(breached.message).toMatch(new RegExp(`Job ${NS}/isolation-probe-[0-9a-f]+: .*203\\.0\\.113\\.7:443`));
  });
});
