// The operator's own RBAC: every verb on every resource it uses, and nothing else. One constant,
// read by the ClusterRole construct, the Helm chart's comparison test and the site stack.

/** One RBAC PolicyRule, as rbac.authorization.k8s.io/v1 spells it. */
export interface PolicyRule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
}

const READ = ['get', 'list', 'watch'];
const MANAGE = ['get', 'list', 'watch', 'create', 'patch', 'update', 'delete'];

/**
 * What the operator may do. `cluster` goes into its ClusterRole; `leaseNamespace` into a Role in
 * its own namespace, so leader election cannot touch other components' leases (kube-node-lease,
 * the scheduler's). No `*` anywhere. PersistentVolumes have no `delete`: dataset volumes are never
 * deleted. Every permission the enclave constructs grant to members is held here too, because
 * RBAC forbids granting what the granter does not hold.
 */
export const OPERATOR_RULES: { readonly cluster: readonly PolicyRule[]; readonly leaseNamespace: readonly PolicyRule[] } = Object.freeze({
  cluster: Object.freeze([
    { apiGroups: ['sde.london'], resources: ['enclaves'], verbs: ['get', 'list', 'watch', 'patch', 'update'] },
    // Workspaces are auto-provisioned per member; members may create and delete both kinds themselves.
    { apiGroups: ['sde.london'], resources: ['workspaces', 'federatedjobs'], verbs: MANAGE },
    // list and watch mean nothing on a subresource, but members' Roles grant them (read = get, list,
    // watch) and RBAC lets the operator grant only verbs it holds itself.
    { apiGroups: ['sde.london'], resources: ['enclaves/status', 'workspaces/status', 'federatedjobs/status'], verbs: ['get', 'list', 'watch', 'patch', 'update'] },
    { apiGroups: ['sde.london'], resources: ['enclaves/finalizers', 'workspaces/finalizers', 'federatedjobs/finalizers'], verbs: ['update'] },
    { apiGroups: [''], resources: ['namespaces'], verbs: MANAGE },
    // ConfigMaps include the data use register's records in the operator's own namespace (listed,
    // watched, created and patched there; the register never deletes one).
    { apiGroups: [''], resources: ['serviceaccounts', 'services', 'configmaps', 'persistentvolumeclaims', 'resourcequotas', 'limitranges'], verbs: MANAGE },
    { apiGroups: [''], resources: ['persistentvolumes'], verbs: ['get', 'list', 'watch', 'create', 'patch', 'update'] },
    { apiGroups: [''], resources: ['pods'], verbs: READ },
    { apiGroups: [''], resources: ['pods/log'], verbs: READ },
    { apiGroups: [''], resources: ['events'], verbs: ['create', 'patch', 'get', 'list', 'watch'] },
    { apiGroups: ['events.k8s.io'], resources: ['events'], verbs: ['create', 'patch', 'get', 'list', 'watch'] },
    { apiGroups: [''], resources: ['nodes'], verbs: READ },
    { apiGroups: ['networking.k8s.io'], resources: ['networkpolicies'], verbs: MANAGE },
    { apiGroups: ['apps'], resources: ['statefulsets', 'deployments'], verbs: MANAGE },
    { apiGroups: ['batch'], resources: ['jobs'], verbs: MANAGE },
    { apiGroups: ['rbac.authorization.k8s.io'], resources: ['roles', 'rolebindings'], verbs: MANAGE },
    // On expiry an enclave's member bindings go in one request (DELETE of the collection, by label).
    { apiGroups: ['rbac.authorization.k8s.io'], resources: ['rolebindings'], verbs: ['deletecollection'] },
    { apiGroups: ['authorization.k8s.io'], resources: ['selfsubjectaccessreviews'], verbs: ['create'] },
    // The isolation monitor reads every binding and role that could grant members more than their
    // spec, and asks the authorizer about what they could grant; cluster-wide ones it reports, never
    // changes.
    { apiGroups: ['authorization.k8s.io'], resources: ['subjectaccessreviews'], verbs: ['create'] },
    { apiGroups: ['rbac.authorization.k8s.io'], resources: ['clusterroles', 'clusterrolebindings'], verbs: ['get', 'list', 'watch'] },
  ]),
  leaseNamespace: Object.freeze([
    { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['get', 'list', 'watch', 'create', 'update', 'patch'] },
  ]),
});

/**
 * The permissions `wanted` asks for that `held` does not grant, one "verb group/resource" string
 * each (empty when covered). Follows RBAC's own matching, wildcards included, so it can check
 * rules written by others.
 */
export function missingPermissions(held: readonly PolicyRule[], wanted: readonly PolicyRule[]): string[] {
  const grants = (group: string, resource: string, verb: string): boolean =>
    held.some(
      (r) =>
        (r.apiGroups.includes('*') || r.apiGroups.includes(group)) &&
        (r.resources.includes('*') || r.resources.includes(resource)) &&
        (r.verbs.includes('*') || r.verbs.includes(verb)),
    );
  const missing: string[] = [];
  for (const rule of wanted) {
    for (const group of rule.apiGroups) {
      for (const resource of rule.resources) {
        for (const verb of rule.verbs) {
          if (!grants(group, resource, verb)) missing.push(`${verb} ${group === '' ? 'core' : group}/${resource}`);
        }
      }
    }
  }
  return missing;
}
