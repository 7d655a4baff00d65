import { afterEach, describe, expect, it, vi } from 'vitest';
import { BUILTINS } from '../../devcluster/store/builtins.ts';
import { ApiError } from '../../devcluster/store/errors.ts';
import { ClusterStore } from '../../devcluster/store/cluster-store.ts';
import { byController, Informer } from '../../devcluster/sim/informer.ts';
import { indexRanges } from '../../devcluster/sim/job.ts';
import { canonicalJson, generatedName, templateHash, withCondition } from '../../devcluster/sim/ownership.ts';
import { SyncQueue } from '../../devcluster/sim/sync-queue.ts';

describe('sync queue', () => {
  let queue: SyncQueue | undefined;
  afterEach(() => queue?.stop());

  it('syncs a key added many times in one burst once', async () => {
    const seen: string[] = [];
    queue = new SyncQueue('test', (key) => seen.push(key), () => undefined);
    for (let i = 0; i < 100; i += 1) queue.add(i % 2 === 0 ? 'a' : 'b');
    await vi.waitFor(() => expect(seen).toEqual(['a', 'b']));
  });

  it('retries a failing key with backoff, reporting failures that are not races', async () => {
    const reported: unknown[] = [];
    let calls = 0;
    queue = new SyncQueue('test', () => {
      calls += 1;
      if (calls === 1) throw new ApiError(409, 'Conflict', 'stale');
      if (calls === 2) throw new Error('boom');
    }, (_name, _key, error) => reported.push(error));
    queue.add('k');
    await vi.waitFor(() => expect(calls).toBe(3));
    expect(reported.map((e) => (e as Error).message)).toEqual(['boom']);
  });

  it('pause holds keys until resume, and stop drops pending timers', async () => {
    const seen: string[] = [];
    queue = new SyncQueue('test', (key) => seen.push(key), () => undefined);
    queue.pause();
    queue.add('held');
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(seen).toEqual([]);
    queue.resume();
    await vi.waitFor(() => expect(seen).toEqual(['held']));
    queue.addAfter('later', 20);
    queue.stop();
    await new Promise((resolve) => setTimeout(resolve, 40));
    expect(seen).toEqual(['held']);
  });
});

describe('informer', () => {
  it('follows the store and indexes objects by their controlling owner', () => {
    const store = new ClusterStore();
    const cache = new Informer(store, BUILTINS.configmaps);
    cache.addIndex('owner', byController);
    const changes: string[] = [];
    cache.onChange((type, object) => changes.push(`${type} ${object.metadata.name}`));
    const owned = (name: string, uid: string) => ({
      apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'default', ownerReferences: [{ apiVersion: 'v1', kind: 'X', name: 'x', uid, controller: true }] },
    });
    store.create(BUILTINS.configmaps, owned('before-start', 'u1'));
    cache.start();
    store.create(BUILTINS.configmaps, owned('after-start', 'u1'));
    store.create(BUILTINS.configmaps, owned('other', 'u2'));
    expect(cache.indexed('owner', 'u1').map((o) => o.metadata.name).sort()).toEqual(['after-start', 'before-start']);
    store.delete(BUILTINS.configmaps, 'default', 'before-start');
    expect(cache.indexed('owner', 'u1').map((o) => o.metadata.name)).toEqual(['after-start']);
    expect(changes).toEqual(['ADDED before-start', 'ADDED after-start', 'ADDED other', 'DELETED before-start']);
    cache.stop();
    store.create(BUILTINS.configmaps, owned('unseen', 'u1'));
    expect(cache.get('default/unseen')).toBeUndefined();
  });
});

describe('ownership helpers', () => {
  it('a template hash ignores key order, changes with content and uses the vowel-free alphabet', () => {
    const a = templateHash({ metadata: { labels: { app: 'x' } }, spec: { containers: [{ name: 'c', image: 'i:1' }] } });
    const b = templateHash({ spec: { containers: [{ image: 'i:1', name: 'c' }] }, metadata: { labels: { app: 'x' } } });
    const c = templateHash({ metadata: { labels: { app: 'x' } }, spec: { containers: [{ name: 'c', image: 'i:2' }] } });
    expect(a).toBe(b);
    expect(a).not.toBe(c);
    expect(a).toMatch(/^[bcdfghjklmnpqrstvwxz2456789]{1,10}$/);
    const undone = templateHash({ metadata: { labels: { app: 'x' }, creationTimestamp: null }, spec: { containers: [{ name: 'c', image: 'i:1', resources: {} }] } });
    expect(undone).toBe(a);
    expect(canonicalJson({ b: 1, a: [undefined, { d: 2, c: 3 }] })).toBe('{"a":[null,{"c":3,"d":2}],"b":1}');
  });

  it('generated names keep a 58-character prefix and add five characters', () => {
    const name = generatedName(`${'w'.repeat(70)}-`);
    expect(name).toHaveLength(63);
    expect(name.startsWith('w'.repeat(58))).toBe(true);
  });

  it('a condition keeps its transition time while its status holds', () => {
    const first = withCondition(undefined, { type: 'Ready', status: 'True', reason: 'A' });
    const same = withCondition([{ ...first[0]!, lastTransitionTime: '2020-01-01T00:00:00Z' }], { type: 'Ready', status: 'True', reason: 'B' });
    expect(same[0]).toMatchObject({ reason: 'B', lastTransitionTime: '2020-01-01T00:00:00Z' });
    const flipped = withCondition(same, { type: 'Ready', status: 'False' });
    expect(flipped[0]?.lastTransitionTime).not.toBe('2020-01-01T00:00:00Z');
  });

  it.each([
    [[], ''], [[0], '0'], [[0, 1, 2], '0-2'], [[4, 0, 2, 1], '0-2,4'], [[1, 3, 5, 6], '1,3,5-6'],
  ])('completed indexes %j read %j', (indexes, text) => {
    expect(indexRanges(indexes)).toBe(text);
  });
});
