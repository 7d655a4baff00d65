// Workspaces and federated jobs live in an enclave's namespace: finding that enclave, validated.
import type { KubernetesObject } from '@kubernetes/client-node';
import { enclave as enclaveSchema, NAMESPACE_PREFIX } from '../../api/enclave.ts';
import type { Enclave } from '../../api/enclave.ts';
import type { ObjectCache } from '../runtime/index.ts';
import { checkSpec } from '../spec.ts';
import type { Refusal } from '../spec.ts';

/** The enclave name behind a namespace (`sde-<name>`), or undefined for any other namespace. */
export function enclaveNameOf(namespace: string | undefined): string | undefined {
  return namespace?.startsWith(NAMESPACE_PREFIX) ? namespace.slice(NAMESPACE_PREFIX.length) : undefined;
}

/** Where an enclave-scoped object stands: its enclave (valid, at this site), another site's, or a refusal. */
export type EnclaveLookup =
  | { found: true; enclave: Enclave; live: Readonly<KubernetesObject> }
  | { found: false; otherSite: true }
  | { found: false; otherSite: false; refusal: Refusal };

/** Finds the enclave whose namespace holds an object of this site: valid, and already isolated by its network policies. */
export function lookupEnclave(enclaves: ObjectCache, namespace: string | undefined, site: string): EnclaveLookup {
  const name = enclaveNameOf(namespace);
  const live = name === undefined ? undefined : enclaves.get(name);
  if (live === undefined) {
    return { found: false, otherSite: false, refusal: { reason: 'EnclaveNotFound', message: `expected namespace ${namespace} to belong to an Enclave (namespace "sde-<enclave name>"), but found none` } };
  }
  if ((live as { spec?: { site?: unknown } }).spec?.site !== site) return { found: false, otherSite: true };
  const checked = checkSpec(enclaveSchema, live);
  if (!checked.ok) return { found: false, otherSite: false, refusal: { reason: 'EnclaveInvalid', message: `Enclave ${name} is invalid: ${checked.refusal.message}` } };
  // Deny first: no workload before the enclave reports its default-deny policies applied.
  const isolated = (live as { status?: { conditions?: { type: string; status: string }[] } }).status?.conditions?.some((c) => c.type === 'NetworkIsolated' && c.status === 'True');
  if (!isolated) return { found: false, otherSite: false, refusal: { reason: 'EnclaveNotReady', message: `waiting for Enclave ${name} to be provisioned with its default-deny network policies` } };
  return { found: true, enclave: checked.value, live };
}

/** Keys (`namespace/name`) of every object of `cache` in an enclave's namespace: what to reconcile when the enclave changes. */
export function keysInEnclave(cache: ObjectCache, enclave: Readonly<KubernetesObject>): string[] {
  const namespace = `${NAMESPACE_PREFIX}${enclave.metadata?.name ?? ''}`;
  return cache.list({ namespace }).map((o) => `${namespace}/${o.metadata?.name ?? ''}`);
}
