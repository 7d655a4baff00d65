// Server-side apply of a whole desired state, in dependency order, skipping what is already so.
import { createHash } from 'node:crypto';
import type { KubernetesObject } from '@kubernetes/client-node';
import type { KubeClient } from './kube.ts';
import { fixedFieldsDiffer, leaveHandedOverFields } from './handover.ts';
import { identityOf } from './resources.ts';

/**
 * Hash of the last applied desired state, on every object applied, so a field dropped from the
 * desired state still causes a write.
 */
export const APPLIED_HASH_ANNOTATION = 'sde.london/applied-hash';

/**
 * Apply ranks by kind, each applied together once the ranks before it have finished: the
 * namespace; then its guard rails (quota, limits, default-deny network policies) and what later
 * objects refer to (service accounts, roles, configuration, volumes); then what refers to them
 * (role bindings: the API server checks a binding against its role; claims: counted by the quota,
 * a dataset claim bound to its volume; services); workloads last, so their pods start under every
 * guard rail. Unlisted kinds go after all of them.
 */
export const KIND_RANKS: readonly (readonly string[])[] = Object.freeze([
  ['Namespace'],
  ['ResourceQuota', 'LimitRange', 'NetworkPolicy', 'ServiceAccount', 'Role', 'ClusterRole', 'ConfigMap', 'Secret', 'PersistentVolume'],
  ['RoleBinding', 'ClusterRoleBinding', 'PersistentVolumeClaim', 'Service'],
  ['Deployment', 'StatefulSet', 'Job'],
]);

/** Every kind of {@link KIND_RANKS} in one order, for listings (`sde-operator render`). */
export const KIND_ORDER: readonly string[] = Object.freeze(KIND_RANKS.flat());

/** The rank of an object in {@link KIND_RANKS}: lower ranks are applied (and finish) first. */
export function kindRank(object: KubernetesObject): number {
  const rank = KIND_RANKS.findIndex((kinds) => kinds.includes(object.kind ?? ''));
  return rank < 0 ? KIND_RANKS.length : rank;
}

/** The place of an object's kind in {@link KIND_ORDER} (unlisted kinds last): ranks in order, and kinds in a fixed order within each. */
export function kindOrder(object: KubernetesObject): number {
  const at = KIND_ORDER.indexOf(object.kind ?? '');
  return at < 0 ? KIND_ORDER.length : at;
}

/**
 * Some objects of a desired state could not be applied; the ones of later ranks were not tried.
 * `written` holds those that were, as {@link ApplyResult.written}: their writes happened all the same.
 */
export class ApplyError extends Error {
  override readonly name = 'ApplyError';
  readonly failures: ReadonlyArray<{ identity: string; error: unknown }>;
  readonly written: ApplyResult['written'];

  constructor(failures: ReadonlyArray<{ identity: string; error: unknown }>, written: ApplyResult['written'] = []) {
    super(`expected every desired object to apply, but ${failures.length} failed: ${failures.map(({ identity, error }) => `${identity}: ${error instanceof Error ? error.message : String(error)}`).join('; ')}`);
    this.failures = failures;
    this.written = written;
  }
}

/**
 * A desired object's name is taken by an object another owner controls (its controller
 * ownerReference names a different kind or name): applying would hand one object back and forth
 * between two owners. The first owner keeps it; the second is refused until the name is free.
 */
export class OwnerConflictError extends Error {
  override readonly name = 'OwnerConflictError';
}

type OwnerReference = NonNullable<NonNullable<KubernetesObject['metadata']>['ownerReferences']>[number];

function controllerOf(object: Readonly<KubernetesObject> | undefined): OwnerReference | undefined {
  return object?.metadata?.ownerReferences?.find((reference) => reference.controller === true);
}

/**
 * The conflict when `live` is controlled by another owner than `desired` names. The same owner
 * deleted and created again (same kind and name, new uid) is no conflict: its children are
 * taken over, as their garbage collection would remove them anyway.
 */
function ownerConflict(live: Readonly<KubernetesObject> | undefined, desired: KubernetesObject, identity: string): OwnerConflictError | undefined {
  const held = controllerOf(live);
  const wanted = controllerOf(desired);
  if (held === undefined || wanted === undefined || (held.kind === wanted.kind && held.name === wanted.name)) return undefined;
  return new OwnerConflictError(`expected ${identity} to be free for ${wanted.kind} ${wanted.name}, but ${held.kind} ${held.name} already has it: names must not collide`);
}

/** Options of {@link applyAll}. */
export interface ApplyOptions {
  /** Default the client's; keep one manager for everything the operator writes. */
  fieldManager?: string;
  /** Default true: take over fields another manager set, so the operator's state wins. */
  force?: boolean;
  /** The cached live object for a desired one, if any; without it every object is written. */
  live?(desired: KubernetesObject): Readonly<KubernetesObject> | undefined;
  /** Apply rank; objects of one rank are applied together, ranks in ascending order. Default {@link kindRank}. */
  order?(object: KubernetesObject): number;
}

/**
 * What an apply did: objects written (with the resourceVersion the server returned), those left
 * alone, and those whose rendering differs on fields Kubernetes fixed when they were created
 * (sent as stored, so the difference stays: for the reconciler to report).
 */
export interface ApplyResult {
  written: Array<{ identity: string; object: KubernetesObject; resourceVersion: string }>;
  unchanged: string[];
  fixed: Array<{ identity: string; object: KubernetesObject; fields: string[] }>;
}

const ARRAY_INDEX = /^(0|[1-9][0-9]*)$/;
const isArrayIndex = (key: string): boolean => ARRAY_INDEX.test(key) && Number(key) < 2 ** 32 - 1;

/** Array-index keys first, in numeric order, then the rest in code-unit order (as `sort()` with no comparator). */
function compareKeys(a: string, b: string): number {
  const aIndex = isArrayIndex(a);
  const bIndex = isArrayIndex(b);
  if (aIndex !== bIndex) return aIndex ? -1 : 1;
  if (aIndex) return Number(a) - Number(b);
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * JSON with object keys sorted, without building sorted copies first. Keys come out in the
 * order `JSON.stringify` gives an object built with sorted keys: array-index keys ("2", "10")
 * first in numeric order (JavaScript puts them there), then the rest in sorted order; members
 * that are undefined are left out. The applied-hash annotation depends on this exact text.
 * Written into one list of parts and joined once: building each level's string from its
 * children's copied a StatefulSet's text once per level (hashing was 10 % of the operator's
 * allocations while 1,000 enclaves were created; this way it allocates about two thirds as much).
 */
function sortedJson(value: unknown): string {
  const parts: string[] = [];
  writeSortedJson(value, parts);
  return parts.join('');
}

function writeSortedJson(value: unknown, out: string[]): void {
  if (value === null || typeof value !== 'object') {
    out.push(JSON.stringify(value) ?? 'null');
    return;
  }
  if (Array.isArray(value)) {
    out.push('[');
    for (let i = 0; i < value.length; i++) {
      if (i > 0) out.push(',');
      if (value[i] === undefined) out.push('null');
      else writeSortedJson(value[i], out);
    }
    out.push(']');
    return;
  }
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record).filter((key) => record[key] !== undefined).sort(compareKeys);
  out.push('{');
  for (let i = 0; i < keys.length; i++) {
    if (i > 0) out.push(',');
    out.push(JSON.stringify(keys[i]), ':');
    writeSortedJson(record[keys[i]!], out);
  }
  out.push('}');
}

// Hashes of frozen desired objects (a render reused across reconciles): an object that cannot
// change need not be hashed twice.
const frozenHashes = new WeakMap<object, string>();

/** A short, stable hash of a desired object (key order and undefined fields do not matter). */
export function desiredHash(object: KubernetesObject): string {
  const known = frozenHashes.get(object);
  if (known !== undefined) return known;
  const hash = createHash('sha256').update(sortedJson(object)).digest('hex').slice(0, 16);
  if (Object.isFrozen(object)) frozenHashes.set(object, hash);
  return hash;
}

/** A copy of `object` annotated with its {@link desiredHash}, so a field dropped later still changes it. */
export function withDesiredHash<T extends KubernetesObject>(object: T, hash: string = desiredHash(object)): T {
  // Only metadata changes: the rest is shared with `object`, never modified, and serialised as is.
  return { ...object, metadata: { ...object.metadata, annotations: { ...object.metadata?.annotations, [APPLIED_HASH_ANNOTATION]: hash } } };
}

/**
 * True for the values a built-in kind's typed round trip does not store: the API server decodes
 * into Go structs whose non-pointer `omitempty` fields drop `false`, `0`, `""`, `[]` and `{}`
 * (checked on kube-apiserver 1.23: `hostNetwork: false`, `externalIPs: []`, a volume's
 * `storageClassName: ""`). Where such a value is desired, an absent live field says the same.
 */
function isZeroValue(value: unknown): boolean {
  if (value === false || value === 0 || value === '') return true;
  if (Array.isArray(value)) return value.length === 0;
  return value !== null && typeof value === 'object' && Object.keys(value).length === 0;
}

/**
 * True when every field set in `desired` has the same value in `live`; fields only in `live`
 * (server defaults, other managers' fields, status) are ignored, and a desired zero value matches
 * an absent field (see {@link isZeroValue}). Arrays must have the same length, element by
 * element. Caveat: values the server normalises otherwise (quantities like `0.5` vs `500m`) look
 * different, so the render should use the canonical form or pay one no-op apply per live change.
 */
export function containsDesired(live: unknown, desired: unknown): boolean {
  if (live === desired) return true;
  if (desired === undefined) return true;
  if (desired === null) return live === null || live === undefined;
  if (live === undefined && isZeroValue(desired)) return true;
  if (Array.isArray(desired)) {
    return Array.isArray(live) && live.length === desired.length && desired.every((item, index) => containsDesired(live[index], item));
  }
  if (typeof desired === 'object') {
    if (live === null || typeof live !== 'object' || Array.isArray(live)) return false;
    const liveRecord = live as Record<string, unknown>;
    return Object.entries(desired).every(([key, value]) => containsDesired(liveRecord[key], value));
  }
  return live === desired;
}

// Live objects (cached, frozen: a new object for every version) on which the server answered an
// apply of the desired state with this hash without a new resourceVersion: it already holds that
// state, whatever the comparison below says about fields the server stores in its own form.
const settledOn = new WeakMap<object, string>();

/**
 * True when applying `desired` would change nothing: the live object carries the hash of this
 * exact desired state (so no field was dropped since) and still holds every desired value (so
 * nobody changed them since), or the server already answered an apply of it on this very
 * version of the object without writing. Fields handed over to a controller are compared as
 * they would be sent (see {@link leaveHandedOverFields}).
 */
export function isUpToDate(live: Readonly<KubernetesObject> | undefined, desired: KubernetesObject, hash: string = desiredHash(desired)): boolean {
  if (!live) return false;
  if (live.metadata?.annotations?.[APPLIED_HASH_ANNOTATION] !== hash) return false;
  if (settledOn.get(live) === hash) return true;
  const { status: _status, ...fields } = leaveHandedOverFields(desired, live) as KubernetesObject & { status?: unknown };
  return containsDesired(live, fields);
}

/**
 * Server-side applies the whole desired state with one field manager and `force`, rank by rank
 * (namespace and network policies before workloads); objects in one rank go in parallel. An
 * object whose live copy already matches (see {@link isUpToDate}) causes no request at all, and
 * one the server answers without a new resourceVersion counts as unchanged. Fields handed over
 * to Kubernetes' controllers are not sent again once they own them, and an object another owner
 * controls is never taken over ({@link OwnerConflictError}). When an object fails, its
 * rank finishes, later ranks are not tried (deny-first must hold) and an {@link ApplyError} is thrown.
 */
export async function applyAll(client: KubeClient, desired: readonly KubernetesObject[], options: ApplyOptions = {}): Promise<ApplyResult> {
  const order = options.order ?? kindRank;
  const ranks = new Map<number, KubernetesObject[]>();
  for (const object of desired) {
    const rank = order(object);
    ranks.set(rank, [...(ranks.get(rank) ?? []), object]);
  }
  const result: ApplyResult = { written: [], unchanged: [], fixed: [] };
  for (const rank of [...ranks.keys()].sort((a, b) => a - b)) {
    // A replica that stopped leading gets that reason, not an ApplyError wrapping it per object.
    client.assertMayWrite();
    const failures: Array<{ identity: string; error: unknown }> = [];
    await Promise.all(
      (ranks.get(rank) ?? []).map(async (object) => {
        const identity = identityOf(object);
        const hash = desiredHash(object);
        const live = options.live?.(object);
        const conflict = ownerConflict(live, object, identity);
        if (conflict) {
          failures.push({ identity, error: conflict });
          return;
        }
        const fixed = fixedFieldsDiffer(object, live);
        if (fixed.length > 0) result.fixed.push({ identity, object, fields: fixed });
        if (isUpToDate(live, object, hash)) {
          result.unchanged.push(identity);
          return;
        }
        try {
          const sent = withDesiredHash(leaveHandedOverFields(object, live), hash);
          const stored = await client.apply(sent, { ...(options.fieldManager ? { fieldManager: options.fieldManager } : {}), force: options.force ?? true });
          const resourceVersion = stored.metadata?.resourceVersion ?? '';
          if (live !== undefined && resourceVersion !== '' && resourceVersion === live.metadata?.resourceVersion) {
            // A no-op on the server: no watch event follows, and none must be waited for.
            settledOn.set(live, hash);
            result.unchanged.push(identity);
            return;
          }
          result.written.push({ identity, object: stored, resourceVersion });
        } catch (error) {
          failures.push({ identity, error });
        }
      }),
    );
    if (failures.length > 0) throw new ApplyError(failures, result.written);
  }
  return result;
}
