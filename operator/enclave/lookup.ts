// Workspaces and federated jobs live in an enclave's namespace: finding that enclave, validated.
import type { KubernetesObject } from '@kubernetes/client-node';
import { enclave as enclaveSchema, NAMESPACE_PREFIX } from '../../api/enclave.ts';
import type { Enclave } from '../../api/enclave.ts';
import { statusOnlyChange } from '../runtime/index.ts';
import type { CacheEvent, ObjectCache } from '../runtime/index.ts';
import { ISOLATION_BREACHED } from '../isolation/conditions.ts';
import { checkSpec } from '../spec-check.ts';
import type { Refusal } from '../spec-check.ts';

/** The enclave name behind a namespace (`sde-<name>`), or undefined for any other namespace. */
export function enclaveNameOf(namespace: string | undefined): string | undefined {
  return namespace?.startsWith(NAMESPACE_PREFIX) ? namespace.slice(NAMESPACE_PREFIX.length) : undefined;
}

/** Where an enclave-scoped object stands: its enclave (valid, isolated, at this site), another site's, one still being provisioned, or a refusal. */
export type EnclaveLookup =
  | { state: 'found'; enclave: Enclave; live: Readonly<KubernetesObject> }
  | { state: 'other-site' }
  | { state: 'provisioning' }
  | { state: 'refused'; refusal: Refusal };

/**
 * Finds the enclave whose namespace holds an object of this site: valid, and already isolated by
 * its network policies. With `gate` (the site's `isolation.gateWorkspaces`), an enclave whose
 * isolation checks found a path or a permission beyond its spec refuses its workloads until restored.
 */
export function lookupEnclave(enclaves: ObjectCache, namespace: string | undefined, site: string, gate = false): EnclaveLookup {
  const name = enclaveNameOf(namespace);
  const live = name === undefined ? undefined : enclaves.get(name);
  if (live === undefined) {
    return { state: 'refused', refusal: { reason: 'EnclaveNotFound', message: `expected namespace ${namespace} to belong to an Enclave (namespace "sde-<enclave name>"), but found none` } };
  }
  if ((live as { spec?: { site?: unknown } }).spec?.site !== site) return { state: 'other-site' };
  const checked = checkSpec(enclaveSchema, live);
  if (!checked.ok) return { state: 'refused', refusal: { reason: 'EnclaveInvalid', message: `Enclave ${name} is invalid: ${checked.refusal.message}` } };
  // Deny first: no workload before the enclave reports its default-deny policies applied.
  const conditions = (live as { status?: { conditions?: { type: string; status: string; reason?: string; message?: string }[] } }).status?.conditions ?? [];
  const breached = conditions.find((c) => (c.type === 'NetworkIsolated' || c.type === 'AccessIsolated') && c.status === 'False' && (ISOLATION_BREACHED as readonly string[]).includes(c.reason ?? ''));
  if (breached !== undefined) {
    if (gate) return { state: 'refused', refusal: { reason: 'EnclaveNotIsolated', message: `Enclave ${name}'s isolation is breached, and the site stops workloads until it is restored: ${breached.type} ${breached.reason}: ${breached.message ?? ''}` } };
    return { state: 'found', enclave: checked.value, live };
  }
  if (!conditions.some((c) => c.type === 'NetworkIsolated' && c.status === 'True')) {
    const refused = conditions.find((c) => c.type === 'SpecValid' && c.status === 'False');
    // Still being provisioned: wait quietly; the enclave's next status change reconciles us again.
    if (refused === undefined) return { state: 'provisioning' };
    return { state: 'refused', refusal: { reason: 'EnclaveNotReady', message: `Enclave ${name} is not provisioned (${refused.reason}), so it has no network policies to run workloads behind` } };
  }
  return { state: 'found', enclave: checked.value, live };
}

type Conditions = { status?: { conditions?: { type: string; status: string; reason?: string }[] } };

/**
 * True when an enclave's change can matter to the workloads in it: anything but its status, or
 * the parts of its status they read: the conditions {@link lookupEnclave} reads (NetworkIsolated,
 * AccessIsolated, SpecValid) and the access record (an extension restores access once recorded). Its phase,
 * workspace count, AccessActive or ExpiringSoon do not: a workload works out access itself.
 */
export function enclaveChangeMattersToWorkloads(event: CacheEvent): boolean {
  if (!statusOnlyChange(event)) return true;
  const gate = (object: Readonly<KubernetesObject> | undefined): string => {
    const status = (object as (Conditions & { status?: { accessHistory?: unknown } }) | undefined)?.status;
    const conditions = (status?.conditions ?? []).filter((c) => c.type === 'NetworkIsolated' || c.type === 'AccessIsolated' || c.type === 'SpecValid').map((c) => [c.type, c.status, c.reason]);
    return JSON.stringify([conditions, status?.accessHistory ?? null]);
  };
  return gate(event.previous) !== gate(event.object);
}

/** A watch mapping from an object in an enclave's namespace to that enclave's key (none elsewhere). */
export function enclaveKeyOf(object: Readonly<KubernetesObject>): string[] {
  const name = enclaveNameOf(object.metadata?.namespace);
  return name === undefined ? [] : [name];
}

/** Keys (`namespace/name`) of every object of `cache` in an enclave's namespace: what to reconcile when the enclave changes. */
export function keysInEnclave(cache: ObjectCache, enclave: Readonly<KubernetesObject>): string[] {
  const namespace = `${NAMESPACE_PREFIX}${enclave.metadata?.name ?? ''}`;
  return cache.list({ namespace }).map((o) => `${namespace}/${o.metadata?.name ?? ''}`);
}

/** A watch mapping from a child (a pod) to the `namespace/name` key its `label` names, if it carries the label. */
export function keyFromLabel(label: string): (child: Readonly<KubernetesObject>) => string[] {
  return (child) => {
    const name = child.metadata?.labels?.[label];
    return name ? [`${child.metadata?.namespace}/${name}`] : [];
  };
}
