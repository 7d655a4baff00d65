// Field sets as server-side apply sees them: every leaf path of an object (lists by merge key,
// sets by value, atomic lists, maps and structs whole), convertible to and from the `fieldsV1`
// wire format.
import { clone, isPlainObject } from '../store/objects.ts';
import { jsonEqual } from '../../operator/runtime/json-equal.ts';
import type { ListSemantics, ListSemanticsOf } from './list-semantics.ts';

/** One path element: `f:<field>`, `k:<json of merge keys>`, `v:<json value>` or `.` (the item itself). */
export type PathElement = string;

/** A set of leaf paths, each serialised with JSON.stringify for cheap membership tests. */
export type FieldSet = Set<string>;

// Metadata a manager can own; name, namespace and the server-set fields are nobody's.
const META_OWNED = new Set(['generateName', 'labels', 'annotations', 'finalizers', 'ownerReferences']);

/** The merge key values of a map-list item, with the schema's defaults for key fields it leaves out. */
function keyValues(item: Record<string, unknown>, s: Extract<ListSemantics, { type: 'map' }>): Record<string, unknown> {
  const picked: Record<string, unknown> = {};
  for (const k of [...s.keys].sort()) {
    const v = item[k] ?? s.keyDefaults?.[k];
    if (v !== undefined) picked[k] = v;
  }
  return picked;
}

function keyElement(item: Record<string, unknown>, s: Extract<ListSemantics, { type: 'map' }>): PathElement {
  return `k:${JSON.stringify(keyValues(item, s))}`;
}

/** Told each leaf path found (serialised) with the value there. */
type Sink = (path: string, value: unknown) => void;

function collect(value: unknown, names: string[], prefix: PathElement[], sem: ListSemanticsOf, add: Sink): void {
  if (isPlainObject(value) && Object.keys(value).length > 0 && sem.atomicMap?.(names) !== true) {
    for (const [k, v] of Object.entries(value)) {
      if (v === undefined) continue;
      collect(v, [...names, k], [...prefix, `f:${k}`], sem, add);
    }
    return;
  }
  if (Array.isArray(value)) {
    const s = sem(names);
    // An empty associative list or set holds no item to own; an empty atomic list is a value.
    if (s.type === 'map') {
      for (const item of value) {
        if (!isPlainObject(item)) continue;
        const at = [...prefix, keyElement(item, s)];
        add(JSON.stringify([...at, '.']), item);
        collect(item, names, at, sem, add);
      }
      return;
    }
    if (s.type === 'set') {
      for (const v of value) add(JSON.stringify([...prefix, `v:${JSON.stringify(v)}`]), v);
      return;
    }
  }
  add(JSON.stringify(prefix), value);
}

function walkFields(obj: Record<string, unknown>, sem: ListSemanticsOf, only: 'status' | 'main' | undefined, statusSeparate: boolean, add: Sink): void {
  for (const [k, v] of Object.entries(obj)) {
    if (k === 'apiVersion' || k === 'kind' || v === undefined) continue;
    if (statusSeparate && only === 'status' && k !== 'status') continue;
    if (statusSeparate && only === 'main' && k === 'status') continue;
    if (k === 'metadata') {
      if (!isPlainObject(v) || only === 'status') continue;
      for (const [mk, mv] of Object.entries(v)) {
        if (META_OWNED.has(mk) && mv !== undefined) collect(mv, ['metadata', mk], ['f:metadata', `f:${mk}`], sem, add);
      }
      continue;
    }
    collect(v, [k], [`f:${k}`], sem, add);
  }
}

/** The leaf paths of an object a manager would own: metadata labels/annotations/finalizers/ownerReferences, spec, status, data... */
export function fieldsOf(obj: Record<string, unknown>, sem: ListSemanticsOf, only?: 'status' | 'main', statusSeparate = true): FieldSet {
  const out: FieldSet = new Set();
  walkFields(obj, sem, only, statusSeparate, (path) => out.add(path));
  return out;
}

/**
 * The paths of {@link fieldsOf} with the value at each, as {@link valueAt} finds it (a list item
 * for its `.` path, the first item where a list repeats a key), in one walk of the object.
 */
export function fieldValuesOf(obj: Record<string, unknown>, sem: ListSemanticsOf, only?: 'status' | 'main'): Map<string, unknown> {
  const out = new Map<string, unknown>();
  walkFields(obj, sem, only, true, (path, value) => {
    if (!out.has(path)) out.set(path, value);
  });
  return out;
}

/**
 * The value at a path, or undefined when absent. With `sem`, list items are found by their key
 * as {@link fieldsOf} writes it (key fields an item leaves out take the schema's default).
 */
export function valueAt(obj: unknown, path: PathElement[], sem?: ListSemanticsOf): unknown {
  let cur = obj;
  const names: string[] = [];
  for (const el of path) {
    if (cur === undefined) return undefined;
    if (el === '.') continue;
    if (el.startsWith('f:')) {
      cur = isPlainObject(cur) ? cur[el.slice(2)] : undefined;
      names.push(el.slice(2));
    } else if (el.startsWith('k:')) {
      const want = JSON.parse(el.slice(2)) as Record<string, unknown>;
      const s = sem?.(names);
      const keyOf = (i: Record<string, unknown>): Record<string, unknown> => (s?.type === 'map' ? { ...s.keyDefaults, ...i } : i);
      cur = Array.isArray(cur) ? cur.find((i) => isPlainObject(i) && Object.entries(want).every(([k, v]) => jsonEqual(keyOf(i)[k], v))) : undefined;
    } else if (el.startsWith('v:')) {
      const want = JSON.parse(el.slice(2)) as unknown;
      cur = Array.isArray(cur) ? cur.find((i) => jsonEqual(i, want)) : undefined;
    } else return undefined;
  }
  return cur;
}

/** Removes the field, list item or set value at `path` from `obj` (in place); absent paths are ignored. */
export function removeAt(obj: unknown, path: PathElement[], sem?: ListSemanticsOf): void {
  const trimmed = path[path.length - 1] === '.' ? path.slice(0, -1) : path;
  const last = trimmed[trimmed.length - 1];
  if (last === undefined) return;
  const parent = valueAt(obj, trimmed.slice(0, -1), sem);
  if (last.startsWith('f:')) {
    if (isPlainObject(parent)) delete parent[last.slice(2)];
    return;
  }
  if (!Array.isArray(parent)) return;
  const item = valueAt(obj, trimmed, sem);
  const at = parent.indexOf(item);
  if (item !== undefined && at >= 0) parent.splice(at, 1);
}

/** `.spec.containers[name="c"].image`, as the real server prints a field in conflict messages. */
export function displayPath(path: PathElement[]): string {
  let out = '';
  for (const el of path) {
    if (el === '.') continue;
    if (el.startsWith('f:')) out += `.${el.slice(2)}`;
    else if (el.startsWith('k:')) {
      const keys = JSON.parse(el.slice(2)) as Record<string, unknown>;
      out += `[${Object.entries(keys).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(',')}]`;
    } else if (el.startsWith('v:')) out += `[=${el.slice(2)}]`;
  }
  return out;
}

/** The `fieldsV1` tree of a field set. */
export function toFieldsV1(set: FieldSet): Record<string, unknown> {
  const root: Record<string, unknown> = {};
  for (const p of [...set].sort()) {
    let node = root;
    for (const el of JSON.parse(p) as string[]) {
      const next = (node[el] as Record<string, unknown> | undefined) ?? {};
      node[el] = next;
      node = next;
    }
  }
  return root;
}

/** The field set of a `fieldsV1` tree. */
export function fromFieldsV1(tree: unknown): FieldSet {
  const out: FieldSet = new Set();
  const walk = (node: unknown, prefix: string[]): void => {
    if (!isPlainObject(node)) return;
    const keys = Object.keys(node);
    if (keys.length === 0 && prefix.length > 0) {
      out.add(JSON.stringify(prefix));
      return;
    }
    for (const k of keys) walk(node[k], [...prefix, k]);
  };
  walk(tree, []);
  return out;
}

/** A copy of `current` with `config` merged in the server-side apply way (lists by merge key, atomic lists replaced). */
export function mergeApplied(current: unknown, config: unknown, names: string[], sem: ListSemanticsOf): unknown {
  return mergeInto(clone(current), config, names, sem);
}

function mergeInto(target: unknown, config: unknown, names: string[], sem: ListSemanticsOf): unknown {
  if (isPlainObject(config) && sem.atomicMap?.(names) !== true) {
    const out: Record<string, unknown> = isPlainObject(target) ? target : {};
    for (const [k, v] of Object.entries(config)) {
      if (v === undefined) continue;
      out[k] = mergeInto(out[k], v, [...names, k], sem);
    }
    return out;
  }
  if (Array.isArray(config)) {
    const s = sem(names);
    if (s.type === 'map' && Array.isArray(target)) {
      for (const item of config) {
        if (!isPlainObject(item)) continue;
        const key = keyValues(item, s);
        const at = target.findIndex((o) => isPlainObject(o) && jsonEqual(keyValues(o, s), key));
        if (at >= 0) target[at] = mergeInto(target[at], item, names, sem);
        else target.push(clone(item));
      }
      return target;
    }
    if (s.type === 'set' && Array.isArray(target)) {
      for (const v of config) if (!target.some((o) => jsonEqual(o, v))) target.push(clone(v));
      return target;
    }
  }
  return clone(config);
}
