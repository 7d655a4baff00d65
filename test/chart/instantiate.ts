// What Helm renders from the chart generator's template trees (constructs/install/chart/) for a
// release, as Helm documents its template language: `if` by Go's truth (false, 0, "", an empty
// list or map and nil are false), `range` once per entry, `quote` and `printf "%v"` as text,
// `toYaml` as the value itself (a map) or its YAML (a block of text), and a map or list all of
// whose parts are left out as null, as YAML reads `key:` with nothing after it. It reads the
// trees, not Go-template text; chart.test.ts checks that the text holds the same tree.
import { stringify } from 'yaml';
import type { ChartTemplate, Guard, Source, TemplateNode } from '../../constructs/install/chart/tree.ts';
import type { KubeObject } from '../../constructs/objects.ts';

/** The values (merged as Helm merges them), the release namespace, and what the certificate preamble's variables hold. */
export interface Release {
  values: Record<string, unknown>;
  namespace: string;
  variables: Record<string, string>;
}

/** A template reads a value the release does not have (Helm would fail on nil, or print nothing). */
export class MissingValueError extends Error {
  override readonly name = 'MissingValueError';
}

interface Env {
  release: Release;
  items: unknown[];
}

const isMap = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function truthy(v: unknown): boolean {
  if (Array.isArray(v)) return v.length > 0;
  if (isMap(v)) return Object.keys(v).length > 0;
  return !(v === undefined || v === null || v === false || v === 0 || v === '');
}

function valueOf(source: Source, env: Env): unknown {
  switch (source.from) {
    case 'values':
      return source.path.reduce<unknown>((at, key) => {
        if (!isMap(at) || !(key in at)) throw new MissingValueError(`.Values.${source.path.join('.')}`);
        return at[key];
      }, env.release.values);
    case 'namespace':
      return env.release.namespace;
    case 'item':
      return env.items[env.items.length - 1];
    case 'variable': {
      const text = env.release.variables[source.name];
      if (text === undefined) throw new MissingValueError(`$${source.name}`);
      return source.base64 === true ? Buffer.from(text, 'utf8').toString('base64') : text;
    }
  }
}

// The environments a part is rendered in: none when an `if` is false, one per entry for a `range`.
function expand(guard: Guard, env: Env): Env[] {
  const value = valueOf({ from: 'values', path: guard.path }, env);
  if (guard.kind === 'if') return truthy(value) ? [env] : [];
  if (value == null) return [];
  if (!Array.isArray(value)) throw new TypeError(`range over .Values.${guard.path.join('.')}, which is not a list`);
  return value.map((item) => ({ ...env, items: [...env.items, item] }));
}

type Block<T> = { part: T } | { guard: Guard; blocks: Block<T>[] };
const sameGuard = (a: Guard, b: Guard | undefined) => a.kind === b?.kind && a.path.join('.') === b.path.join('.');

// Siblings nested as the template text nests them: consecutive parts sharing a guard share its block.
function nest<T>(siblings: { guards: Guard[]; part: T }[]): Block<T>[] {
  const top: Block<T>[] = [];
  const open: { guard: Guard; blocks: Block<T>[] }[] = [];
  for (const { guards, part } of siblings) {
    let keep = 0;
    while (keep < open.length && sameGuard((open[keep] as { guard: Guard }).guard, guards[keep])) keep++;
    open.length = keep;
    for (const guard of guards.slice(keep)) {
      const block = { guard, blocks: [] };
      (open[open.length - 1]?.blocks ?? top).push(block);
      open.push(block);
    }
    (open[open.length - 1]?.blocks ?? top).push({ part });
  }
  return top;
}

function run<T, R>(blocks: Block<T>[], env: Env, each: (part: T, env: Env) => R[]): R[] {
  return blocks.flatMap((b) => ('part' in b ? each(b.part, env) : expand(b.guard, env).flatMap((x) => run(b.blocks, x, each))));
}

function evaluate(node: TemplateNode, env: Env): unknown {
  switch (node.kind) {
    case 'literal':
      return node.value;
    case 'value': {
      const [only] = node.parts;
      if (node.parts.length === 1 && typeof only === 'object') {
        const value = valueOf(only, env);
        return node.type === 'number' ? value : String(value);
      }
      return node.parts.map((p) => (typeof p === 'string' ? p : String(valueOf(p, env)))).join('');
    }
    case 'yaml': {
      const value = valueOf(node.source, env);
      return node.as === 'map' ? structuredClone(value) : stringify(value);
    }
    case 'map': {
      for (const e of node.entries) if (e.guards.some((g) => g.kind === 'range')) throw new TypeError(`a range over map entries (${e.key}) would repeat a key`);
      const entries = run(nest(node.entries.map((e) => ({ guards: e.guards, part: e }))), env, (e, x) => [[e.key, evaluate(e.value, x)] as const]);
      return entries.length === 0 && node.entries.length > 0 ? null : Object.fromEntries(entries);
    }
    case 'list': {
      const items = run(nest(node.items.map((i) => ({ guards: i.guards, part: i.value }))), env, (value, x) => [evaluate(value, x)]);
      return items.length === 0 && node.items.length > 0 ? null : items;
    }
  }
}

/** Every object the chart's templates render for this release, in template order. */
export function instantiate(templates: ChartTemplate[], release: Release): KubeObject[] {
  const root: Env = { release, items: [] };
  return run(nest(templates.flatMap((t) => t.documents.map((d) => ({ guards: [...t.guards, ...d.guards], part: d.node })))), root, (node, env) => [evaluate(node, env) as KubeObject]);
}

/** One value node for a release: the text Helm writes for it (the certificate's DNS name, say). */
export function instantiateValue(node: TemplateNode, release: Release): unknown {
  return evaluate(node, { release, items: [] });
}
