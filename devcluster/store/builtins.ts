// The built-in resource types the devcluster serves, as constants the simulated cluster and the
// HTTP layer share. Custom resources are added at run time when their CRD is established.
import type { ResourceType } from './types.ts';

function rt(
  group: string,
  version: string,
  resource: string,
  kind: string,
  namespaced: boolean,
  extra: Partial<ResourceType> = {},
): ResourceType {
  return { group, version, resource, kind, namespaced, singular: kind.toLowerCase(), ...extra };
}

const CREATE_ONLY = ['create'];

/** Every built-in resource type, keyed by a short name for use in code. */
export const BUILTINS = {
  namespaces: rt('', 'v1', 'namespaces', 'Namespace', false, { shortNames: ['ns'], statusSubresource: true }),
  configmaps: rt('', 'v1', 'configmaps', 'ConfigMap', true, { shortNames: ['cm'] }),
  secrets: rt('', 'v1', 'secrets', 'Secret', true),
  serviceaccounts: rt('', 'v1', 'serviceaccounts', 'ServiceAccount', true, { shortNames: ['sa'] }),
  services: rt('', 'v1', 'services', 'Service', true, { shortNames: ['svc'], categories: ['all'], statusSubresource: true }),
  pods: rt('', 'v1', 'pods', 'Pod', true, { shortNames: ['po'], categories: ['all'], statusSubresource: true }),
  persistentvolumes: rt('', 'v1', 'persistentvolumes', 'PersistentVolume', false, { shortNames: ['pv'], statusSubresource: true }),
  persistentvolumeclaims: rt('', 'v1', 'persistentvolumeclaims', 'PersistentVolumeClaim', true, {
    shortNames: ['pvc'],
    statusSubresource: true,
  }),
  resourcequotas: rt('', 'v1', 'resourcequotas', 'ResourceQuota', true, { shortNames: ['quota'], statusSubresource: true }),
  limitranges: rt('', 'v1', 'limitranges', 'LimitRange', true, { shortNames: ['limits'] }),
  events: rt('', 'v1', 'events', 'Event', true, { shortNames: ['ev'] }),
  nodes: rt('', 'v1', 'nodes', 'Node', false, { shortNames: ['no'], statusSubresource: true }),
  deployments: rt('apps', 'v1', 'deployments', 'Deployment', true, { shortNames: ['deploy'], categories: ['all'], statusSubresource: true }),
  statefulsets: rt('apps', 'v1', 'statefulsets', 'StatefulSet', true, { shortNames: ['sts'], categories: ['all'], statusSubresource: true }),
  replicasets: rt('apps', 'v1', 'replicasets', 'ReplicaSet', true, { shortNames: ['rs'], categories: ['all'], statusSubresource: true }),
  jobs: rt('batch', 'v1', 'jobs', 'Job', true, { categories: ['all'], statusSubresource: true }),
  networkpolicies: rt('networking.k8s.io', 'v1', 'networkpolicies', 'NetworkPolicy', true, { shortNames: ['netpol'] }),
  roles: rt('rbac.authorization.k8s.io', 'v1', 'roles', 'Role', true),
  rolebindings: rt('rbac.authorization.k8s.io', 'v1', 'rolebindings', 'RoleBinding', true),
  clusterroles: rt('rbac.authorization.k8s.io', 'v1', 'clusterroles', 'ClusterRole', false),
  clusterrolebindings: rt('rbac.authorization.k8s.io', 'v1', 'clusterrolebindings', 'ClusterRoleBinding', false),
  leases: rt('coordination.k8s.io', 'v1', 'leases', 'Lease', true),
  runtimeclasses: rt('node.k8s.io', 'v1', 'runtimeclasses', 'RuntimeClass', false),
  customresourcedefinitions: rt('apiextensions.k8s.io', 'v1', 'customresourcedefinitions', 'CustomResourceDefinition', false, {
    shortNames: ['crd', 'crds'],
    statusSubresource: true,
  }),
  selfsubjectaccessreviews: rt('authorization.k8s.io', 'v1', 'selfsubjectaccessreviews', 'SelfSubjectAccessReview', false, {
    verbs: CREATE_ONLY,
  }),
  subjectaccessreviews: rt('authorization.k8s.io', 'v1', 'subjectaccessreviews', 'SubjectAccessReview', false, { verbs: CREATE_ONLY }),
  eventsV1: rt('events.k8s.io', 'v1', 'events', 'Event', true, { shortNames: ['ev'] }),
} as const satisfies Record<string, ResourceType>;

/** Verbs a normal stored resource supports. */
export const ALL_VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

/** Namespaces that exist from the start, as on a fresh cluster. */
export const INITIAL_NAMESPACES = ['default', 'kube-system', 'kube-public', 'kube-node-lease'];
