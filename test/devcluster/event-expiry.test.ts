// Events expire a TTL after their last write, as the real API server's --event-ttl has etcd do,
// so long runs of the devcluster do not pile up events.
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createStore } from '../../devcluster/create-store.ts';
import { startDevCluster, type DevCluster } from '../../devcluster/index.ts';
import { BUILTINS } from '../../devcluster/store/builtins.ts';
import { EventExpiry } from '../../devcluster/store/event-expiry.ts';
import type { ClusterStore } from '../../devcluster/store/cluster-store.ts';
import type { KubeObject } from '../../devcluster/store/types.ts';

function event(name: string, count = 1): KubeObject {
  return {
    apiVersion: 'v1', kind: 'Event', metadata: { name, namespace: 'sde-events' },
    involvedObject: { kind: 'Pod', name: 'p', namespace: 'sde-events' }, reason: 'Pulled', message: 'pulled', count,
  };
}

function names(store: ClusterStore): string[] {
  return store.scan(BUILTINS.events, { namespace: 'sde-events' }).map((e) => e.metadata.name);
}

describe('event TTL', () => {
  let expiry: EventExpiry | undefined;
  let cluster: DevCluster | undefined;
  afterEach(async () => {
    expiry?.stop();
    expiry = undefined;
    vi.useRealTimers();
    await cluster?.stop();
    cluster = undefined;
  });

  it('deletes each event a TTL after its last write; an updated event lives on', () => {
    vi.useFakeTimers();
    const { store } = createStore();
    store.create(BUILTINS.namespaces, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'sde-events' } });
    expiry = new EventExpiry(store, 60_000);
    store.create(BUILTINS.events, event('scheduled'));
    store.create(BUILTINS.events, event('pulled'));
    vi.advanceTimersByTime(30_000);
    store.update(BUILTINS.events, event('pulled', 2));
    vi.advanceTimersByTime(30_001);
    expect(names(store)).toEqual(['pulled']);
    vi.advanceTimersByTime(30_000);
    expect(names(store)).toEqual([]);
    expect(expiry.pending).toBe(0);
  });

  it('gives events already in the store (loaded from a data file) a full TTL', () => {
    vi.useFakeTimers();
    const { store } = createStore();
    store.create(BUILTINS.namespaces, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'sde-events' } });
    store.create(BUILTINS.events, event('loaded'));
    expiry = new EventExpiry(store, 1_000);
    vi.advanceTimersByTime(999);
    expect(names(store)).toEqual(['loaded']);
    vi.advanceTimersByTime(1);
    expect(names(store)).toEqual([]);
  });

  it('startDevCluster expires events after eventTtlMs', async () => {
    cluster = await startDevCluster({ simulate: false, eventTtlMs: 100 });
    const kc = new KubeConfig();
    kc.loadFromFile(cluster.kubeconfigPath);
    const core = kc.makeApiClient(CoreV1Api);
    await core.createNamespace({ body: { metadata: { name: 'sde-events' } } });
    await core.createNamespacedEvent({ namespace: 'sde-events', body: { metadata: { name: 'short-lived' }, involvedObject: { kind: 'Pod', name: 'p' }, reason: 'Pulled' } });
    await vi.waitFor(async () => expect((await core.listNamespacedEvent({ namespace: 'sde-events' })).items).toHaveLength(0), { timeout: 5_000, interval: 20 });
  });
});
