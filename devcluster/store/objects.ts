// Small helpers over plain JSON objects: deep equality, deep copy, reading and filling in nested
// objects, and generated names.

/** Deep structural equality of JSON values (key order does not matter). */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== typeof b || a === null || b === null || typeof a !== 'object') return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    return a.length === bb.length && a.every((v, i) => deepEqual(v, bb[i]));
  }
  const ao = a as Record<string, unknown>;
  const bo = b as Record<string, unknown>;
  const ak = Object.keys(ao).filter((k) => ao[k] !== undefined);
  const bk = Object.keys(bo).filter((k) => bo[k] !== undefined);
  return ak.length === bk.length && ak.every((k) => Object.hasOwn(bo, k) && deepEqual(ao[k], bo[k]));
}

/** A deep copy of a JSON value (undefined members dropped); much faster than structuredClone for small objects. */
export function clone<T>(v: T): T {
  if (v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) return v.map((x: unknown) => clone(x)) as T;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) if (x !== undefined) out[k] = clone(x);
  return out as T;
}

/** True for a plain (non-array, non-null) object. */
export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** `v` when it is a plain object, else an empty one: for reading fields of a value that may be absent or malformed. */
export function asObject(v: unknown): Record<string, unknown> {
  return isPlainObject(v) ? v : {};
}

/** The plain objects of a list (none when `v` is not a list). */
export function objectsIn(v: unknown): Record<string, unknown>[] {
  return Array.isArray(v) ? v.filter(isPlainObject) : [];
}

/** The plain object at `parent[key]`, put there empty first when absent or not an object: for filling in defaults. */
export function ensureObject(parent: Record<string, unknown>, key: string): Record<string, unknown> {
  const current = parent[key];
  if (isPlainObject(current)) return current;
  const fresh: Record<string, unknown> = {};
  parent[key] = fresh;
  return fresh;
}

const NAME_CHARS = 'bcdfghjklmnpqrstvwxz2456789';

/** Five random characters from the alphabet the API server uses for generateName. */
export function randomSuffix(): string {
  let s = '';
  for (let i = 0; i < 5; i += 1) s += NAME_CHARS[Math.floor(Math.random() * NAME_CHARS.length)];
  return s;
}
