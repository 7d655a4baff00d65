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

// Only workloads, network policies and CRDs (and custom resources) keep metadata.generation on a
// real server; for every other built-in kind it is absent (checked on 1.23).
const NO_GENERATION = { generation: false } as const;

/** Every built-in resource type, keyed by a short name for use in code. */
export const BUILTINS = {
  namespaces: rt('', 'v1', 'namespaces', 'Namespace', false, { ...NO_GENERATION, shortNames: ['ns'], statusSubresource: true }),
  configmaps: rt('', 'v1', 'configmaps', 'ConfigMap', true, { ...NO_GENERATION, shortNames: ['cm'] }),
  secrets: rt('', 'v1', 'secrets', 'Secret', true, NO_GENERATION),
  serviceaccounts: rt('', 'v1', 'serviceaccounts', 'ServiceAccount', true, { ...NO_GENERATION, shortNames: ['sa'] }),
  services: rt('', 'v1', 'services', 'Service', true, { ...NO_GENERATION, shortNames: ['svc'], categories: ['all'], statusSubresource: true }),
  pods: rt('', 'v1', 'pods', 'Pod', true, { ...NO_GENERATION, shortNames: ['po'], categories: ['all'], statusSubresource: true }),
  persistentvolumes: rt('', 'v1', 'persistentvolumes', 'PersistentVolume', false, { ...NO_GENERATION, shortNames: ['pv'], statusSubresource: true }),
  persistentvolumeclaims: rt('', 'v1', 'persistentvolumeclaims', 'PersistentVolumeClaim', true, {
    ...NO_GENERATION,
    shortNames: ['pvc'],
    statusSubresource: true,
  }),
  resourcequotas: rt('', 'v1', 'resourcequotas', 'ResourceQuota', true, { ...NO_GENERATION, shortNames: ['quota'], statusSubresource: true }),
  limitranges: rt('', 'v1', 'limitranges', 'LimitRange', true, { ...NO_GENERATION, shortNames: ['limits'] }),
  events: rt('', 'v1', 'events', 'Event', true, { ...NO_GENERATION, shortNames: ['ev'] }),
  nodes: rt('', 'v1', 'nodes', 'Node', false, { ...NO_GENERATION, shortNames: ['no'], statusSubresource: true }),
  deployments: rt('apps', 'v1', 'deployments', 'Deployment', true, { shortNames: ['deploy'], categories: ['all'], statusSubresource: true }),
  statefulsets: rt('apps', 'v1', 'statefulsets', 'StatefulSet', true, { shortNames: ['sts'], categories: ['all'], statusSubresource: true }),
  replicasets: rt('apps', 'v1', 'replicasets', 'ReplicaSet', true, { shortNames: ['rs'], categories: ['all'], statusSubresource: true }),
  jobs: rt('batch', 'v1', 'jobs', 'Job', true, { categories: ['all'], statusSubresource: true }),
  networkpolicies: rt('networking.k8s.io', 'v1', 'networkpolicies', 'NetworkPolicy', true, { shortNames: ['netpol'] }),
  roles: rt('rbac.authorization.k8s.io', 'v1', 'roles', 'Role', true, NO_GENERATION),
  rolebindings: rt('rbac.authorization.k8s.io', 'v1', 'rolebindings', 'RoleBinding', true, NO_GENERATION),
  clusterroles: rt('rbac.authorization.k8s.io', 'v1', 'clusterroles', 'ClusterRole', false, NO_GENERATION),
  clusterrolebindings: rt('rbac.authorization.k8s.io', 'v1', 'clusterrolebindings', 'ClusterRoleBinding', false, NO_GENERATION),
  leases: rt('coordination.k8s.io', 'v1', 'leases', 'Lease', true, NO_GENERATION),
  runtimeclasses: rt('node.k8s.io', 'v1', 'runtimeclasses', 'RuntimeClass', false, NO_GENERATION),
  customresourcedefinitions: rt('apiextensions.k8s.io', 'v1', 'customresourcedefinitions', 'CustomResourceDefinition', false, {
    shortNames: ['crd', 'crds'],
    statusSubresource: true,
  }),
  selfsubjectaccessreviews: rt('authorization.k8s.io', 'v1', 'selfsubjectaccessreviews', 'SelfSubjectAccessReview', false, {
    ...NO_GENERATION,
    verbs: CREATE_ONLY,
  }),
  subjectaccessreviews: rt('authorization.k8s.io', 'v1', 'subjectaccessreviews', 'SubjectAccessReview', false, { ...NO_GENERATION, verbs: CREATE_ONLY }),
  eventsV1: rt('events.k8s.io', 'v1', 'events', 'Event', true, { ...NO_GENERATION, shortNames: ['ev'] }),
} as const satisfies Record<string, ResourceType>;

/** Verbs a normal stored resource supports. */
export const ALL_VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

/** Namespaces that exist from the start, as on a fresh cluster. */
export const INITIAL_NAMESPACES = ['default', 'kube-system', 'kube-public', 'kube-node-lease'];
