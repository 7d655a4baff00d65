// Bad input for the API: documents derived from the examples with one mutation each — a field
// replaced by junk (wrong types, huge strings, unicode, negative and enormous quantities, deep
// nesting), a field removed, or junk added under an object — and the path that was mutated.
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { parse } from 'yaml';

/** A document and the dotted path (`spec.members[0].role`) its one mutation touched. */
export interface Mutant {
  doc: Record<string, unknown>;
  path: string;
  mutation: 'replace' | 'remove' | 'add';
}

type Segment = string | number;

/** An example manifest as plain JSON. */
export function exampleDoc(file: string): Record<string, unknown> {
  return parse(readFileSync(new URL(`../../examples/${file}`, import.meta.url), 'utf8')) as Record<string, unknown>;
}

/** Every path under `spec` of a document, objects and arrays included. */
export function specPaths(value: unknown, prefix: Segment[] = ['spec']): Segment[][] {
  const out: Segment[][] = [prefix];
  if (Array.isArray(value)) value.forEach((v, i) => out.push(...specPaths(v, [...prefix, i])));
  else if (value !== null && typeof value === 'object') for (const [k, v] of Object.entries(value)) out.push(...specPaths(v, [...prefix, k]));
  return out;
}

/** `spec.members[0].role` for ['spec', 'members', 0, 'role']. */
export function dotted(path: readonly Segment[]): string {
  return path.map((s, i) => (typeof s === 'number' ? `[${s}]` : i === 0 ? s : `.${s}`)).join('');
}

function deepNest(depth: number, leaf: unknown): unknown {
  let v = leaf;
  for (let i = 0; i < depth; i++) v = i % 2 === 0 ? { junk: v } : [v];
  return v;
}

/** Junk of every shape the API could be sent. */
export const junkArb: fc.Arbitrary<unknown> = fc.oneof(
  fc.string(),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constantFrom('x'.repeat(70_000), '💥'.repeat(5_000), '\u0000', '\u202e', ' ', '', '../../etc/passwd', 'null', '${jndi:ldap://x}'),
  fc.integer(),
  fc.constantFrom(-1, -0.5, 0, 1e308, -1e308, Number.MAX_SAFE_INTEGER, 2 ** 64),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.constantFrom('-1', '-4Ti', '1e999', '99999999999999999999Ti', '0.0000001m', '1.5.5', 'Infinity', '8 GPUs', '1Zi'),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.oneof(fc.string(), fc.integer()), { maxLength: 5 }),
  fc.dictionary(fc.string({ maxLength: 8 }), fc.oneof(fc.string(), fc.integer()), { maxKeys: 4 }),
  fc.integer({ min: 5, max: 120 }).map((d) => deepNest(d, 'deep')),
);

function setAt(doc: unknown, path: readonly Segment[], value: unknown, remove: boolean): void {
  let node = doc as Record<string | number, unknown>;
  for (const s of path.slice(0, -1)) node = node[s] as Record<string | number, unknown>;
  const last = path[path.length - 1]!;
  if (!remove) node[last] = value;
  else if (Array.isArray(node)) node.splice(last as number, 1);
  else delete node[last];
}

/** Documents derived from `base` with one mutation of its spec each. */
export function mutantArb(base: Record<string, unknown>): fc.Arbitrary<Mutant> {
  const paths = specPaths(base.spec);
  const objectPaths = paths.filter((p) => {
    let v: unknown = base;
    for (const s of p) v = (v as Record<string | number, unknown>)[s];
    return v !== null && typeof v === 'object' && !Array.isArray(v);
  });
  return fc.oneof(
    { weight: 6, arbitrary: fc.record({ path: fc.constantFrom(...paths), junk: junkArb }).map(({ path, junk }) => ({ path, junk, mutation: 'replace' as const })) },
    { weight: 2, arbitrary: fc.constantFrom(...paths.slice(1)).map((path) => ({ path, junk: undefined, mutation: 'remove' as const })) },
    { weight: 2, arbitrary: fc.record({ at: fc.constantFrom(...objectPaths), key: fc.string({ minLength: 1, maxLength: 12 }), junk: junkArb }).map(({ at, key, junk }) => ({ path: [...at, key], junk, mutation: 'add' as const })) },
  ).map(({ path, junk, mutation }) => {
    const doc = structuredClone(base);
    setAt(doc, path, junk, mutation === 'remove');
    return { doc, path: dotted(path), mutation };
  });
}

/** True when one dotted path lies on the other's branch (equal, ancestor or descendant). */
export function related(a: string, b: string): boolean {
  const norm = (p: string): string => p.replace(/\[(\d+)\]/g, '.$1');
  const [x, y] = [norm(a), norm(b)];
  return x === y || x.startsWith(`${y}.`) || y.startsWith(`${x}.`);
}
