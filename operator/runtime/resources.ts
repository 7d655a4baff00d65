// Resource types the runtime watches and writes, and the identities it derives from objects.
import type { KubernetesObject } from '@kubernetes/client-node';

/** A kind the API serves: enough to build its URLs without discovery. */
export interface ResourceType {
  /** `v1` for the core group, otherwise `group/version`. */
  apiVersion: string;
  kind: string;
  /** The lower-case plural in URLs, e.g. `networkpolicies`. */
  plural: string;
  namespaced: boolean;
}

/** A resource type plus an optional label selector limiting what the cache holds (e.g. only our Pods). */
export interface WatchedType extends ResourceType {
  labelSelector?: string;
  /** Watch only this namespace, so a namespaced Role suffices (the operator's own namespace); default every namespace. */
  namespace?: string;
  /**
   * What the cache keeps of each object, as client-go's `SetTransform`: for kinds the operator only
   * partly reads (a pod's phase, not its containers), so the cache costs less memory. Must keep
   * `metadata`; the cache is shared, so one type (and its transform) per kind and selector.
   */
  transform?: (object: KubernetesObject) => KubernetesObject;
  /**
   * A broader type of the same kind whose cache holds every object this one selects (no selector,
   * or one this `labelSelector` narrows): this type's cache is then a view of that one, filtered
   * by `labelSelector` (equality form), and the kind is watched once for both.
   */
  viewOf?: WatchedType;
}

/** Declares a resource type; the group and version are split from `apiVersion`. */
export function resourceType(apiVersion: string, kind: string, plural: string, namespaced: boolean): ResourceType {
  return Object.freeze({ apiVersion, kind, plural, namespaced });
}

/** Built-in kinds the operator renders, watches or writes. */
export const Kinds = Object.freeze({
  Namespace: resourceType('v1', 'Namespace', 'namespaces', false),
  ConfigMap: resourceType('v1', 'ConfigMap', 'configmaps', true),
  Secret: resourceType('v1', 'Secret', 'secrets', true),
  Service: resourceType('v1', 'Service', 'services', true),
  ServiceAccount: resourceType('v1', 'ServiceAccount', 'serviceaccounts', true),
  Pod: resourceType('v1', 'Pod', 'pods', true),
  PersistentVolume: resourceType('v1', 'PersistentVolume', 'persistentvolumes', false),
  PersistentVolumeClaim: resourceType('v1', 'PersistentVolumeClaim', 'persistentvolumeclaims', true),
  ResourceQuota: resourceType('v1', 'ResourceQuota', 'resourcequotas', true),
  LimitRange: resourceType('v1', 'LimitRange', 'limitranges', true),
  Event: resourceType('v1', 'Event', 'events', true),
  NetworkPolicy: resourceType('networking.k8s.io/v1', 'NetworkPolicy', 'networkpolicies', true),
  Role: resourceType('rbac.authorization.k8s.io/v1', 'Role', 'roles', true),
  RoleBinding: resourceType('rbac.authorization.k8s.io/v1', 'RoleBinding', 'rolebindings', true),
  ClusterRole: resourceType('rbac.authorization.k8s.io/v1', 'ClusterRole', 'clusterroles', false),
  ClusterRoleBinding: resourceType('rbac.authorization.k8s.io/v1', 'ClusterRoleBinding', 'clusterrolebindings', false),
  Deployment: resourceType('apps/v1', 'Deployment', 'deployments', true),
  StatefulSet: resourceType('apps/v1', 'StatefulSet', 'statefulsets', true),
  Job: resourceType('batch/v1', 'Job', 'jobs', true),
  Lease: resourceType('coordination.k8s.io/v1', 'Lease', 'leases', true),
  SubjectAccessReview: resourceType('authorization.k8s.io/v1', 'SubjectAccessReview', 'subjectaccessreviews', false),
  CustomResourceDefinition: resourceType('apiextensions.k8s.io/v1', 'CustomResourceDefinition', 'customresourcedefinitions', false),
});

/** The API group of an apiVersion: `''` for the core group. */
export function groupOf(apiVersion: string): string {
  const slash = apiVersion.indexOf('/');
  return slash < 0 ? '' : apiVersion.slice(0, slash);
}

/** The collection URL path of a type, optionally in one namespace (ignored for cluster-scoped types). */
export function collectionPath(type: ResourceType, namespace?: string): string {
  const root = type.apiVersion.includes('/') ? `/apis/${type.apiVersion}` : `/api/${type.apiVersion}`;
  return type.namespaced && namespace ? `${root}/namespaces/${encodeURIComponent(namespace)}/${type.plural}` : `${root}/${type.plural}`;
}

/** Identifies a type across versions: `group/Kind` (`/Namespace` for the core group). */
export function typeId(type: Pick<ResourceType, 'apiVersion' | 'kind'>): string {
  return `${groupOf(type.apiVersion)}/${type.kind}`;
}

// Ids of frozen types (the kinds' tables): every cache lookup of a reconcile asks for one, and
// building it anew each time was three strings per lookup.
const frozenTypeIds = new WeakMap<WatchedType, string>();

/** Identifies a watched type's cache: its kind, label selector and namespace (one cache each). */
export function watchedTypeId(type: WatchedType): string {
  const known = frozenTypeIds.get(type);
  if (known !== undefined) return known;
  const id = `${typeId(type)}|${type.labelSelector ?? ''}|${type.namespace ?? ''}`;
  if (Object.isFrozen(type)) frozenTypeIds.set(type, id);
  return id;
}

/** The work-queue key of an object: `namespace/name`, or `name` when cluster-scoped. */
export function objectKey(object: KubernetesObject): string {
  const { name = '', namespace } = object.metadata ?? {};
  return namespace ? `${namespace}/${name}` : name;
}

/** Splits a work-queue key back into namespace (absent for cluster-scoped) and name. */
export function parseKey(key: string): { namespace?: string; name: string } {
  const slash = key.indexOf('/');
  return slash < 0 ? { name: key } : { namespace: key.slice(0, slash), name: key.slice(slash + 1) };
}

/** A stable identity of an object for apply/prune bookkeeping: `group/Kind/namespace/name`. */
export function identityOf(object: KubernetesObject): string {
  return `${groupOf(object.apiVersion ?? 'v1')}/${object.kind ?? ''}/${object.metadata?.namespace ?? ''}/${object.metadata?.name ?? ''}`;
}
