// Deep equality of JSON values: the one comparison the runtime uses to decide "changed?".

/**
 * True when `a` and `b` are equal JSON values: the same primitives, arrays of equal items in the
 * same order, objects with equal values under the same keys in any order (a key holding
 * `undefined` counts as absent). Identical objects are equal at once, so values that share
 * subtrees (cached objects do, see `shareObject`) compare in little more than their differences.
 */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== typeof b || a === null || b === null || typeof a !== 'object') return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const other = b as unknown[];
    return a.length === other.length && a.every((item, index) => jsonEqual(item, other[index]));
  }
  // Keys are counted rather than gathered into a set: this runs on every write the devcluster takes.
  const left = a as Record<string, unknown>;
  const right = b as Record<string, unknown>;
  const keys = Object.keys(left).filter((key) => left[key] !== undefined);
  const others = Object.keys(right).filter((key) => right[key] !== undefined);
  return keys.length === others.length && keys.every((key) => Object.hasOwn(right, key) && jsonEqual(left[key], right[key]));
}
