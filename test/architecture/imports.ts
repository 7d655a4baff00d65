// The project's import graph, read from the sources as text: which file imports which, and the
// layer each file belongs to, so a test can hold the layers to pointing down only.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

/** The layers, bottom first; a file may import its own layer and the ones it lists. */
export const LAYERS = {
  api: [],
  constructs: ['api'],
  policy: ['api'],
  isolation: ['api', 'constructs'],
  runtime: [],
  operator: ['api', 'constructs', 'policy', 'isolation', 'runtime'],
  cli: ['api', 'constructs', 'policy', 'isolation', 'runtime', 'operator'],
  devcluster: ['api', 'runtime'],
  devtools: ['api', 'constructs', 'policy', 'isolation', 'runtime', 'operator', 'cli', 'devcluster'],
  stacks: ['api', 'constructs'],
  scripts: ['api', 'constructs', 'policy', 'isolation', 'runtime', 'operator', 'cli', 'devcluster'],
  bench: ['api', 'constructs', 'policy', 'isolation', 'runtime', 'operator', 'cli', 'devcluster', 'devtools', 'scripts'],
  test: ['api', 'constructs', 'policy', 'isolation', 'runtime', 'operator', 'cli', 'devcluster', 'devtools', 'stacks', 'scripts', 'bench'],
} as const satisfies Record<string, readonly string[]>;

export type Layer = keyof typeof LAYERS;

/**
 * What may be loaded only when asked for (a dynamic `import()`), from these layers: the
 * development tools (the local Kubernetes and the demo), from the command line's root.
 */
export const LAZY: Partial<Record<Layer, readonly Layer[]>> = { cli: ['devcluster', 'devtools'] };

/**
 * Files of a lower layer a layer may import although it may not import the rest of that layer:
 * the operator runtime knows nothing of the SDE, but label selectors are generic Kubernetes.
 */
const ALSO: Partial<Record<Layer, readonly string[]>> = { runtime: ['api/selectors.ts'] };

/** The command-line files that are development tools themselves: loaded lazily, never in the product. */
const DEVTOOLS = new Set(['cli/demo.ts']);

/** The layer of a file (a path relative to the repository root), or undefined for files outside them (config at the root). */
export function layerOf(file: string): Layer | undefined {
  if (DEVTOOLS.has(file)) return 'devtools';
  if (file.startsWith('operator/runtime/')) return 'runtime';
  if (file.startsWith('cli/')) return 'cli';
  const top = file.split('/')[0] as string;
  return top in LAYERS ? (top as Layer) : undefined;
}

/** One import: from a file to a file of the repository, static or dynamic. */
export interface Edge {
  from: string;
  to: string;
  dynamic: boolean;
}

const SOURCE_DIRS = Object.keys(LAYERS).filter((l) => l !== 'runtime' && l !== 'cli' && l !== 'devtools');

function sources(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      if (name === 'node_modules' || name.startsWith('.')) continue;
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (name.endsWith('.ts') && !name.endsWith('.d.ts')) out.push(relative(root, path));
    }
  };
  for (const dir of [...SOURCE_DIRS, 'cli']) {
    try {
      walk(join(root, dir));
    } catch {
      // A layer without a folder yet.
    }
  }
  return out.sort();
}

const STATIC = /^\s*(?:import|export)\s[^;]*?from\s+'(\.{1,2}\/[^']+)'/gm;
const BARE = /^\s*import\s+'(\.{1,2}\/[^']+)'/gm;
const DYNAMIC = /import\(\s*'(\.{1,2}\/[^']+)'\s*\)/g;

/** Every relative import of every source file under `root`, resolved to repository paths. */
export function importGraph(root: string): { files: string[]; edges: Edge[] } {
  const files = sources(root);
  const edges: Edge[] = [];
  for (const file of files) {
    const text = readFileSync(join(root, file), 'utf8');
    const add = (specifier: string, dynamic: boolean): void => {
      const target = relative(root, resolve(root, dirname(file), specifier));
      if (!target.endsWith('.ts')) return;
      edges.push({ from: file, to: target, dynamic });
    };
    for (const match of text.matchAll(STATIC)) add(match[1] as string, false);
    for (const match of text.matchAll(BARE)) add(match[1] as string, false);
    for (const match of text.matchAll(DYNAMIC)) add(match[1] as string, true);
  }
  return { files, edges };
}

/** The imports that point up or sideways: to a layer the importing file's layer does not list. */
export function upwardImports(edges: readonly Edge[]): Edge[] {
  return edges.filter((edge) => {
    const from = layerOf(edge.from);
    const to = layerOf(edge.to);
    if (from === undefined || to === undefined || from === to) return false;
    if ((LAYERS[from] as readonly string[]).includes(to) || (ALSO[from] ?? []).includes(edge.to)) return false;
    return !(edge.dynamic && (LAZY[from] ?? []).includes(to));
  });
}

/** The import cycles among files: each strongly connected group of two or more files (Tarjan), as sorted paths. */
export function importCycles(files: readonly string[], edges: readonly Edge[]): string[][] {
  const next = new Map<string, string[]>();
  for (const edge of edges) if (!edge.dynamic) next.set(edge.from, [...(next.get(edge.from) ?? []), edge.to]);
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const groups: string[][] = [];
  let counter = 0;
  const visit = (file: string): void => {
    index.set(file, counter);
    low.set(file, counter);
    counter += 1;
    stack.push(file);
    onStack.add(file);
    for (const to of next.get(file) ?? []) {
      if (!index.has(to)) {
        visit(to);
        low.set(file, Math.min(low.get(file) as number, low.get(to) as number));
      } else if (onStack.has(to)) low.set(file, Math.min(low.get(file) as number, index.get(to) as number));
    }
    if (low.get(file) === index.get(file)) {
      const group: string[] = [];
      let member: string;
      do {
        member = stack.pop() as string;
        onStack.delete(member);
        group.push(member);
      } while (member !== file);
      if (group.length > 1) groups.push(group.sort());
    }
  };
  for (const file of files) if (!index.has(file)) visit(file);
  return groups;
}
