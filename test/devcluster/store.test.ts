// The store's semantics as a client notices them: resourceVersions, generation, selectors,
// finalizers, garbage collection, namespace lifecycle, quota with LimitRange defaults, watch
// history and file persistence.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createStore } from '../../devcluster/create-store.ts';
import { BUILTINS } from '../../devcluster/store/builtins.ts';
import { FilePersistence } from '../../devcluster/store/persistence.ts';
import { parseQuantity } from '../../api/quantity.ts';
import { formatMilli } from '../../devcluster/resources/quantity.ts';
import type { ClusterStore } from '../../devcluster/store/cluster-store.ts';
import type { KubeObject } from '../../devcluster/store/types.ts';
import { apiError } from './api-error.ts';

function cm(name: string, ns = 'default', extra: Partial<KubeObject['metadata']> = {}): KubeObject {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: ns, ...extra }, data: { a: '1' } };
}

function pod(name: string, ns: string, resources: Record<string, unknown> = {}, labels: Record<string, string> = {}): KubeObject {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: ns, labels }, spec: { containers: [{ name: 'main', image: 'busybox', resources }] } };
}

function ns(store: ClusterStore, name: string): void {
  store.create(BUILTINS.namespaces, { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
}

describe('store basics', () => {
  it('gives every write a higher resourceVersion from one counter, and a uid and timestamp on create', () => {
    const { store } = createStore();
    const a = store.create(BUILTINS.configmaps, cm('a'));
    const b = store.create(BUILTINS.deployments, { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'b', namespace: 'default' }, spec: {} });
    expect(Number(b.metadata.resourceVersion)).toBeGreaterThan(Number(a.metadata.resourceVersion));
    expect(a.metadata.uid).toMatch(/^[0-9a-f-]{36}$/);
    expect(a.metadata.creationTimestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(() => store.create(BUILTINS.configmaps, cm('a'))).toThrow(/configmaps "a" already exists/);
  });

  it('bumps generation on spec changes only, and rejects stale updates with 409', () => {
    const { store } = createStore();
    const d = store.create(BUILTINS.deployments, { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'd', namespace: 'default' }, spec: { replicas: 1 } });
    const labelled = store.update(BUILTINS.deployments, { ...d, metadata: { ...d.metadata, labels: { x: 'y' } } });
    expect(labelled.metadata.generation).toBe(1);
    const status = store.update(BUILTINS.deployments, { ...labelled, status: { replicas: 1 } }, { subresource: 'status' });
    expect(status.metadata.generation).toBe(1);
    const scaled = store.update(BUILTINS.deployments, { ...status, spec: { replicas: 3 } });
    expect(scaled.metadata.generation).toBe(2);
    expect(scaled.status).toEqual({ replicas: 1 });
    const stale = apiError(() => store.update(BUILTINS.deployments, { ...d, spec: { replicas: 9 } }));
    expect(stale.code).toBe(409);
    expect(stale.message).toContain('the object has been modified');
  });

  it.each([
    ['clusterroles', 'system:sde:researcher', true],
    ['namespaces', 'sde.cardiac', false],
    ['configmaps', 'site.config', true],
    ['configmaps', 'Site', false],
  ] as const)('validates %s name %s by the kind\'s rule (accepted: %s)', (resource, name, accepted) => {
    const { store } = createStore();
    const rt = BUILTINS[resource];
    const obj = { apiVersion: rt.group === '' ? 'v1' : `${rt.group}/v1`, kind: rt.kind, metadata: { name, namespace: 'default' } };
    if (accepted) expect(store.create(rt, obj).metadata.name).toBe(name);
    else expect(apiError(() => store.create(rt, obj)).code).toBe(422);
  });

  it('commits a write even when a subscriber throws, and reports the failure', () => {
    const failures: string[] = [];
    const { store } = createStore({ onListenerError: (_err, change) => failures.push(`${change.type} ${change.object.metadata.name}`) });
    store.subscribe(BUILTINS.configmaps, () => {
      throw new Error('broken subscriber');
    });
    const created = store.create(BUILTINS.configmaps, cm('sturdy'));
    expect(store.get(BUILTINS.configmaps, 'default', 'sturdy')?.metadata.uid).toBe(created.metadata.uid);
    expect(failures).toEqual(['ADDED sturdy']);
  });

  it('does not write (or bump resourceVersion) for an update that changes nothing', () => {
    const { store } = createStore();
    const a = store.create(BUILTINS.configmaps, cm('a'));
    const again = store.update(BUILTINS.configmaps, a);
    expect(again.metadata.resourceVersion).toBe(a.metadata.resourceVersion);
  });

  it.each([
    ['app=web', ['w1', 'w2']],
    ['app==web,tier!=db', ['w1']],
    ['app in (web,api)', ['a1', 'w1', 'w2']],
    ['app notin (web)', ['a1', 'x1']],
    ['tier', ['w1', 'w2']],
    ['!tier', ['a1', 'x1']],
  ])('selects by label selector %s', (selector, names) => {
    const { store } = createStore();
    store.create(BUILTINS.configmaps, cm('w1', 'default', { labels: { app: 'web', tier: 'fe' } }));
    store.create(BUILTINS.configmaps, cm('w2', 'default', { labels: { app: 'web', tier: 'db' } }));
    store.create(BUILTINS.configmaps, cm('a1', 'default', { labels: { app: 'api' } }));
    store.create(BUILTINS.configmaps, cm('x1'));
    expect(store.list(BUILTINS.configmaps, { labelSelector: selector }).items.map((o) => o.metadata.name)).toEqual(names);
  });

  it('pages across namespaces in list order, one item at a time', () => {
    const { store } = createStore();
    ns(store, 'a');
    ns(store, 'a-b');
    for (const n of ['a', 'a-b', 'default']) store.create(BUILTINS.configmaps, cm('x', n));
    const seen: string[] = [];
    let token: string | undefined;
    do {
      const page = store.listPage(BUILTINS.configmaps, { limit: 1, ...(token ? { continue: token } : {}) });
      seen.push(...page.items.map((o) => o.metadata.namespace ?? ''));
      token = page.continue;
    } while (token);
    expect(seen).toEqual(store.list(BUILTINS.configmaps).items.map((o) => o.metadata.namespace));
    expect(seen).toHaveLength(3);
  });

  it('selects by field selectors on name, namespace, phase and node', () => {
    const { store } = createStore();
    ns(store, 'a');
    store.create(BUILTINS.pods, pod('p1', 'a'));
    const p2 = store.create(BUILTINS.pods, pod('p2', 'default'));
    store.update(BUILTINS.pods, { ...p2, spec: { ...(p2.spec as object), nodeName: 'dgx-a100-01' } });
    expect(store.list(BUILTINS.pods, { fieldSelector: 'metadata.namespace=a' }).items.map((p) => p.metadata.name)).toEqual(['p1']);
    expect(store.list(BUILTINS.pods, { fieldSelector: 'spec.nodeName=dgx-a100-01' }).items.map((p) => p.metadata.name)).toEqual(['p2']);
    expect(store.list(BUILTINS.pods, { fieldSelector: 'status.phase=Pending,metadata.name!=p2' }).items.map((p) => p.metadata.name)).toEqual(['p1']);
  });
});

describe('deletion', () => {
  it('marks an object with finalizers and deletes it when the last finalizer goes', () => {
    const { store } = createStore();
    store.create(BUILTINS.configmaps, cm('f', 'default', { finalizers: ['sde.london/keep'] }));
    const marked = store.delete(BUILTINS.configmaps, 'default', 'f');
    expect(marked?.metadata.deletionTimestamp).toBeDefined();
    const current = store.get(BUILTINS.configmaps, 'default', 'f');
    expect(current).toBeDefined();
    store.update(BUILTINS.configmaps, { ...current!, metadata: { ...current!.metadata, finalizers: [] } });
    expect(store.get(BUILTINS.configmaps, 'default', 'f')).toBeUndefined();
  });

  function ownerAndChild(store: ClusterStore): { owner: KubeObject } {
    const owner = store.create(BUILTINS.configmaps, cm('owner'));
    const ref = { apiVersion: 'v1', kind: 'ConfigMap', name: 'owner', uid: owner.metadata.uid ?? '', controller: true, blockOwnerDeletion: true };
    store.create(BUILTINS.secrets, { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'child', namespace: 'default', ownerReferences: [ref] } });
    return { owner };
  }

  it('deletes dependents in the background when their owner goes', () => {
    const { store } = createStore();
    ownerAndChild(store);
    store.delete(BUILTINS.configmaps, 'default', 'owner');
    expect(store.get(BUILTINS.secrets, 'default', 'child')).toBeUndefined();
  });

  it('orphans dependents on request, removing the owner reference', () => {
    const { store } = createStore();
    ownerAndChild(store);
    store.delete(BUILTINS.configmaps, 'default', 'owner', { propagationPolicy: 'Orphan' });
    const child = store.get(BUILTINS.secrets, 'default', 'child');
    expect(child?.metadata.ownerReferences).toBeUndefined();
  });

  it('keeps a foreground-deleted owner until its dependents are gone', () => {
    const { store } = createStore();
    store.create(BUILTINS.configmaps, cm('owner'));
    const owner = store.get(BUILTINS.configmaps, 'default', 'owner')!;
    const ref = { apiVersion: 'v1', kind: 'ConfigMap', name: 'owner', uid: owner.metadata.uid ?? '', blockOwnerDeletion: true };
    store.create(BUILTINS.secrets, { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'child', namespace: 'default', ownerReferences: [ref], finalizers: ['hold'] } });
    store.delete(BUILTINS.configmaps, 'default', 'owner', { propagationPolicy: 'Foreground' });
    expect(store.get(BUILTINS.configmaps, 'default', 'owner')?.metadata.finalizers).toContain('foregroundDeletion');
    const child = store.get(BUILTINS.secrets, 'default', 'child')!;
    expect(child.metadata.deletionTimestamp).toBeDefined();
    store.update(BUILTINS.secrets, { ...child, metadata: { ...child.metadata, finalizers: [] } });
    expect(store.get(BUILTINS.configmaps, 'default', 'owner')).toBeUndefined();
  });

  it('collects an object created with only absent owners', async () => {
    const { store } = createStore();
    const ref = { apiVersion: 'v1', kind: 'ConfigMap', name: 'gone', uid: '00000000-0000-0000-0000-000000000000' };
    store.create(BUILTINS.secrets, { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'stray', namespace: 'default', ownerReferences: [ref] } });
    await new Promise((r) => setImmediate(r));
    expect(store.get(BUILTINS.secrets, 'default', 'stray')).toBeUndefined();
  });

  it('terminates a namespace: refuses new content, deletes its objects, then disappears', () => {
    const { store } = createStore();
    ns(store, 'sde-x');
    store.create(BUILTINS.configmaps, cm('held', 'sde-x', { finalizers: ['hold'] }));
    store.create(BUILTINS.configmaps, cm('plain', 'sde-x'));
    store.delete(BUILTINS.namespaces, undefined, 'sde-x');
    expect((store.get(BUILTINS.namespaces, undefined, 'sde-x')?.status as { phase: string }).phase).toBe('Terminating');
    expect(store.get(BUILTINS.configmaps, 'sde-x', 'plain')).toBeUndefined();
    expect(apiError(() => store.create(BUILTINS.configmaps, cm('new', 'sde-x'))).code).toBe(403);
    const held = store.get(BUILTINS.configmaps, 'sde-x', 'held')!;
    store.update(BUILTINS.configmaps, { ...held, metadata: { ...held.metadata, finalizers: [] } });
    expect(store.get(BUILTINS.namespaces, undefined, 'sde-x')).toBeUndefined();
  });
});

describe('quota and limit ranges', () => {
  it('rejects the fifth GPU pod against a GPU quota of 4 and keeps status.used current', () => {
    const { store } = createStore();
    ns(store, 'sde-gpu');
    store.create(BUILTINS.resourcequotas, { apiVersion: 'v1', kind: 'ResourceQuota', metadata: { name: 'enclave', namespace: 'sde-gpu' }, spec: { hard: { 'requests.nvidia.com/gpu': '4', pods: '20' } } });
    for (let i = 0; i < 4; i += 1) store.create(BUILTINS.pods, pod(`gpu-${i}`, 'sde-gpu', { limits: { 'nvidia.com/gpu': '1' } }));
    const err = apiError(() => store.create(BUILTINS.pods, pod('gpu-4', 'sde-gpu', { limits: { 'nvidia.com/gpu': '1' } })));
    expect(err.code).toBe(403);
    expect(err.message).toBe('pods "gpu-4" is forbidden: exceeded quota: enclave, requested: requests.nvidia.com/gpu=1, used: requests.nvidia.com/gpu=4, limited: requests.nvidia.com/gpu=4');
    expect((store.get(BUILTINS.resourcequotas, 'sde-gpu', 'enclave')?.status as { used: Record<string, string> }).used).toEqual({ 'requests.nvidia.com/gpu': '4', pods: '4' });
    store.delete(BUILTINS.pods, 'sde-gpu', 'gpu-0');
    expect((store.get(BUILTINS.resourcequotas, 'sde-gpu', 'enclave')?.status as { used: Record<string, string> }).used['requests.nvidia.com/gpu']).toBe('3');
  });

  it('counts an extended resource by its requests only, as a 1.23 server does: limits.nvidia.com/gpu and a bare nvidia.com/gpu limit nothing', () => {
    const { store } = createStore();
    ns(store, 'sde-ext');
    const hard = { 'limits.nvidia.com/gpu': '1', 'nvidia.com/gpu': '1', 'requests.nvidia.com/gpu': '4' };
    store.create(BUILTINS.resourcequotas, { apiVersion: 'v1', kind: 'ResourceQuota', metadata: { name: 'q', namespace: 'sde-ext' }, spec: { hard } });
    store.create(BUILTINS.pods, pod('two-gpus', 'sde-ext', { limits: { 'nvidia.com/gpu': '2' } }));
    expect(store.get(BUILTINS.resourcequotas, 'sde-ext', 'q')?.status).toEqual({ hard, used: { 'requests.nvidia.com/gpu': '2' } });
  });

  it('fills requests from a LimitRange so pods without requests count against cpu and memory quota', () => {
    const { store } = createStore();
    ns(store, 'sde-cpu');
    store.create(BUILTINS.limitranges, { apiVersion: 'v1', kind: 'LimitRange', metadata: { name: 'defaults', namespace: 'sde-cpu' }, spec: { limits: [{ type: 'Container', default: { cpu: '1', memory: '2Gi' }, defaultRequest: { cpu: '500m', memory: '1Gi' } }] } });
    store.create(BUILTINS.resourcequotas, { apiVersion: 'v1', kind: 'ResourceQuota', metadata: { name: 'compute', namespace: 'sde-cpu' }, spec: { hard: { 'requests.cpu': '1', 'requests.memory': '4Gi', 'limits.memory': '8Gi' } } });
    const p = store.create(BUILTINS.pods, pod('a', 'sde-cpu'));
    expect((p.spec as { containers: { resources: unknown }[] }).containers[0]?.resources).toEqual({ limits: { cpu: '1', memory: '2Gi' }, requests: { cpu: '500m', memory: '1Gi' } });
    store.create(BUILTINS.pods, pod('b', 'sde-cpu'));
    expect((store.get(BUILTINS.resourcequotas, 'sde-cpu', 'compute')?.status as { used: Record<string, string> }).used).toEqual({ 'requests.cpu': '1', 'requests.memory': '2Gi', 'limits.memory': '4Gi' });
    expect(apiError(() => store.create(BUILTINS.pods, pod('c', 'sde-cpu'))).message).toContain('exceeded quota: compute, requested: requests.cpu=500m, used: requests.cpu=1, limited: requests.cpu=1');
  });

  it('counts PVC storage and claims', () => {
    const { store } = createStore();
    ns(store, 'sde-pvc');
    store.create(BUILTINS.resourcequotas, { apiVersion: 'v1', kind: 'ResourceQuota', metadata: { name: 'storage', namespace: 'sde-pvc' }, spec: { hard: { 'requests.storage': '10Gi', persistentvolumeclaims: '5' } } });
    const claim = (name: string, size: string): KubeObject => ({ apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name, namespace: 'sde-pvc' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: size } } } });
    store.create(BUILTINS.persistentvolumeclaims, claim('home-a', '8Gi'));
    expect(apiError(() => store.create(BUILTINS.persistentvolumeclaims, claim('home-b', '4Gi'))).message).toContain('requested: requests.storage=4Gi, used: requests.storage=8Gi, limited: requests.storage=10Gi');
  });

  it.each([
    ['500m', 0.5],
    ['4Gi', 4 * 2 ** 30],
    ['1.5', 1.5],
    ['2k', 2000],
    ['1e3', 1000],
  ])('parses quantity %s', (text, value) => {
    expect(parseQuantity(text)).toBeCloseTo(value);
  });

  it('formats quantities back canonically', () => {
    expect(formatMilli(1500)).toBe('1500m');
    expect(formatMilli(8 * 2 ** 30 * 1000, 'BinarySI')).toBe('8Gi');
    expect(formatMilli(1536 * 2 ** 20 * 1000, 'BinarySI')).toBe('1536Mi');
    expect(formatMilli(3000)).toBe('3');
  });
});

describe('watch history and persistence', () => {
  it('replays changes after a resourceVersion and answers 410 once it is older than the window', () => {
    const { store } = createStore({ historySize: 5 });
    const first = store.create(BUILTINS.configmaps, cm('c0'));
    for (let i = 1; i < 10; i += 1) store.create(BUILTINS.configmaps, cm(`c${i}`));
    expect(apiError(() => store.watch(BUILTINS.configmaps, { resourceVersion: first.metadata.resourceVersion ?? '' }, () => undefined)).code).toBe(410);
    const seen: string[] = [];
    const recent = store.list(BUILTINS.configmaps).items.find((o) => o.metadata.name === 'c7')!;
    const stop = store.watch(BUILTINS.configmaps, { resourceVersion: recent.metadata.resourceVersion ?? '' }, (type, obj) => seen.push(`${type} ${obj.metadata.name}`));
    store.delete(BUILTINS.configmaps, 'default', 'c1');
    stop();
    expect(seen).toEqual(['ADDED c8', 'ADDED c9', 'DELETED c1']);
    store.compactHistory();
    expect(apiError(() => store.watch(BUILTINS.configmaps, { resourceVersion: recent.metadata.resourceVersion ?? '' }, () => undefined)).code).toBe(410);
  });

  it('does not expire an idle type\'s watch because other types churned', () => {
    const { store } = createStore({ historySize: 5 });
    const secret = store.create(BUILTINS.secrets, { apiVersion: 'v1', kind: 'Secret', metadata: { name: 's', namespace: 'default' } });
    for (let i = 0; i < 20; i += 1) store.create(BUILTINS.configmaps, cm(`churn-${i}`));
    const seen: string[] = [];
    const stop = store.watch(BUILTINS.secrets, { resourceVersion: secret.metadata.resourceVersion ?? '' }, (type, obj) => seen.push(`${type} ${obj.metadata.name}`));
    store.delete(BUILTINS.secrets, 'default', 's');
    stop();
    expect(seen).toEqual(['DELETED s']);
  });

  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it('keeps objects, custom resources and the resourceVersion counter across a restart', () => {
    const dir = mkdtempSync(join(tmpdir(), 'devcluster-store-'));
    dirs.push(dir);
    const file = join(dir, 'data.json');
    const first = createStore();
    const persistence = new FilePersistence(first.store, file);
    first.store.create(BUILTINS.customresourcedefinitions, {
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      metadata: { name: 'widgets.example.com' },
      spec: { group: 'example.com', scope: 'Namespaced', names: { plural: 'widgets', kind: 'Widget' }, versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object', properties: { spec: { type: 'object', properties: { size: { type: 'integer' } } } } } } }] },
    });
    const widgets = first.store.resourceType('example.com', 'widgets')!;
    const w = first.store.create(widgets, { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w', namespace: 'default' }, spec: { size: 3 } });
    persistence.close();
    const second = createStore();
    FilePersistence.load(second.store, file);
    const again = second.store.get(second.store.resourceType('example.com', 'widgets')!, 'default', 'w');
    expect(again?.metadata.uid).toBe(w.metadata.uid);
    const next = second.store.create(BUILTINS.configmaps, cm('after'));
    expect(Number(next.metadata.resourceVersion)).toBeGreaterThan(Number(w.metadata.resourceVersion));
  });
});
