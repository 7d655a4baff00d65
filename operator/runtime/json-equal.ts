// Deep equality of JSON values: the one comparison the runtime uses to decide "changed?".

/**
 * True when `a` and `b` are equal JSON values: the same primitives, arrays of equal items in the
 * same order, objects with equal values under the same keys in any order (a key holding
 * `undefined` counts as absent). Identical objects are equal at once, so values that share
 * subtrees (cached objects do, see `shareObject`) compare in little more than their differences.
 */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((item, index) => jsonEqual(item, b[index]));
  }
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return false;
  const left = a as Record<string, unknown>;
  const right = b as Record<string, unknown>;
  const keys = new Set([...Object.keys(left), ...Object.keys(right)]);
  return [...keys].every((key) => jsonEqual(left[key], right[key]));
}
