import { createHash } from 'node:crypto';
import type { KubernetesObject } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { renderEnclave, renderWorkspace } from '../../constructs/index.ts';
import { desiredHash } from '../../operator/runtime/apply.ts';
import { cardiacEnclave, jupyterWorkspace, uclhSite } from '../constructs/fixtures.ts';
import { RenderMemo, renderInputs } from '../../operator/render-memo.ts';
import { Store } from '../../operator/runtime/cache.ts';
import { Kinds } from '../../operator/runtime/resources.ts';
import { conditionOf, example, settled, startTestSite } from './harness.ts';

const role = (namespace: string, verbs: string[]): KubernetesObject => ({
  apiVersion: 'rbac.authorization.k8s.io/v1',
  kind: 'Role',
  metadata: { name: 'sde-researcher', namespace, labels: { 'app.kubernetes.io/managed-by': 'sde-operator' } },
  rules: [{ apiGroups: [''], resources: ['pods'], verbs }],
} as KubernetesObject);

function counting(memo: RenderMemo) {
  let renders = 0;
  return {
    render: (key: string, inputs: unknown, make: () => KubernetesObject[]) => memo.render(key, inputs, () => {
      renders += 1;
      return make();
    }),
    get renders() {
      return renders;
    },
  };
}

describe('the hash of a rendered object', () => {
  it('is what sorted copies and JSON.stringify make of it, for every object of an enclave and a workspace', () => {
    // The applied-hash annotation on running sites was computed that way; a change here would rewrite every child once.
    const sortedCopy = (value: unknown): unknown => {
      if (value === null || typeof value !== 'object') return value;
      if (Array.isArray(value)) return value.map(sortedCopy);
      return Object.fromEntries(Object.keys(value).sort().map((key) => [key, sortedCopy((value as Record<string, unknown>)[key])]));
    };
    const objects = [...renderEnclave(cardiacEnclave(), uclhSite(), { accessActive: true }), ...renderWorkspace(jupyterWorkspace(), cardiacEnclave(), uclhSite(), { accessActive: true })];
    expect(objects.length).toBeGreaterThan(20);
    for (const object of objects) expect(desiredHash(object), `${object.kind} ${object.metadata?.name}`).toBe(createHash('sha256').update(JSON.stringify(sortedCopy(object))).digest('hex').slice(0, 16));
  });
});

describe('RenderMemo', () => {
  it('renders again only when the inputs change, and hands out frozen objects', () => {
    const results: string[] = [];
    const memo = counting(new RenderMemo(10, (result) => results.push(result)));
    const first = memo.render('sde-a', ['a', { verbs: ['get'] }], () => [role('sde-a', ['get'])]);
    const again = memo.render('sde-a', ['a', { verbs: ['get'] }], () => [role('sde-a', ['get'])]);
    expect(memo.renders).toBe(1);
    expect(again[0]).toBe(first[0]);
    expect(Object.isFrozen(first[0])).toBe(true);
    expect(Object.isFrozen((first[0] as { rules: unknown[] }).rules[0])).toBe(true);
    const changed = memo.render('sde-a', ['a', { verbs: ['get', 'list'] }], () => [role('sde-a', ['get', 'list'])]);
    expect(memo.renders).toBe(2);
    expect((changed[0] as { rules: Array<{ verbs: string[] }> }).rules[0]?.verbs).toEqual(['get', 'list']);
    expect(results).toEqual(['rendered', 'reused', 'rendered']);
    // Each call gets its own array: a caller filtering or adding to it changes nothing kept.
    expect(again).not.toBe(first);
  });

  it('hands out the object kept before for each object a new render left unchanged', () => {
    const memo = new RenderMemo(10);
    const both = (verbs: string[]) => [role('sde-a', ['get']), role('sde-b', verbs)];
    const first = memo.render('sde-a', [['get']], () => both(['get']));
    const second = memo.render('sde-a', [['get', 'list']], () => both(['get', 'list']));
    expect(second[0]).toBe(first[0]);
    expect(second[1]).not.toBe(first[1]);
    expect((second[1] as { rules: Array<{ verbs: string[] }> }).rules[0]?.verbs).toEqual(['get', 'list']);
    // The same identity with a different value is never swapped for the old one.
    const third = memo.render('sde-a', [['watch']], () => [role('sde-a', ['watch'])]);
    expect(third[0]).not.toBe(first[0]);
    expect((third[0] as { rules: Array<{ verbs: string[] }> }).rules[0]?.verbs).toEqual(['watch']);
  });

  it('keeps one render per key, for the most recently used keys only', () => {
    const memo = counting(new RenderMemo(2));
    const render = (key: string) => memo.render(key, [key], () => [role(key, ['get'])]);
    render('a');
    render('b');
    render('a'); // reused; 'b' is now the least recently used
    render('c'); // evicts 'b'
    expect(memo.renders).toBe(3);
    render('a');
    expect(memo.renders).toBe(3);
    render('b');
    expect(memo.renders).toBe(4);
  });

  it('forgets a key it was told to', () => {
    const memo = new RenderMemo(10);
    const memoCount = counting(memo);
    memoCount.render('a', [1], () => [role('a', ['get'])]);
    memo.forget('a');
    memoCount.render('a', [1], () => [role('a', ['get'])]);
    expect(memoCount.renders).toBe(2);
  });

  it('shares the parts of a kept render that equal the cached objects', () => {
    const store = new Store(Kinds.Role);
    store.upsert(JSON.parse(JSON.stringify({ ...role('sde-b', ['get', 'watch']), metadata: { ...role('sde-b', ['get', 'watch']).metadata, uid: 'u1', resourceVersion: '7' } })));
    const [desired] = new RenderMemo(10).render('sde-b', [], () => [role('sde-b', ['get', 'watch'])]);
    const live = store.get('sde-researcher', 'sde-b') as { rules: unknown; metadata: { labels: unknown } };
    expect((desired as unknown as typeof live).rules).toBe(live.rules);
    expect((desired as unknown as typeof live).metadata.labels).toBe(live.metadata.labels);
  });

  it('takes what a render reads from a resource, not what changes with each status write', () => {
    const base = { kind: 'Workspace', metadata: { name: 'w', namespace: 'sde-a', uid: 'u', labels: { a: '1' }, resourceVersion: '1', generation: 1 }, spec: { tool: 'jupyterlab' } };
    const laterVersion = { ...base, metadata: { ...base.metadata, resourceVersion: '2' } };
    expect(JSON.stringify(renderInputs(laterVersion))).toBe(JSON.stringify(renderInputs(base)));
    expect(JSON.stringify(renderInputs({ ...base, spec: { tool: 'rstudio' } }))).not.toBe(JSON.stringify(renderInputs(base)));
    expect(JSON.stringify(renderInputs({ ...base, metadata: { ...base.metadata, uid: 'v' } }))).not.toBe(JSON.stringify(renderInputs(base)));
  });
});

describe('the controllers keep renders', () => {
  it('render an enclave and a workspace once while their inputs stand, and the enclave again after an edit, which is applied', async () => {
    const site = await startTestSite();
    try {
      const op = await site.startOperator();
      const renders = async (controller: string, result: string): Promise<number> =>
        (await op.metrics.renders.get()).values.find((v) => v.labels.controller === controller && v.labels.result === result)?.value ?? 0;
      const enclave = example('enclave-cardiac-mri.yaml')[0] as KubernetesObject & { spec: { resources: Record<string, unknown> } };
      await site.apply([enclave]);
      await site.waitFor('the enclave Ready', async () => conditionOf(await site.get('sde.london/v1alpha1', 'Enclave', 'cardiac-mri'), 'Ready')?.status === 'True');
      await site.apply(example('workspace-rstudio.yaml'));
      await site.waitFor('the workspace Ready', async () => conditionOf(await site.get('sde.london/v1alpha1', 'Workspace', 'patel-rstudio', 'sde-cardiac-mri'), 'Ready')?.status === 'True');
      await settled(op.client.requests);
      // Each reconciled more than once (their own writes, their children's events), rendered once.
      expect(await renders('enclave', 'rendered')).toBe(1);
      expect(await renders('enclave', 'reused')).toBeGreaterThan(0);
      expect(await renders('workspace', 'rendered')).toBe(1);
      expect(await renders('workspace', 'reused')).toBeGreaterThan(0);
      await site.apply([{ ...enclave, spec: { ...enclave.spec, resources: { ...enclave.spec.resources, cpu: '96' } } } as KubernetesObject]);
      await site.waitFor('the quota updated', async () => {
        const quota = (await site.client.objects.list('v1', 'ResourceQuota', 'sde-cardiac-mri')).items[0] as { spec?: { hard?: Record<string, string> } } | undefined;
        return quota?.spec?.hard?.['requests.cpu'] === '96';
      });
      expect(await renders('enclave', 'rendered')).toBe(2);
    } finally {
      await site.close();
    }
  });
});
