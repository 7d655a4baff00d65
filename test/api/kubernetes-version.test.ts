// Which CRD fields each Kubernetes release is given, and how versions are read.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { allCustomResourceDefinitions } from '../../api/crd.ts';
import { parseKubernetesVersion } from '../../api/kubernetes-version.ts';

const root = new URL('../../', import.meta.url).pathname;
const SHARED_CRDS_FOR_1_23 = new URL('../../../shared/kubernetes/crds-for-1.23', import.meta.url).pathname;

function rulesOf(node: unknown, found: Record<string, unknown>[] = []): Record<string, unknown>[] {
  if (Array.isArray(node)) for (const item of node) rulesOf(item, found);
  else if (node !== null && typeof node === 'object') {
    for (const [key, value] of Object.entries(node)) {
      if (key === 'x-kubernetes-validations') found.push(...(value as Record<string, unknown>[]));
      else rulesOf(value, found);
    }
  }
  return found;
}

describe('Kubernetes versions', () => {
  it.each([
    ['1.23', { major: 1, minor: 23 }],
    ['v1.23.0', { major: 1, minor: 23 }],
    ['1.27+', { major: 1, minor: 27 }],
    ['v1.30.2-eks-1234', { major: 1, minor: 30 }],
  ])('reads %s', (text, expected) => {
    expect(parseKubernetesVersion(text)).toEqual(expected);
  });

  it('reads the /version answer, whose minor carries a "+" on managed clusters', () => {
    expect(parseKubernetesVersion({ major: '1', minor: '29+' })).toEqual({ major: 1, minor: 29 });
  });

  it('names what it could not read', () => {
    expect(() => parseKubernetesVersion('latest')).toThrow('expected a Kubernetes version like 1.23 or v1.23.0, but found "latest"');
  });
});

describe('CRDs for a release', () => {
  const full = rulesOf(allCustomResourceDefinitions().map((c) => c.crd));

  it('carries CEL rules with fieldPath for 1.28 and later (what crds/ holds)', () => {
    expect(full.length).toBeGreaterThan(0);
    expect(full.some((rule) => 'fieldPath' in rule)).toBe(true);
    expect(rulesOf(allCustomResourceDefinitions({ kubernetesVersion: { major: 1, minor: 28 } }).map((c) => c.crd))).toEqual(full);
  });

  it('keeps every rule but drops fieldPath for 1.25 to 1.27', () => {
    const rules = rulesOf(allCustomResourceDefinitions({ kubernetesVersion: { major: 1, minor: 27 } }).map((c) => c.crd));
    expect(rules).toHaveLength(full.length);
    expect(rules.every((rule) => !('fieldPath' in rule) && typeof rule.rule === 'string')).toBe(true);
  });

  it('drops the rules before 1.25, where CEL is alpha and off; the rest of the schema stays', () => {
    const old = allCustomResourceDefinitions({ kubernetesVersion: { major: 1, minor: 23 } });
    expect(rulesOf(old.map((c) => c.crd))).toEqual([]);
    const strip = (value: unknown): unknown => JSON.parse(JSON.stringify(value, (key, v: unknown) => (key === 'x-kubernetes-validations' ? undefined : v)));
    expect(old.map((c) => c.crd)).toEqual(strip(allCustomResourceDefinitions().map((c) => c.crd)));
  });

  it('`sde-operator crds --kubernetes-version 1.23` prints them', () => {
    const run = spawnSync(process.execPath, ['cli/main.ts', 'crds', '--kubernetes-version', '1.23'], { cwd: root, encoding: 'utf8' });
    expect(run.status).toBe(0);
    const printed = parseAllDocuments(run.stdout).map((d) => d.toJS());
    expect(printed).toEqual(allCustomResourceDefinitions({ kubernetesVersion: { major: 1, minor: 23 } }).map((c) => c.crd));
  });

  it.skipIf(!existsSync(SHARED_CRDS_FOR_1_23))('match what ../shared/kubernetes/crds-for-1.23 --no-cel makes of crds/', () => {
    const run = spawnSync(SHARED_CRDS_FOR_1_23, ['--no-cel', 'crds/'], { cwd: root, encoding: 'utf8' });
    expect(run.status).toBe(0);
    // It reads crds/ in file-name order.
    const theirs = parseAllDocuments(run.stdout).map((d) => d.toJS());
    const ours = allCustomResourceDefinitions({ kubernetesVersion: { major: 1, minor: 23 } }).sort((a, b) => a.file.localeCompare(b.file));
    expect(theirs).toEqual(ours.map((c) => c.crd));
  });
});
