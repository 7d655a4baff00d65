// Field ownership in `metadata.managedFields`: which manager set which field, kept current on
// every ordinary write (operation Update), as the real server's field manager does.
import { clone, isPlainObject } from '../store/objects.ts';
import { jsonEqual } from '../../operator/runtime/json-equal.ts';
import type { FieldTracker } from '../store/cluster-store.ts';
import { timestamp } from '../store/timestamps.ts';
import type { KubeObject, ResourceType } from '../store/types.ts';
import { fieldValuesOf, fromFieldsV1, toFieldsV1 } from './field-set.ts';
import type { FieldSet } from './field-set.ts';
import type { ListSemanticsOf } from './list-semantics.ts';

/** One `managedFields` entry, as on the wire. */
export interface ManagedFieldsEntry {
  manager: string;
  operation: 'Apply' | 'Update';
  apiVersion: string;
  time: string;
  fieldsType: 'FieldsV1';
  fieldsV1: Record<string, unknown>;
  subresource?: string;
}

/** An entry with its fields parsed into a set. */
export interface OwnedFields {
  entry: ManagedFieldsEntry;
  set: FieldSet;
}

/** Gives the list semantics of a resource type (built-in merge keys or CRD schema). */
export type SemanticsFor = (rt: ResourceType, apiVersion: string) => ListSemanticsOf;

/** Parses an object's managedFields; malformed entries are dropped. */
export function readManagedFields(obj: KubeObject | undefined): OwnedFields[] {
  return validEntries(obj).map((entry) => ({ entry, set: fromFieldsV1(entry.fieldsV1) }));
}

/** The well-formed entries of an object's managedFields. */
function validEntries(obj: KubeObject | undefined): ManagedFieldsEntry[] {
  const raw = obj?.metadata.managedFields;
  if (!Array.isArray(raw)) return [];
  return (raw as ManagedFieldsEntry[]).filter((e) => typeof e === 'object' && e !== null && typeof e.manager === 'string');
}

/** True when the `fieldsV1` tree holds `path` as one of its fields (an empty node there). */
function holdsLeaf(tree: unknown, path: readonly string[]): boolean {
  let node = tree;
  for (const element of path) {
    if (!isPlainObject(node)) return false;
    node = node[element];
  }
  return isPlainObject(node) && Object.keys(node).length === 0;
}

/** The real server's order of entries: Apply before Update, then by time, manager, apiVersion, subresource. */
function entryOrder(a: ManagedFieldsEntry, b: ManagedFieldsEntry): number {
  const keys = (e: ManagedFieldsEntry): string[] => [e.operation, e.time, e.manager, e.apiVersion, e.subresource ?? ''];
  const [ka, kb] = [keys(a), keys(b)];
  for (let i = 0; i < ka.length; i += 1) if (ka[i] !== kb[i]) return (ka[i] ?? '') < (kb[i] ?? '') ? -1 : 1;
  return 0;
}

/**
 * Serialises owned fields back to managedFields in the real server's order, dropping managers
 * that own nothing. An entry without a set is one the write left alone: it goes out as it was.
 */
export function writeManagedFields(owned: ReadonlyArray<{ entry: ManagedFieldsEntry; set?: FieldSet }>): ManagedFieldsEntry[] {
  return owned
    .filter((o) => o.set === undefined || o.set.size > 0)
    .map((o) => (o.set === undefined ? o.entry : { ...o.entry, fieldsType: 'FieldsV1' as const, fieldsV1: toFieldsV1(o.set) }))
    .sort(entryOrder);
}

/** Tracks ownership for ordinary writes: changed fields move to the writer's Update entry. */
export class ManagedFieldsTracker implements FieldTracker {
  readonly #semanticsFor: SemanticsFor;

  constructor(semanticsFor: SemanticsFor) {
    this.#semanticsFor = semanticsFor;
  }

  track(rt: ResourceType, previous: KubeObject | undefined, next: KubeObject, manager: string, subresource: 'status' | undefined): void {
    const given = next.metadata.managedFields;
    if (previous !== undefined && given !== undefined && !jsonEqual(given, previous.metadata.managedFields)) {
      const kept = (Array.isArray(given) ? given : []).filter((e) => typeof e === 'object' && e !== null && Object.keys(e).length > 0);
      if (kept.length > 0) next.metadata.managedFields = kept;
      else delete next.metadata.managedFields;
      return;
    }
    const sem = this.#semanticsFor(rt, next.apiVersion);
    const scope = subresource === 'status' ? 'status' : rt.statusSubresource ? 'main' : undefined;
    // Each path with its value, in one walk per object (looking every path up from the root
    // again was a fifth of the devcluster's CPU under the operator's status writes).
    const before = previous === undefined ? new Map<string, unknown>() : fieldValuesOf(previous, sem, scope);
    const after = fieldValuesOf(next, sem, scope);
    const changed = new Set<string>();
    for (const [p, value] of after) {
      if (!before.has(p) || !jsonEqual(before.get(p), value)) changed.add(p);
    }
    const removed = [...before.keys()].filter((p) => !after.has(p));
    if (changed.size === 0 && removed.length === 0) {
      if (previous?.metadata.managedFields !== undefined) next.metadata.managedFields = clone(previous.metadata.managedFields);
      return;
    }
    // Only the entries holding a changed or removed field are parsed and written again; the rest
    // (typically the applier's large entry, under a status write) are copied as they were.
    const touched = [...changed, ...removed];
    const touchedPaths = touched.map((p) => JSON.parse(p) as string[]);
    const owned: Array<{ entry: ManagedFieldsEntry; set?: FieldSet }> = validEntries(previous).map((entry) => {
      const empty = !isPlainObject(entry.fieldsV1) || Object.keys(entry.fieldsV1).length === 0;
      if (!empty && !touchedPaths.some((path) => holdsLeaf(entry.fieldsV1, path))) return { entry: clone(entry) };
      const set = fromFieldsV1(entry.fieldsV1);
      for (const p of touched) set.delete(p);
      return { entry, set };
    });
    const mine = owned.find((o) => o.entry.manager === manager && o.entry.operation === 'Update' && (o.entry.subresource ?? '') === (subresource ?? ''));
    if (mine) {
      const set = mine.set ?? fromFieldsV1(mine.entry.fieldsV1);
      // Taking any field is a change of this manager's: its entry gets the time of it.
      if (changed.size > 0) mine.entry = { ...mine.entry, time: timestamp(), apiVersion: next.apiVersion };
      mine.set = new Set([...set, ...changed]);
    } else if (changed.size > 0) {
      const entry: ManagedFieldsEntry = { manager, operation: 'Update', apiVersion: next.apiVersion, time: timestamp(), fieldsType: 'FieldsV1', fieldsV1: {} };
      if (subresource) entry.subresource = subresource;
      owned.push({ entry, set: changed });
    }
    const out = writeManagedFields(owned);
    if (out.length > 0) next.metadata.managedFields = out;
    else delete next.metadata.managedFields;
  }
}
