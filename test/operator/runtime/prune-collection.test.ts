// Pruning a whole collection in one request, against the dev cluster over HTTP.
import type { KubernetesObject } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDevCluster, type DevCluster } from '../../../devcluster/index.ts';
import { Store } from '../../../operator/runtime/cache.ts';
import type { KubeClient } from '../../../operator/runtime/kube.ts';
import { prune } from '../../../operator/runtime/prune.ts';
import { identityOf, Kinds } from '../../../operator/runtime/resources.ts';
import { userClient } from './harness.ts';

const NS = 'sde-collection';
const selector = { 'sde.london/enclave': 'collection', 'app.kubernetes.io/managed-by': 'runtime-test' };
const binding = (name: string): KubernetesObject => ({
  apiVersion: 'rbac.authorization.k8s.io/v1',
  kind: 'RoleBinding',
  metadata: { name, namespace: NS, labels: selector },
  roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'researcher' },
  subjects: [{ kind: 'User', name: `${name}@ucl.ac.uk`, apiGroup: 'rbac.authorization.k8s.io' }],
} as KubernetesObject);

let cluster: DevCluster;
let client: KubeClient;

beforeAll(async () => {
  cluster = await startDevCluster({ simulate: false });
  client = userClient(cluster.kubeconfigPath);
  await client.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } }, { fieldManager: 'test' });
});

afterAll(async () => {
  await cluster.stop();
});

async function cached(): Promise<Store> {
  const store = new Store(Kinds.RoleBinding);
  const page = await client.list(Kinds.RoleBinding, { namespace: NS });
  store.replace(page.items, page.resourceVersion);
  return store;
}

describe('prune with collections', () => {
  it('deletes every matching object with one request when none is kept', async () => {
    for (const name of ['alice', 'bob', 'carol']) await client.apply(binding(name), { fieldManager: 'test' });
    const before = client.requests.get('delete') ?? 0;
    const result = await prune(client, { selector, protect: () => false, keep: new Set(), caches: [await cached()], namespace: NS, collections: [Kinds.RoleBinding] });
    expect(result.deleted.sort()).toEqual(['alice', 'bob', 'carol'].map((name) => identityOf(binding(name))).sort());
    expect(client.requests.get('deletecollection')).toBe(1);
    expect(client.requests.get('delete') ?? 0).toBe(before);
    expect((await client.list(Kinds.RoleBinding, { namespace: NS })).items).toEqual([]);
  });

  it('deletes one by one when some are kept, so the kept ones stay', async () => {
    for (const name of ['alice', 'bob', 'carol']) await client.apply(binding(name), { fieldManager: 'test' });
    const collectionsBefore = client.requests.get('deletecollection') ?? 0;
    const result = await prune(client, { selector, protect: () => false, keep: new Set([identityOf(binding('bob'))]), caches: [await cached()], namespace: NS, collections: [Kinds.RoleBinding] });
    expect(result.deleted.sort()).toEqual([identityOf(binding('alice')), identityOf(binding('carol'))]);
    expect(client.requests.get('deletecollection') ?? 0).toBe(collectionsBefore);
    expect((await client.list(Kinds.RoleBinding, { namespace: NS })).items.map((o) => o.metadata?.name)).toEqual(['bob']);
  });
});
