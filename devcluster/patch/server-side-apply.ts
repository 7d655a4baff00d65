// Server-side apply: merges a manager's applied configuration into the live object, refuses to
// take fields another manager set to a different value (409 naming both) unless forced, removes
// fields the manager stopped applying that no one else owns, and writes nothing when nothing changed.
import { ApiError, badRequest, notFound, staleConflict } from '../store/errors.ts';
import { clone, isPlainObject } from '../store/objects.ts';
import { jsonEqual } from '../../operator/runtime/json-equal.ts';
import type { ClusterStore, WriteOptions } from '../store/cluster-store.ts';
import type { KubeObject, ResourceType } from '../store/types.ts';
import { timestamp } from '../store/timestamps.ts';
import { displayPath, fieldsOf, mergeApplied, removeAt, valueAt } from './field-set.ts';
import { readManagedFields, writeManagedFields } from './managed-fields.ts';
import type { ManagedFieldsEntry, OwnedFields, SemanticsFor } from './managed-fields.ts';

/** Options of one apply request. */
export interface ApplyOptions extends WriteOptions {
  fieldManager?: string;
  force?: boolean;
  subresource?: 'status';
}

const SYSTEM_META = ['uid', 'resourceVersion', 'generation', 'creationTimestamp', 'deletionTimestamp', 'deletionGracePeriodSeconds', 'managedFields', 'selfLink'];

/** A manager as the real server names it in conflicts: with its apiVersion for Update entries only. */
function managerName(entry: ManagedFieldsEntry): string {
  const named = entry.subresource ? `"${entry.manager}" with subresource "${entry.subresource}"` : `"${entry.manager}"`;
  return entry.operation === 'Update' ? `${named} using ${entry.apiVersion}` : named;
}

function conflictError(rt: ResourceType, name: string, conflicts: { owner: OwnedFields; path: string }[]): ApiError {
  const byManager = new Map<string, string[]>();
  for (const c of conflicts) byManager.set(managerName(c.owner.entry), [...(byManager.get(managerName(c.owner.entry)) ?? []), c.path]);
  const first = conflicts[0];
  const message = conflicts.length === 1 && first !== undefined
    ? `Apply failed with 1 conflict: conflict with ${managerName(first.owner.entry)}: ${first.path}`
    : `Apply failed with ${conflicts.length} conflicts: ${[...byManager.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([m, paths]) => [`conflicts with ${m}:`, ...paths.map((p) => `- ${p}`)].join('\n')).join('\n')}`;
  return new ApiError(409, 'Conflict', message, {
    causes: conflicts.map((c) => ({ reason: 'FieldManagerConflict', message: `conflict with ${managerName(c.owner.entry)}`, field: c.path })),
    details: { name, group: rt.group, kind: rt.resource },
  });
}

/**
 * Applies `config` as `opts.fieldManager` to the object `name` (creating it when absent) and
 * returns the stored result and whether it was created.
 */
export function serverSideApply(
  store: ClusterStore,
  semanticsFor: SemanticsFor,
  rt: ResourceType,
  namespace: string | undefined,
  name: string,
  config: unknown,
  opts: ApplyOptions,
): { object: KubeObject; created: boolean } {
  const manager = opts.fieldManager ?? '';
  if (manager === '') {
    throw new ApiError(422, 'Invalid', 'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch', {
      causes: [{ field: 'fieldManager', reason: 'FieldValueRequired', message: 'Required value: is required for apply patch' }],
    });
  }
  if (!isPlainObject(config) || !isPlainObject(config.metadata)) throw badRequest('apply patch: expected an object with apiVersion, kind and metadata');
  const cfg = clone(config) as KubeObject;
  if (typeof cfg.apiVersion !== 'string' || typeof cfg.kind !== 'string') {
    throw badRequest('apply patch: apiVersion and kind must be set in the applied configuration');
  }
  if (cfg.kind !== rt.kind) throw badRequest(`apply patch: the applied kind ${cfg.kind} does not match the resource kind ${rt.kind}`);
  if (cfg.metadata.name === undefined) cfg.metadata.name = name;
  if (cfg.metadata.name !== name) {
    throw badRequest(`the name of the object (${cfg.metadata.name}) does not match the name on the URL (${name})`);
  }
  if (rt.namespaced) cfg.metadata.namespace = namespace;
  const sentRv = cfg.metadata.resourceVersion;
  for (const k of SYSTEM_META) delete cfg.metadata[k];
  if (opts.subresource === 'status') {
    for (const k of Object.keys(cfg)) if (k !== 'apiVersion' && k !== 'kind' && k !== 'metadata' && k !== 'status') delete cfg[k];
    cfg.metadata = rt.namespaced ? { name, namespace } : { name };
  } else if (rt.statusSubresource) {
    delete cfg.status;
  }
  const sem = semanticsFor(rt, cfg.apiVersion);
  const scope = opts.subresource === 'status' ? 'status' : rt.statusSubresource ? 'main' : undefined;
  const applied = fieldsOf(cfg, sem, scope);
  const entryFor = (time: string): ManagedFieldsEntry => {
    const e: ManagedFieldsEntry = { manager, operation: 'Apply', apiVersion: cfg.apiVersion, time, fieldsType: 'FieldsV1', fieldsV1: {} };
    if (opts.subresource) e.subresource = opts.subresource;
    return e;
  };
  const current = store.peek(rt, namespace, name);
  if (!current) {
    if (opts.subresource === 'status') throw notFound(rt, name);
    cfg.metadata.managedFields = writeManagedFields([{ entry: entryFor(timestamp()), set: applied }]);
    return { object: store.create(rt, cfg, { ...opts, managedFieldsSet: true }), created: true };
  }
  if (sentRv !== undefined && sentRv !== current.metadata.resourceVersion) throw staleConflict(rt, name);
  const owned = readManagedFields(current);
  const isMine = (o: OwnedFields): boolean => o.entry.manager === manager && o.entry.operation === 'Apply' && (o.entry.subresource ?? '') === (opts.subresource ?? '');
  const conflicts: { path: string; owner: OwnedFields; key: string }[] = [];
  for (const o of owned) {
    if (isMine(o)) continue;
    for (const key of applied) {
      if (!o.set.has(key)) continue;
      const path = JSON.parse(key) as string[];
      if (path[path.length - 1] === '.' || (path[path.length - 1] ?? '').startsWith('v:')) continue;
      if (jsonEqual(valueAt(current, path, sem), valueAt(cfg, path, sem))) continue;
      conflicts.push({ path: displayPath(path), owner: o, key });
    }
  }
  if (conflicts.length > 0 && !opts.force) throw conflictError(rt, name, conflicts);
  for (const c of conflicts) c.owner.set.delete(c.key);
  const merged = mergeApplied(current, cfg, [], sem) as KubeObject;
  const mine = owned.find(isMine);
  const others = owned.filter((o) => o !== mine);
  const stillOwned = (key: string): boolean => others.some((o) => o.set.has(key));
  const dropped = [...(mine?.set ?? [])].filter((k) => !applied.has(k) && !stillOwned(k)).map((k) => JSON.parse(k) as string[]);
  for (const path of dropped.sort((a, b) => b.length - a.length)) removeAt(merged, path, sem);
  const unchangedSet = mine !== undefined && mine.set.size === applied.size && [...applied].every((k) => mine.set.has(k));
  // As on the real server, "changed" is decided before the typed round trip: an applied zero
  // value that is not stored (admission/omit-empty.ts) counts, so the applier's entry gets a new
  // time and the object is written again whenever that time, to the second, has moved on.
  const unchanged = unchangedSet && jsonEqual(withoutManagedFields(merged), withoutManagedFields(current));
  if (unchanged) return { object: store.get(rt, namespace, name) ?? clone(current), created: false };
  const nextMine: OwnedFields = { entry: entryFor(timestamp()), set: applied };
  const nextOwned = mine ? owned.map((o) => (o === mine ? nextMine : o)) : [...owned, nextMine];
  merged.metadata.managedFields = writeManagedFields(nextOwned);
  const writeOpts = { ...opts, managedFieldsSet: true };
  store.admitUpdate(rt, current, merged, writeOpts);
  return { object: store.writeUpdate(rt, current, merged, writeOpts), created: false };
}

function withoutManagedFields(obj: KubeObject): KubeObject {
  return { ...obj, metadata: { ...obj.metadata, managedFields: undefined } };
}
