import type { KubernetesObject } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { CacheView, Store, compareResourceVersions, type CacheEvent } from '../../../operator/runtime/cache.ts';
import { parseSelectorString, selectorString } from '../../../api/selectors.ts';
import { Kinds, watchedTypeId, type WatchedType } from '../../../operator/runtime/resources.ts';

const pvc = (name: string, resourceVersion: string, labels: Record<string, string> = {}, owner?: string): KubernetesObject => ({
  apiVersion: 'v1',
  kind: 'PersistentVolumeClaim',
  metadata: { name, namespace: 'sandpit-a', resourceVersion, labels, ...(owner ? { ownerReferences: [{ apiVersion: 'sde.london/v1alpha1', kind: 'Workspace', name: 'w', uid: owner, controller: true }] } : {}) },
});

describe('Store (the cache behind a reflector)', () => {
  it('hands out frozen objects', () => {
    const store = new Store(Kinds.PersistentVolumeClaim);
    store.upsert(pvc('home-alice', '1'));
    const cached = store.get('home-alice', 'sandpit-a') as { metadata: { labels: Record<string, string> } };
    expect(Object.isFrozen(cached)).toBe(true);
    expect(() => {
      cached.metadata.labels.extra = 'x';
    }).toThrow(TypeError);
  });

  it('drops managedFields, which nothing reads and which cost memory', () => {
    const store = new Store(Kinds.PersistentVolumeClaim);
    const object = pvc('home-alice', '1');
    object.metadata = { ...object.metadata, managedFields: [{ manager: 'sde-operator', operation: 'Apply' }] };
    store.upsert(object);
    expect(store.get('home-alice', 'sandpit-a')?.metadata?.managedFields).toBeUndefined();
    expect(store.get('home-alice', 'sandpit-a')?.metadata?.resourceVersion).toBe('1');
  });

  it('lists by namespace and labels, in step with changes', () => {
    const store = new Store(Kinds.PersistentVolumeClaim);
    store.upsert(pvc('home-alice', '1', { 'sde.london/enclave': 'a' }, 'uid-w'));
    store.upsert(pvc('home-bob', '2', { 'sde.london/enclave': 'a' }));
    store.upsert({ ...pvc('home-carol', '3', { 'sde.london/enclave': 'a' }), metadata: { name: 'home-carol', namespace: 'sandpit-b', resourceVersion: '3', labels: { 'sde.london/enclave': 'a' } } });
    expect(store.list({ labels: { 'sde.london/enclave': 'a' } })).toHaveLength(3);
    expect(store.list({ namespace: 'sandpit-a', labels: { 'sde.london/enclave': 'a' } })).toHaveLength(2);
    expect(store.get('home-carol', 'sandpit-a')).toBeUndefined();
    expect(store.get('home-carol', 'sandpit-b')?.metadata?.name).toBe('home-carol');
    store.upsert(pvc('home-alice', '4', { 'sde.london/enclave': 'b' }));
    expect(store.list({ namespace: 'sandpit-a', labels: { 'sde.london/enclave': 'a' } }).map((object) => object.metadata?.name)).toEqual(['home-bob']);
    expect(store.countLabelled('sde.london/enclave', 'b')).toBe(1);
    expect(store.size).toBe(3);
    store.remove(pvc('home-bob', '5'));
    expect(store.list({ namespace: 'sandpit-a' }).map((object) => object.metadata?.name)).toEqual(['home-alice']);
    expect(store.size).toBe(2);
    store.remove(pvc('home-bob', '6'));
    expect(store.size).toBe(2);
  });

  it('keeps cluster-scoped objects by name alone', () => {
    const store = new Store(Kinds.Namespace);
    store.upsert({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'sde-a', resourceVersion: '1' } });
    expect(store.get('sde-a')?.metadata?.name).toBe('sde-a');
    expect(store.get('sde-a', 'ignored')?.metadata?.name).toBe('sde-a');
    expect(store.list({ namespace: '' })).toHaveLength(1);
  });

  it('stores what the type\'s transform leaves of each object, values intact', () => {
    const store = new Store({ ...Kinds.PersistentVolumeClaim, transform: (object) => ({ ...object, spec: { kept: true } }) });
    store.upsert({ ...JSON.parse(JSON.stringify(pvc('a', '1', { team: 'cardiology-imaging' }))), spec: { dropped: true } });
    store.upsert(JSON.parse(JSON.stringify(pvc('b', '2', { team: 'cardiology-imaging' }))));
    const [a, b] = [store.get('a', 'sandpit-a'), store.get('b', 'sandpit-a')] as Array<KubernetesObject & { spec?: unknown }>;
    expect(a?.metadata?.labels?.team).toBe('cardiology-imaging');
    expect(a?.spec).toEqual({ kept: true });
    expect(b?.spec).toEqual({ kept: true });
  });

  it('shares equal values and subtrees between objects, and keeps each object\'s own root, metadata and values', () => {
    const store = new Store(Kinds.PersistentVolumeClaim);
    const claim = (name: string, namespace: string, storage: string, owner: string): KubernetesObject & { spec?: unknown } => JSON.parse(JSON.stringify({
      ...pvc(name, `${name}-rv`, { 'sde.london/enclave': 'a', team: 'cardiology' }, owner),
      metadata: { ...pvc(name, '', { 'sde.london/enclave': 'a', team: 'cardiology' }, owner).metadata, namespace, resourceVersion: `${namespace}-${name}` },
      spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage } }, storageClassName: 'home' },
    }));
    const inputs = [claim('home-alice', 'sde-a', '10Gi', 'uid-w1'), claim('home-bob', 'sde-b', '10Gi', 'uid-w1'), claim('home-carol', 'sde-a', '20Gi', 'uid-w2')];
    const expected = structuredClone(inputs);
    for (const input of inputs) store.upsert(input);
    const [alice, bob, carol] = [store.get('home-alice', 'sde-a'), store.get('home-bob', 'sde-b'), store.get('home-carol', 'sde-a')] as Array<KubernetesObject & { spec: { accessModes: string[]; resources: unknown } }>;
    // Every value is what the watch delivered.
    expect([alice, bob, carol]).toEqual(expected);
    // Equal subtrees are one object: labels, owner references, whole specs...
    expect(bob?.metadata?.labels).toBe(alice?.metadata?.labels);
    expect(bob?.metadata?.ownerReferences).toBe(alice?.metadata?.ownerReferences);
    expect(bob?.spec).toBe(alice?.spec);
    // ...and where they differ only in part, the equal parts still are.
    expect(carol?.spec).not.toBe(alice?.spec);
    expect(carol?.spec.accessModes).toBe(alice?.spec.accessModes);
    expect(carol?.spec.resources).not.toBe(alice?.spec.resources);
    expect(carol?.metadata?.ownerReferences).not.toBe(alice?.metadata?.ownerReferences);
    expect(carol?.metadata?.labels).toBe(alice?.metadata?.labels);
    // An object's root and metadata (uid, resourceVersion) are its own, and everything is frozen.
    expect(bob?.metadata).not.toBe(alice?.metadata);
    expect(Object.isFrozen(carol?.spec.resources)).toBe(true);
    // A later version shares what did not change with the one before it.
    store.upsert(JSON.parse(JSON.stringify({ ...expected[0], metadata: { ...expected[0]?.metadata, resourceVersion: 'later' }, status: { phase: 'Bound' } })));
    const later = store.get('home-alice', 'sde-a') as typeof alice;
    expect(later?.spec).toBe(alice?.spec);
    expect(later?.metadata?.resourceVersion).toBe('later');
    expect((later as { status?: unknown }).status).toEqual({ phase: 'Bound' });
  });

  it('drops kubectl\'s last-applied annotation and keeps the others', () => {
    const store = new Store(Kinds.PersistentVolumeClaim);
    const object = pvc('a', '1');
    object.metadata = { ...object.metadata, annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{"big":true}', note: 'kept' } };
    store.upsert(object);
    expect(store.get('a', 'sandpit-a')?.metadata?.annotations).toEqual({ note: 'kept' });
  });

  it('emits only real differences on a relist, and becomes synced after the first', async () => {
    const store = new Store(Kinds.PersistentVolumeClaim);
    const events: string[] = [];
    store.subscribe((event: CacheEvent) => events.push(`${event.type} ${event.object.metadata?.name}`));
    expect(store.hasSynced).toBe(false);
    store.replace([pvc('a', '1'), pvc('b', '2')], '2');
    await store.whenSynced();
    events.length = 0;
    store.replace([pvc('a', '1'), pvc('b', '5'), pvc('c', '6')], '6');
    expect(events.sort()).toEqual(['ADDED c', 'MODIFIED b']);
    events.length = 0;
    store.replace([pvc('a', '1')], '7');
    expect(events.sort()).toEqual(['DELETED b', 'DELETED c']);
  });

  it('replaces an object at a time: stores each as it comes, deletes and syncs only at the end', async () => {
    const store = new Store(Kinds.PersistentVolumeClaim);
    store.replace([pvc('a', '1'), pvc('b', '2')], '2');
    const events: string[] = [];
    store.subscribe((event: CacheEvent) => events.push(`${event.type} ${event.object.metadata?.name}`));
    const replacing = store.startReplace();
    replacing.add(pvc('a', '1'));
    replacing.add(pvc('c', '3'));
    expect(events).toEqual(['ADDED c']);
    expect(store.get('c', 'sandpit-a')?.metadata?.resourceVersion).toBe('3');
    expect(store.get('b', 'sandpit-a')).toBeDefined();
    replacing.finish('3');
    expect(events).toEqual(['ADDED c', 'DELETED b']);
    expect(store.list().map((o) => o.metadata?.name).sort()).toEqual(['a', 'c']);
  });

  it('moves its resourceVersion only at the end of a relist: a write listed later is not taken as seen', async () => {
    const store = new Store(Kinds.PersistentVolumeClaim);
    store.replace([], '10');
    // Our write of "z" was answered with 11; the relist that brings it lists "a" (12) first.
    const waiting = store.waitForResourceVersion('11', 5_000);
    let seen: boolean | undefined;
    void waiting.then((met) => (seen = met));
    const replacing = store.startReplace();
    replacing.add(pvc('a', '12'));
    await new Promise((resolve) => setImmediate(resolve));
    expect(seen).toBeUndefined();
    expect(store.resourceVersion).toBe('10');
    replacing.add(pvc('z', '11'));
    replacing.finish('12');
    await expect(waiting).resolves.toBe(true);
    expect(store.get('z', 'sandpit-a')?.metadata?.resourceVersion).toBe('11');
    expect(store.resourceVersion).toBe('12');
  });

  it('waits for a resourceVersion until the cache has seen it, or times out', async () => {
    const store = new Store(Kinds.PersistentVolumeClaim);
    store.replace([], '10');
    const waiting = store.waitForResourceVersion('12', 5_000);
    store.upsert(pvc('a', '11'));
    let settled = false;
    void waiting.then(() => (settled = true));
    await Promise.resolve();
    expect(settled).toBe(false);
    store.noteResourceVersion('12');
    await expect(waiting).resolves.toBe(true);
    await expect(store.waitForResourceVersion('9', 5_000)).resolves.toBe(true);
    await expect(store.waitForResourceVersion('99', 10)).resolves.toBe(false);
  });

  it.each([
    ['9', '10', -1],
    ['10', '10', 0],
    ['100', '99', 1],
    ['abc', '10', undefined],
  ])('compares resourceVersions %s and %s', (a, b, expected) => {
    expect(compareResourceVersions(a, b)).toBe(expected);
  });
});

describe('CacheView (a labelled type served by a broader cache)', () => {
  const OURS = { 'app.kubernetes.io/managed-by': 'sde-operator' };
  const viewType = { ...Kinds.PersistentVolumeClaim, labelSelector: selectorString(OURS), viewOf: Kinds.PersistentVolumeClaim };

  it('holds only what its selector selects, and tells only their changes', async () => {
    const store = new Store(Kinds.PersistentVolumeClaim);
    const view = new CacheView(store, viewType);
    store.replace([pvc('ours', '1', OURS), pvc('theirs', '2')], '2');
    expect(view.list().map((o) => o.metadata?.name)).toEqual(['ours']);
    expect(view.get('theirs', 'sandpit-a')).toBeUndefined();
    expect(view.get('ours', 'sandpit-a')?.metadata?.resourceVersion).toBe('1');
    expect(view.list({ namespace: 'sandpit-a', labels: { 'app.kubernetes.io/managed-by': 'someone-else' } })).toEqual([]);
    expect([view.size, view.countLabelled('app.kubernetes.io/managed-by', 'sde-operator')]).toEqual([1, 1]);
    const events: string[] = [];
    view.subscribe((event) => events.push(`${event.type} ${event.object.metadata?.name}@${event.object.metadata?.resourceVersion}`));
    store.upsert(pvc('theirs', '3'));
    store.upsert(pvc('ours', '4', OURS));
    store.upsert(pvc('theirs', '5', OURS));
    store.upsert(pvc('ours', '6'));
    store.remove(pvc('theirs', '7', OURS));
    expect(events).toEqual(['MODIFIED ours@4', 'ADDED theirs@5', 'DELETED ours@4', 'DELETED theirs@5']);
    expect(view.resourceVersion).toBe('7');
    await expect(view.waitForResourceVersion('7', 10)).resolves.toBe(true);
  });

  it('reads the equality form of a selector, and refuses any other', () => {
    expect(parseSelectorString('a=b,c==d')).toEqual({ a: 'b', c: 'd' });
    expect(() => parseSelectorString('a in (b)')).toThrow('expected a label selector of key=value pairs');
    expect(() => parseSelectorString('a,b=c')).toThrow('"a"');
    expect(() => parseSelectorString('a!=b')).toThrow();
  });
});

describe('watchedTypeId', () => {
  it('names a type by group, kind, label selector and namespace, the same each time', () => {
    const ours = Object.freeze({ ...Kinds.Role, labelSelector: 'app.kubernetes.io/managed-by=sde-operator' });
    expect(watchedTypeId(ours)).toBe('rbac.authorization.k8s.io/Role|app.kubernetes.io/managed-by=sde-operator|');
    expect(watchedTypeId(ours)).toBe(watchedTypeId(Object.freeze({ ...ours })));
    expect(watchedTypeId(Kinds.Namespace)).toBe('/Namespace||');
  });

  it('does not keep the id of a type that may still change', () => {
    const type: WatchedType = { ...Kinds.ConfigMap };
    expect(watchedTypeId(type)).toBe('/ConfigMap||');
    type.namespace = 'sde-system';
    expect(watchedTypeId(type)).toBe('/ConfigMap||sde-system');
  });
});
