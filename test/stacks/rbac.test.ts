// The operator's own RBAC (OPERATOR_RULES), which the site stack and the chart install: least
// privilege, yet enough to apply everything the enclave constructs render and to grant members
// their Roles (RBAC refuses to let anyone grant a permission they do not hold).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { enclave } from '../../api/enclave.ts';
import { federatedJob } from '../../api/federatedjob.ts';
import { siteConfig } from '../../api/siteconfig.ts';
import { workspace } from '../../api/workspace.ts';
import { renderEnclave, renderFederatedJob, renderWorkspace } from '../../constructs/index.ts';
import { OPERATOR_RULES, missingPermissions, type PolicyRule } from '../../constructs/install/rbac.ts';
import { ROLE_RULES } from '../../constructs/rbac.ts';
import { Kinds } from '../../operator/runtime/resources.ts';
import { PROTECTED_KINDS } from '../../operator/identity.ts';

const example = (file: string): unknown => parse(readFileSync(new URL(`../../examples/${file}`, import.meta.url), 'utf8'));
const site = siteConfig.parse(example('site-uclh.yaml'));
const cardiac = enclave.parse(example('enclave-cardiac-mri.yaml'));
const held: PolicyRule[] = [...OPERATOR_RULES.cluster];

describe('OPERATOR_RULES', () => {
  it('names every verb and resource: no wildcard, no escalate/bind/impersonate, no Secrets, no pod exec', () => {
    const all = [...OPERATOR_RULES.cluster, ...OPERATOR_RULES.leaseNamespace];
    for (const rule of all) {
      for (const field of [rule.apiGroups, rule.resources, rule.verbs]) expect(field).not.toContain('*');
      expect(rule.verbs.some((v) => ['escalate', 'bind', 'impersonate'].includes(v))).toBe(false);
      // Deleting by selector only where it revokes access at once (member bindings), never on data or workloads.
      if (rule.verbs.includes('deletecollection')) expect(rule).toEqual({ apiGroups: ['rbac.authorization.k8s.io'], resources: ['rolebindings'], verbs: ['deletecollection'] });
      expect(rule.resources.some((r) => ['secrets', 'pods/exec', 'pods/attach'].includes(r))).toBe(false);
      // Cluster-wide roles and bindings only read (the isolation monitor blames them), never written.
      if (rule.resources.some((r) => r === 'clusterroles' || r === 'clusterrolebindings')) expect(rule.verbs).toEqual(['get', 'list', 'watch']);
    }
    expect(missingPermissions(held, [{ apiGroups: [''], resources: ['secrets'], verbs: ['get'] }])).toEqual(['get core/secrets']);
  });

  it('can never delete a PersistentVolume (dataset volumes are never deleted)', () => {
    expect(missingPermissions(held, [{ apiGroups: [''], resources: ['persistentvolumes'], verbs: ['delete'] }])).toEqual(['delete core/persistentvolumes']);
  });

  it('keeps leases to its own namespace\'s Role', () => {
    expect(missingPermissions(held, [{ apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['get'] }])).toHaveLength(1);
    expect(missingPermissions(OPERATOR_RULES.leaseNamespace, [{ apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['get', 'create', 'update'] }])).toEqual([]);
  });

  it('lets the data use register list, watch, create and patch its records (ConfigMaps) in the operator\'s namespace', () => {
    expect(missingPermissions([...OPERATOR_RULES.cluster, ...OPERATOR_RULES.leaseNamespace], [{ apiGroups: [''], resources: ['configmaps'], verbs: ['list', 'watch', 'create', 'patch'] }])).toEqual([]);
  });

  it.each(Object.entries(ROLE_RULES))('holds every permission the %s Role grants, so it may create that Role', (_role, rules) => {
    expect(missingPermissions(held, rules as PolicyRule[])).toEqual([]);
  });

  it('can read, create, apply and (except protected kinds) prune every kind the enclave constructs render', () => {
    const rendered = [
      ...renderEnclave(cardiac, site, { accessActive: true }),
      ...renderWorkspace(workspace.parse(example('workspace-jupyter-gpu.yaml')), cardiac, site, { accessActive: true }),
      ...renderWorkspace(workspace.parse(example('workspace-rstudio.yaml')), cardiac, site, { accessActive: true }),
      ...renderFederatedJob(federatedJob.parse(example('federatedjob-nvflare.yaml')), cardiac, site, { accessActive: true, thisSite: 'uclh' }),
    ];
    const kinds = new Set(rendered.map((o) => `${o.apiVersion} ${o.kind}`));
    expect(kinds.size).toBeGreaterThan(8);
    for (const key of kinds) {
      const [apiVersion = '', kind = ''] = key.split(' ');
      const group = apiVersion.includes('/') ? apiVersion.split('/')[0] ?? '' : '';
      const type = Object.values(Kinds).find((k) => k.kind === kind && k.apiVersion === apiVersion);
      const plural = type?.plural ?? `${kind.toLowerCase()}s`;
      const verbs = ['get', 'list', 'watch', 'create', 'patch', ...(PROTECTED_KINDS.includes(kind) ? [] : ['delete'])];
      expect(missingPermissions(held, [{ apiGroups: [group], resources: [plural], verbs }]), key).toEqual([]);
    }
  });
});

describe('missingPermissions', () => {
  it.each([
    ['a wildcard grants everything', [{ apiGroups: ['*'], resources: ['*'], verbs: ['*'] }], [{ apiGroups: ['apps'], resources: ['deployments'], verbs: ['delete'] }], []],
    ['each verb is checked on its own', [{ apiGroups: [''], resources: ['pods'], verbs: ['get'] }], [{ apiGroups: [''], resources: ['pods'], verbs: ['get', 'list'] }], ['list core/pods']],
    ['a subresource is not its parent', [{ apiGroups: [''], resources: ['pods'], verbs: ['get'] }], [{ apiGroups: [''], resources: ['pods/log'], verbs: ['get'] }], ['get core/pods/log']],
    ['groups are not interchangeable', [{ apiGroups: [''], resources: ['events'], verbs: ['get'] }], [{ apiGroups: ['events.k8s.io'], resources: ['events'], verbs: ['get'] }], ['get events.k8s.io/events']],
  ])('%s', (_name, heldRules, wanted, missing) => {
    expect(missingPermissions(heldRules, wanted)).toEqual(missing);
  });
});
