// The resource types the operator's controllers watch: the sde.london kinds, and the built-in
// kinds it renders, each cached only as far as the operator needs (its own objects).
import { API_VERSION } from '../api/meta.ts';
import { MANAGED_BY, MANAGER, selectorString } from '../api/labels.ts';
import { Kinds, resourceType } from './runtime/index.ts';
import type { WatchedType } from './runtime/index.ts';

const OURS = selectorString({ [MANAGED_BY]: MANAGER });
const ours = (type: WatchedType): WatchedType => Object.freeze({ ...type, labelSelector: OURS });

/** The three custom resources of the API. */
export const SdeKinds = Object.freeze({
  Enclave: resourceType(API_VERSION, 'Enclave', 'enclaves', false),
  Workspace: resourceType(API_VERSION, 'Workspace', 'workspaces', true),
  FederatedJob: resourceType(API_VERSION, 'FederatedJob', 'federatedjobs', true),
});

/**
 * Built-in kinds as the operator caches them: only objects carrying its managed-by label, so a
 * site's other workloads cost no memory. PersistentVolumes are cached whole: a provisioned home
 * volume is not ours, but its reclaim policy is (retention).
 */
export const Owned = Object.freeze({
  Namespace: ours(Kinds.Namespace),
  NetworkPolicy: ours(Kinds.NetworkPolicy),
  ResourceQuota: ours(Kinds.ResourceQuota),
  LimitRange: ours(Kinds.LimitRange),
  ServiceAccount: ours(Kinds.ServiceAccount),
  Role: ours(Kinds.Role),
  RoleBinding: ours(Kinds.RoleBinding),
  PersistentVolumeClaim: ours(Kinds.PersistentVolumeClaim),
  Service: ours(Kinds.Service),
  StatefulSet: ours(Kinds.StatefulSet),
  Deployment: ours(Kinds.Deployment),
  Job: ours(Kinds.Job),
  Pod: ours(Kinds.Pod),
  PersistentVolume: Kinds.PersistentVolume,
});
