// Drift judged on the live state (issue 19), on the example enclave's own rendering: which foreign
// policies open a path, which bindings explain a permission, and which changes go unnoticed
// because they widen nothing.
import { describe, expect, it } from 'vitest';
import { enclave as enclaveSchema } from '../../api/enclave.ts';
import { renderEnclave } from '../../constructs/index.ts';
import { POD_SECURITY_RESTRICTED } from '../../constructs/labels.ts';
import { accessDrift, bindingGrants, defaultDenyDrift, networkDrift, podSecurityDrift, rbacCouldAllow, ruleCovers } from '../../isolation/index.ts';
import type { AccessReview, NetworkPolicyObject, PolicyRuleView } from '../../isolation/index.ts';
import { example, exampleSite } from '../operator/harness.ts';

const NS = 'sde-cardiac-mri';
const enclave = enclaveSchema.parse(example('enclave-cardiac-mri.yaml')[0]);
const own = renderEnclave(enclave, exampleSite, { accessActive: true }).filter((o) => o.kind === 'NetworkPolicy') as unknown as NetworkPolicyObject[];
const workspace = { namespace: NS, name: 'StatefulSet okafor-jupyter', labels: { 'app.kubernetes.io/component': 'workspace', 'sde.london/workspace': 'okafor-jupyter' }, ip: '10.1.0.5' };
const policy = (name: string, spec: NetworkPolicyObject['spec']): NetworkPolicyObject => ({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name, namespace: NS }, spec });
const drift = (...foreign: NetworkPolicyObject[]) => networkDrift({ namespace: { name: NS, labels: { ...POD_SECURITY_RESTRICTED } }, podSecurity: POD_SECURITY_RESTRICTED, own, foreign, pods: [workspace], canary: '192.0.2.1' });

describe('network drift', () => {
  it('finds nothing when only the operator\'s own policies are live', () => {
    expect(drift()).toEqual([]);
  });

  it('names a policy that opens egress to anywhere, with a path from the enclave\'s pods to the canary', () => {
    const findings = drift(policy('open-egress', { podSelector: {}, policyTypes: ['Egress'], egress: [{}] }));
    expect(findings).toEqual([expect.objectContaining({ concern: 'network', kind: 'NetworkPolicy', object: `NetworkPolicy ${NS}/open-egress`, path: expect.stringMatching(/^egress from .* to 192\.0\.2\.1 TCP 443$/) })]);
  });

  it('names a policy that lets in pods of another namespace, chosen by labels, on the port it opens', () => {
    const findings = drift(policy('let-in-monitoring', {
      podSelector: { matchLabels: { 'app.kubernetes.io/component': 'workspace' } },
      policyTypes: ['Ingress'],
      ingress: [{ from: [{ namespaceSelector: { matchLabels: { team: 'monitoring' } }, podSelector: { matchExpressions: [{ key: 'app', operator: 'In', values: ['scraper'] }] } }], ports: [{ port: 9100 }] }],
    }));
    expect(findings).toHaveLength(1);
    expect(findings[0]!.object).toBe(`NetworkPolicy ${NS}/let-in-monitoring`);
    expect(findings[0]!.path).toMatch(/^ingress to pods of StatefulSet okafor-jupyter from a pod matching app In \(scraper\) in namespaces matching team=monitoring TCP 9100$/);
  });

  it('blames only the policy that opens the path, not a harmless one beside it', () => {
    const findings = drift(
      policy('deny-more', { podSelector: {}, policyTypes: ['Ingress', 'Egress'] }),
      policy('egress-to-a-partner', { podSelector: {}, policyTypes: ['Egress'], egress: [{ to: [{ ipBlock: { cidr: '198.51.100.0/24', except: ['198.51.100.0/25'] } }] }] }),
    );
    expect(findings.map((f) => f.object)).toEqual([`NetworkPolicy ${NS}/egress-to-a-partner`]);
    expect(findings[0]!.path).toContain('198.51.100.128');
  });

  it('finds nothing in a policy that allows only what the spec already allows', () => {
    const dns = own.find((p) => p.metadata.name === 'allow-dns')!;
    expect(drift({ ...dns, metadata: { name: 'a-copy-of-dns', namespace: NS } })).toEqual([]);
  });

  it('says when default-deny is gone and when Pod Security is not restricted', () => {
    expect(defaultDenyDrift(NS, 'default-deny', ['allow-dns'])).toEqual([expect.objectContaining({ kind: 'DefaultDenyMissing', object: `NetworkPolicy ${NS}/default-deny` })]);
    expect(defaultDenyDrift(NS, 'default-deny', ['default-deny'])).toEqual([]);
    const labels = { ...POD_SECURITY_RESTRICTED, 'pod-security.kubernetes.io/enforce': 'baseline' };
    expect(podSecurityDrift({ name: NS, labels }, POD_SECURITY_RESTRICTED)).toEqual([expect.objectContaining({ kind: 'PodSecurity', object: `Namespace ${NS}`, path: expect.stringContaining('enforce=baseline, expected restricted') })]);
    expect(podSecurityDrift({ name: NS, labels: { ...POD_SECURITY_RESTRICTED } }, POD_SECURITY_RESTRICTED)).toEqual([]);
  });
});

describe('access drift', () => {
  const okafor = { label: 'researcher m.okafor@ucl.ac.uk of cardiac-mri', user: 'm.okafor@ucl.ac.uk', groups: ['system:authenticated'], role: 'researcher' as const, enclave: 'cardiac-mri', active: true };
  const review = (allowed: boolean, resource = 'secrets'): AccessReview => ({ subject: okafor, attributes: { verb: 'get', group: '', resource, namespace: NS }, row: 'read Secrets or ConfigMaps', expected: false, allowed });

  it('blames the foreign binding that names the member, once, counting the other answers', () => {
    const bindings = [
      { kind: 'RoleBinding' as const, name: 'member-researchers', namespace: NS, subjects: [{ kind: 'User', name: 'm.okafor@ucl.ac.uk' }], own: true },
      { kind: 'RoleBinding' as const, name: 'helpful-admin', namespace: NS, subjects: [{ kind: 'User', name: 'm.okafor@ucl.ac.uk' }], own: false },
      { kind: 'RoleBinding' as const, name: 'someone-else', namespace: NS, subjects: [{ kind: 'User', name: 'j.patel@ucl.ac.uk' }], own: false },
    ];
    expect(accessDrift([review(true), review(true, 'configmaps'), review(false, 'pods')], bindings)).toEqual([
      { concern: 'access', kind: 'RoleBinding', object: `RoleBinding ${NS}/helpful-admin`, path: `${okafor.label} may get secrets in ${NS} (and 1 more beyond the spec)` },
    ]);
  });

  it('blames a ClusterRoleBinding through a group, and names the user when no binding explains it', () => {
    const crb = { kind: 'ClusterRoleBinding' as const, name: 'everyone', subjects: [{ kind: 'Group', name: 'system:authenticated' }], own: false };
    expect(accessDrift([review(true)], [crb]).map((f) => f.object)).toEqual(['ClusterRoleBinding everyone']);
    expect(accessDrift([review(true)], [])).toEqual([expect.objectContaining({ kind: 'Permission', object: 'm.okafor@ucl.ac.uk' })]);
    expect(accessDrift([review(false)], [crb])).toEqual([]);
  });

  it('blames only the bindings whose role covers the request, not every binding naming the subject', () => {
    const basic = { kind: 'ClusterRoleBinding' as const, name: 'system:basic-user', subjects: [{ kind: 'Group', name: 'system:authenticated' }], own: false, roleRef: { kind: 'ClusterRole', name: 'basic' } };
    const secrets = { kind: 'ClusterRoleBinding' as const, name: 'everyone-reads-secrets', subjects: [{ kind: 'Group', name: 'system:authenticated' }], own: false, roleRef: { kind: 'ClusterRole', name: 'secrets' } };
    const roles: Record<string, PolicyRuleView[]> = { basic: [{ verbs: ['create'], apiGroups: ['authorization.k8s.io'], resources: ['selfsubjectaccessreviews'] }], secrets: [{ verbs: ['get'], apiGroups: [''], resources: ['secrets'] }] };
    const rulesOf = (_kind: string, name: string) => roles[name];
    expect(accessDrift([review(true)], [basic, secrets], (b, a) => bindingGrants(b, a, rulesOf)).map((f) => f.object)).toEqual(['ClusterRoleBinding everyone-reads-secrets']);
  });
});

describe('what RBAC could allow', () => {
  const get = { verb: 'get', group: '', resource: 'secrets', namespace: NS };
  it('matches rules as RBAC does: wildcards, subresources, resource names', () => {
    expect(ruleCovers({ verbs: ['get'], apiGroups: [''], resources: ['secrets'] }, get)).toBe(true);
    expect(ruleCovers({ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }, get)).toBe(true);
    expect(ruleCovers({ verbs: ['list'], apiGroups: [''], resources: ['secrets'] }, get)).toBe(false);
    expect(ruleCovers({ verbs: ['get'], apiGroups: ['apps'], resources: ['secrets'] }, get)).toBe(false);
    expect(ruleCovers({ verbs: ['create'], apiGroups: [''], resources: ['pods'] }, { verb: 'create', group: '', resource: 'pods', subresource: 'exec' })).toBe(false);
    expect(ruleCovers({ verbs: ['create'], apiGroups: [''], resources: ['pods/exec'] }, { verb: 'create', group: '', resource: 'pods', subresource: 'exec' })).toBe(true);
    expect(ruleCovers({ verbs: ['create'], apiGroups: [''], resources: ['*/exec'] }, { verb: 'create', group: '', resource: 'pods', subresource: 'exec' })).toBe(true);
    expect(ruleCovers({ verbs: ['get'], apiGroups: [''], resources: ['secrets'], resourceNames: ['kit'] }, get)).toBe(false);
    expect(ruleCovers({ verbs: ['get'], apiGroups: [''], resources: ['secrets'], resourceNames: ['kit'] }, { ...get, name: 'kit' })).toBe(true);
  });

  it('could allow only through a binding that names the subject, in force where it asks, to a role that exists', () => {
    const okafor = { label: 'okafor', user: 'm.okafor@ucl.ac.uk', groups: ['system:authenticated'] };
    const roles = { 'Role read-secrets': [{ verbs: ['get'], apiGroups: [''], resources: ['secrets'] }], 'ClusterRole basic': [{ verbs: ['create'], apiGroups: ['authorization.k8s.io'], resources: ['selfsubjectaccessreviews'] }] } as Record<string, PolicyRuleView[]>;
    const rulesOf = (kind: string, name: string) => roles[`${kind} ${name}`];
    const rb = (namespace: string, user: string, role = 'read-secrets') => ({ kind: 'RoleBinding' as const, name: 'rb', namespace, subjects: [{ kind: 'User', name: user }], own: false, roleRef: { kind: 'Role', name: role } });
    expect(rbacCouldAllow(okafor, get, [rb(NS, okafor.user)], rulesOf)).toBe(true);
    expect(rbacCouldAllow(okafor, get, [rb('sde-other', okafor.user)], rulesOf)).toBe(false);
    expect(rbacCouldAllow(okafor, get, [rb(NS, 'j.patel@ucl.ac.uk')], rulesOf)).toBe(false);
    expect(rbacCouldAllow(okafor, get, [rb(NS, okafor.user, 'missing')], rulesOf)).toBe(false);
    const basic = { kind: 'ClusterRoleBinding' as const, name: 'system:basic-user', subjects: [{ kind: 'Group', name: 'system:authenticated' }], own: false, roleRef: { kind: 'ClusterRole', name: 'basic' } };
    expect(rbacCouldAllow(okafor, get, [basic], rulesOf)).toBe(false);
  });
});
