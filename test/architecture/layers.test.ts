// The layers point down, as a newcomer reads them: api/ (the domain's pure rules and schemas),
// constructs/ and policy/, isolation/, the operator runtime (which knows nothing of the SDE
// domain), the operator's reconcilers, and one composition root, cli/, which loads the
// development tools (the local Kubernetes, the demo) only when asked for. Nothing of the product
// imports devcluster/, and no file imports a layer above its own, nor is part of a cycle.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { importCycles, importGraph, layerOf, upwardImports } from './imports.ts';

const root = new URL('../../', import.meta.url).pathname;
const { files, edges } = importGraph(root);
const PRODUCT = new Set(['api', 'constructs', 'policy', 'isolation', 'runtime', 'operator', 'cli']);

describe('the import graph', () => {
  it('is read: every layer has files and imports', () => {
    const layers = new Set(files.map(layerOf));
    for (const layer of [...PRODUCT, 'devcluster', 'devtools', 'stacks', 'bench', 'scripts', 'test']) expect(layers.has(layer as never), layer).toBe(true);
    expect(edges.length).toBeGreaterThan(500);
  });

  it('has no import that points up or sideways', () => {
    expect(upwardImports(edges).map((e) => `${e.from} -> ${e.to}${e.dynamic ? ' (dynamic)' : ''}`)).toEqual([]);
  });

  it('has no cycle', () => {
    expect(importCycles(files, edges)).toEqual([]);
  });

  it('keeps the development tools out of the product: only the command line\'s root loads them, lazily', () => {
    const intoDevTools = edges.filter((e) => PRODUCT.has(layerOf(e.from) ?? '') && ['devcluster', 'devtools'].includes(layerOf(e.to) ?? ''));
    expect(intoDevTools.filter((e) => !(e.from === 'cli/main.ts' && e.dynamic)).map((e) => `${e.from} -> ${e.to}`)).toEqual([]);
  });

  it('keeps api/ free of input and output: no file, network or process modules', () => {
    const io = files.filter((f) => layerOf(f) === 'api' && /from 'node:(fs|http|https|net|child_process|worker_threads)'/.test(readFileSync(`${root}${f}`, 'utf8')));
    expect(io).toEqual([]);
  });

  it('would see an import that points up (the check can fail)', () => {
    expect(upwardImports([{ from: 'api/enclave.ts', to: 'operator/operator.ts', dynamic: false }])).toHaveLength(1);
    expect(upwardImports([{ from: 'operator/operator.ts', to: 'devcluster/index.ts', dynamic: false }])).toHaveLength(1);
    expect(importCycles(['a.ts', 'b.ts'], [{ from: 'a.ts', to: 'b.ts', dynamic: false }, { from: 'b.ts', to: 'a.ts', dynamic: false }])).toEqual([['a.ts', 'b.ts']]);
  });
});
