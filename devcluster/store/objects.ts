// Small helpers over plain JSON objects: deep copy, reading and filling in nested objects, and
// generated names (deep equality is the runtime's jsonEqual).

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
