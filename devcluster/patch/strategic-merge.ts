// Strategic merge patch for built-in kinds: like a merge patch, but lists with a merge key merge
// item by item, `$patch: delete|replace` directives, and `$deleteFromPrimitiveList`. Directives
// `$setElementOrder` and `$retainKeys` are accepted and ignored.
import { clone, isPlainObject } from '../store/objects.ts';
import type { ListSemanticsOf } from './list-semantics.ts';

function sameKey(a: Record<string, unknown>, b: Record<string, unknown>, keys: string[]): boolean {
  return keys.every((k) => a[k] === b[k] || (a[k] === undefined && b[k] === undefined));
}

function mergeList(target: unknown, patch: unknown[], path: string[], sem: ListSemanticsOf): unknown[] {
  const semantics = sem(path);
  if (patch.length === 1 && isPlainObject(patch[0]) && patch[0].$patch === 'replace') return [];
  if (semantics.type === 'set') {
    const out = Array.isArray(target) ? [...target] : [];
    for (const v of patch) if (!out.includes(v)) out.push(v);
    return out;
  }
  if (semantics.type !== 'map' || semantics.keys.length === 0) return clone(patch.filter((p) => !(isPlainObject(p) && p.$patch !== undefined)));
  const keys = semantics.keys.filter((k, i) => i === 0 || patch.some((p) => isPlainObject(p) && p[k] !== undefined));
  const out: unknown[] = Array.isArray(target) ? clone(target) : [];
  for (const item of patch) {
    if (!isPlainObject(item)) continue;
    const at = out.findIndex((o) => isPlainObject(o) && sameKey(o, item, keys));
    if (item.$patch === 'delete') {
      if (at >= 0) out.splice(at, 1);
      continue;
    }
    if (at >= 0) out[at] = mergeValue(out[at], item, path, sem);
    else out.push(mergeValue(undefined, item, path, sem));
  }
  return out;
}

function mergeValue(target: unknown, patch: unknown, path: string[], sem: ListSemanticsOf): unknown {
  if (Array.isArray(patch)) return mergeList(target, patch, path, sem);
  if (!isPlainObject(patch)) return clone(patch);
  if (patch.$patch === 'replace') {
    const rest = { ...patch };
    delete rest.$patch;
    return mergeValue(undefined, rest, path, sem);
  }
  const out: Record<string, unknown> = isPlainObject(target) ? clone(target) : {};
  for (const [key, value] of Object.entries(patch)) {
    if (key === '$patch' || key.startsWith('$setElementOrder/') || key === '$retainKeys') continue;
    if (key.startsWith('$deleteFromPrimitiveList/')) {
      const field = key.slice('$deleteFromPrimitiveList/'.length);
      const cur = out[field];
      if (Array.isArray(cur) && Array.isArray(value)) out[field] = cur.filter((v) => !value.includes(v));
      continue;
    }
    if (value === null) delete out[key];
    else out[key] = mergeValue(out[key], value, [...path, key], sem);
  }
  return out;
}

/** Applies a strategic merge patch to a copy of `target`, using `sem` for each list's merge key. */
export function applyStrategicMergePatch(target: unknown, patch: unknown, sem: ListSemanticsOf): unknown {
  return mergeValue(target, patch, [], sem);
}
