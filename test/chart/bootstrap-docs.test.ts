// docs/bootstrap.md shows commands a newcomer will paste: they must be the ones the tests run
// (the same values files, the same stacks) and must produce what the constructs expect.
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseInstallOptions } from '../../constructs/install/options.ts';
import { RESTRICTED_NAMESPACE_LABELS } from '../../constructs/install/operator.ts';

const ROOT = new URL('../../', import.meta.url);
const doc = readFileSync(new URL('docs/bootstrap.md', ROOT), 'utf8');
const commands = [...doc.matchAll(/```sh\n([\s\S]*?)```/g)].flatMap((m) => (m[1] ?? '').split('\n')).map((l) => l.replace(/\s+#.*$/, '').trim()).filter(Boolean);
// The values files and stacks test/chart and test/stacks exercise.
const TESTED_VALUES = ['charts/sde-operator/ci/uclh-values.yaml', 'charts/sde-operator/ci/gstt-values.yaml'];
const TESTED_STACKS = ['uclh', 'gstt'];

describe('docs/bootstrap.md', () => {
  it('labels the operator namespace exactly as the constructs do, and creates the default one', () => {
    const namespace = parseInstallOptions({}).namespace;
    expect(commands).toContain(`kubectl create namespace ${namespace}`);
    const label = commands.find((c) => c.startsWith(`kubectl label namespace ${namespace} `));
    const labels = Object.fromEntries((label ?? '').split(' ').slice(4).map((kv) => kv.split('=')));
    expect(labels).toEqual(RESTRICTED_NAMESPACE_LABELS);
  });

  it('installs and upgrades the chart only with values files the chart test renders', () => {
    const helm = commands.filter((c) => /^helm (install|upgrade)\b/.test(c));
    expect(helm.length).toBeGreaterThanOrEqual(2);
    for (const c of helm) {
      expect(c).toContain(' charts/sde-operator ');
      const file = /-f (\S+)/.exec(c)?.[1];
      expect(TESTED_VALUES).toContain(file);
    }
  });

  it('runs pulumi only for stacks the stack tests declare', () => {
    const ups = commands.filter((c) => /^pulumi (up|preview|stack init)\b/.test(c));
    expect(ups.length).toBeGreaterThanOrEqual(3);
    for (const c of ups) {
      const stack = /(?:-s|init) (\S+)/.exec(c)?.[1] ?? '';
      expect(TESTED_STACKS).toContain(stack);
      expect(existsSync(new URL(`stacks/site/Pulumi.${stack}.yaml`, ROOT))).toBe(true);
    }
  });
});
