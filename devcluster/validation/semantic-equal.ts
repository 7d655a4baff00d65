// apimachinery's equality.Semantic, which every ValidateImmutableField and "spec is immutable"
// check compares with: an empty list or map equals an absent one, and resource quantities compare
// by amount ("1Gi" equals "1024Mi"), not by how they are written.
import { isPlainObject } from '../store/objects.ts';
import { compareQuantities } from '../resources/quantity.ts';

// The maps whose values are resource.Quantity in the kinds validated here.
const QUANTITY_MAPS = new Set(['requests', 'limits', 'capacity', 'hard']);

function isEmpty(value: unknown): boolean {
  return value === undefined || value === null || (Array.isArray(value) && value.length === 0) || (isPlainObject(value) && Object.keys(value).length === 0);
}

function sameQuantity(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if ((typeof a !== 'string' && typeof a !== 'number') || (typeof b !== 'string' && typeof b !== 'number')) return false;
  try {
    return compareQuantities(a, b) === 0;
  } catch {
    return false;
  }
}

function sameQuantityMap(a: unknown, b: unknown): boolean {
  if (!isPlainObject(a) || !isPlainObject(b)) return semanticEqual(a, b);
  const names = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...names].every((name) => sameQuantity(a[name], b[name]));
}

/** Whether a and b are equal as the real server's semantic equality decides. */
export function semanticEqual(a: unknown, b: unknown): boolean {
  if (isEmpty(a) && isEmpty(b)) return true;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((v, i) => semanticEqual(v, b[i]));
  if (isPlainObject(a) && isPlainObject(b)) {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    return [...keys].every((k) => (QUANTITY_MAPS.has(k) ? sameQuantityMap(a[k], b[k]) : semanticEqual(a[k], b[k])));
  }
  return a === b;
}
