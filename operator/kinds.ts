// The resource types the operator's controllers watch: the sde.london kinds, and the built-in
// kinds it renders, each cached only as far as the operator needs (its own objects).
import type { KubernetesObject } from '@kubernetes/client-node';
import { KINDS } from '../api/crd.ts';
import { API_VERSION } from '../api/meta.ts';
import { ENCLAVE, MANAGED_BY, MANAGER } from '../api/labels.ts';
import { selectorString } from '../api/selectors.ts';
import { isOperatorOwned } from './identity.ts';
import { Kinds, resourceType } from './runtime/index.ts';
import type { WatchedType } from './runtime/index.ts';

const OURS = selectorString({ [MANAGED_BY]: MANAGER });
const ours = (type: WatchedType): WatchedType => Object.freeze({ ...type, labelSelector: OURS });
/** The operator's objects of a kind it also caches whoever wrote them: a view of that cache, so the kind is watched once. */
const oursAmong = (everyone: WatchedType): WatchedType => Object.freeze({ ...ours(everyone), viewOf: everyone });
// ConfigMaps of enclaves only (the package mirror's): the register's records are ours too, but
// live in the operator's namespace under a cache of their own, and are large.
const ENCLAVE_CONFIG_MAPS = `${OURS},${ENCLAVE}`;

type Pod = KubernetesObject & { spec?: { nodeName?: string }; status?: { phase?: string; conditions?: unknown[] } };
type Volume = KubernetesObject & { spec?: { persistentVolumeReclaimPolicy?: string; claimRef?: unknown; storageClassName?: string }; status?: { phase?: string } };

/** What a workspace's status reads of its pod: where it runs, its phase and conditions. Containers, volumes and the rest stay out of the cache. */
export function podView(pod: Pod): Pod {
  const { apiVersion, kind, metadata, spec, status } = pod;
  return { apiVersion, kind, metadata, spec: { ...(spec?.nodeName ? { nodeName: spec.nodeName } : {}) }, status: { ...(status?.phase ? { phase: status.phase } : {}), ...(status?.conditions ? { conditions: status.conditions } : {}) } };
}

/**
 * A PersistentVolume as the cache keeps it: whole when it is ours (a dataset volume, compared
 * field by field with its render), else only what retention reads and writes (its reclaim policy
 * and the claim it is bound to) — a site's other volumes cost little memory.
 */
export function volumeView(volume: Volume): Volume {
  if (isOperatorOwned(volume)) return volume;
  const { apiVersion, kind, metadata, spec, status } = volume;
  return {
    apiVersion,
    kind,
    metadata,
    spec: { persistentVolumeReclaimPolicy: spec?.persistentVolumeReclaimPolicy, claimRef: spec?.claimRef, storageClassName: spec?.storageClassName },
    status: { phase: status?.phase },
  } as Volume;
}

/** The resource type of one of the API's kinds, from its definition (api/crd.ts: the one table of the kinds). */
function sdeKind(kind: string): WatchedType {
  const definition = KINDS.find((k) => k.kind === kind);
  if (definition === undefined) throw new Error(`expected ${kind} among the API's kinds, but it is not`);
  return resourceType(API_VERSION, definition.kind, definition.plural, definition.scope === 'Namespaced');
}

/** The three custom resources of the API. */
export const SdeKinds = Object.freeze({
  Enclave: sdeKind('Enclave'),
  Workspace: sdeKind('Workspace'),
  FederatedJob: sdeKind('FederatedJob'),
});

/**
 * Kinds the isolation monitor reads whoever wrote them: an enclave's boundary can be opened by a
 * NetworkPolicy or a binding the operator never made. The operator's own NetworkPolicies, Roles and
 * RoleBindings ({@link Owned}) are views of these caches, not watches of their own.
 */
export const Everyone = Object.freeze({
  NetworkPolicy: Kinds.NetworkPolicy,
  RoleBinding: Kinds.RoleBinding,
  ClusterRoleBinding: Kinds.ClusterRoleBinding,
  Role: Kinds.Role,
  ClusterRole: Kinds.ClusterRole,
});

/**
 * Built-in kinds as the operator caches them: only objects carrying its managed-by label, so a
 * site's other workloads cost no memory (ConfigMaps only an enclave's). NetworkPolicies, Roles and
 * RoleBindings are cached whoever wrote them anyway ({@link Everyone}); the operator's are a view
 * of those caches. Every PersistentVolume is cached: a provisioned home volume is not ours, but
 * its reclaim policy is (retention); the others only in part. Pods only as far as a workspace's
 * status reads them.
 */
export const Owned = Object.freeze({
  Namespace: ours(Kinds.Namespace),
  NetworkPolicy: oursAmong(Everyone.NetworkPolicy),
  ResourceQuota: ours(Kinds.ResourceQuota),
  LimitRange: ours(Kinds.LimitRange),
  ServiceAccount: ours(Kinds.ServiceAccount),
  ConfigMap: Object.freeze({ ...Kinds.ConfigMap, labelSelector: ENCLAVE_CONFIG_MAPS }),
  Role: oursAmong(Everyone.Role),
  RoleBinding: oursAmong(Everyone.RoleBinding),
  PersistentVolumeClaim: ours(Kinds.PersistentVolumeClaim),
  Service: ours(Kinds.Service),
  StatefulSet: ours(Kinds.StatefulSet),
  Deployment: ours(Kinds.Deployment),
  Job: ours(Kinds.Job),
  Pod: Object.freeze({ ...ours(Kinds.Pod), transform: podView }),
  PersistentVolume: Object.freeze({ ...Kinds.PersistentVolume, transform: volumeView }),
});
