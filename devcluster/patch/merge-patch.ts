// JSON merge patch (RFC 7386): objects merge recursively, null deletes, everything else replaces.
import { clone, isPlainObject } from '../store/objects.ts';

/** Applies a merge patch to a copy of `target` and returns it. */
export function applyMergePatch(target: unknown, patch: unknown): unknown {
  if (!isPlainObject(patch)) return clone(patch);
  const out: Record<string, unknown> = isPlainObject(target) ? clone(target) : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete out[key];
    else out[key] = applyMergePatch(out[key], value);
  }
  return out;
}
