// Who the operator is to the API server, and what of the cluster it never deletes: given to the
// runtime's Manager, which knows nothing of the SDE domain.
import type { KubernetesObject } from '@kubernetes/client-node';
import { DATA, MANAGED_BY, MANAGER } from '../api/labels.ts';
import type { ManagerOptions } from './runtime/index.ts';
import packageJson from '../package.json' with { type: 'json' };

/**
 * Sent on every request the operator makes (applies, patches, reads, watches, Events, the Lease),
 * so the API server's audit log can tell the operator's writes from anyone else's.
 */
export const USER_AGENT = `${MANAGER}/${packageJson.version} (node ${process.version})`;

/** True when `object` carries the operator's managed-by label: the operator made it from a spec. */
export function isOperatorOwned(object: Readonly<KubernetesObject>): boolean {
  return object.metadata?.labels?.[MANAGED_BY] === MANAGER;
}

/** Kinds pruning never deletes, whatever their labels: dataset PersistentVolumes are not the operator's to destroy. */
export const PROTECTED_KINDS: readonly string[] = Object.freeze(['PersistentVolume']);

/**
 * True when pruning must leave `object` alone: its kind is in {@link PROTECTED_KINDS}, or it is
 * labelled `sde.london/data: "true"` (a PersistentVolumeClaim, or anything else, holding research data).
 */
export function isProtectedFromPrune(object: Readonly<KubernetesObject>): boolean {
  return PROTECTED_KINDS.includes(object.kind ?? '') || object.metadata?.labels?.[DATA] === 'true';
}

/** The operator's part of every Manager's options: its field manager and User-Agent, its managed-by label, and what it never prunes. */
export const OPERATOR_IDENTITY = Object.freeze({
  fieldManager: MANAGER,
  userAgent: USER_AGENT,
  managedBy: Object.freeze({ label: MANAGED_BY, value: MANAGER }),
  protectFromPrune: isProtectedFromPrune,
}) satisfies Pick<ManagerOptions, 'fieldManager' | 'userAgent' | 'managedBy' | 'protectFromPrune'>;
