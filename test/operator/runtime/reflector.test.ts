import type { KubernetesObject } from '@kubernetes/client-node';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { KubeClient, loadKubeConfig } from '../../../operator/runtime/kube.ts';
import { limiter } from '../../../operator/runtime/limit.ts';
import { OperatorMetrics } from '../../../operator/runtime/metrics.ts';
import { Reflector, type ReflectorOptions } from '../../../operator/runtime/reflector.ts';
import { Kinds } from '../../../operator/runtime/resources.ts';
import { startTestCluster, type TestCluster } from './harness.ts';
import { startWatchProxy } from './watch-proxy.ts';

const configMap = (name: string, data: Record<string, string> = { tier: 'gpu' }): KubernetesObject & { data: Record<string, string> } => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name, namespace: 'sandpit-a', labels: { 'sde.london/enclave': 'a' } },
  data,
});

const waitUntil = (assertion: () => void): Promise<void> => vi.waitFor(assertion, { timeout: 10_000, interval: 20 });

describe('Reflector over HTTP', () => {
  let cluster: TestCluster;
  let client: KubeClient;
  let reflectors: Reflector[];

  const reflect = (options: Partial<ReflectorOptions> = {}): Reflector => {
    const reflector = new Reflector({ client, type: Kinds.ConfigMap, backoff: { baseMs: 20, maxMs: 200 }, resyncMs: 0, watchdogMs: 5_000, metrics: new OperatorMetrics(), ...options });
    reflectors.push(reflector);
    reflector.start();
    return reflector;
  };

  beforeEach(async () => {
    cluster = await startTestCluster();
    client = new KubeClient(loadKubeConfig({ kubeconfigPath: cluster.kubeconfigPath }));
    await client.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'sandpit-a' } });
    reflectors = [];
  });

  afterEach(async () => {
    await Promise.all(reflectors.map((reflector) => reflector.stop()));
    await cluster.stop();
  });

  it('lists in pages, is synced only after the first list, then follows the watch', async () => {
    for (const name of ['a', 'b', 'c', 'd', 'e']) await client.apply(configMap(name));
    const reflector = reflect({ pageSize: 2 });
    expect(reflector.cache.hasSynced).toBe(false);
    await reflector.cache.whenSynced();
    expect(reflector.cache.size).toBe(5);
    expect(client.requests.get('list')).toBeGreaterThanOrEqual(3);
    await client.apply(configMap('f'));
    await waitUntil(() => expect(reflector.cache.get('f', 'sandpit-a')).toBeDefined());
    await client.delete(configMap('a'));
    await waitUntil(() => expect(reflector.cache.get('a', 'sandpit-a')).toBeUndefined());
  });

  // A list is stored an object at a time as it is parsed, not held whole until its last page.
  it('stores each listed object as it is read, not once the whole list is in', async () => {
    for (const name of ['a', 'b', 'c', 'd', 'e']) await client.apply(configMap(name));
    const listEach = client.listEach.bind(client);
    const sizesSeen: number[] = [];
    const started: { reflector?: Reflector } = {};
    client.listEach = (type, options, onItem) => listEach(type, options, (item) => {
      sizesSeen.push(started.reflector?.cache.size ?? -1);
      onItem(item);
    });
    const reflector = (started.reflector = reflect({ pageSize: 2 }));
    await reflector.cache.whenSynced();
    expect(sizesSeen).toEqual([0, 1, 2, 3, 4]);
  });

  it('resumes from the last resourceVersion after the connection drops, without relisting', async () => {
    const reflector = reflect();
    await reflector.cache.whenSynced();
    await waitUntil(() => expect(cluster.faults.openWatches()).toBe(1));
    const listsBefore = client.requests.get('list');
    cluster.faults.dropWatches();
    await client.apply(configMap('after-drop'));
    await waitUntil(() => expect(reflector.cache.get('after-drop', 'sandpit-a')).toBeDefined());
    expect(client.requests.get('list')).toBe(listsBefore);
    expect((reflector.restarts.get('closed') ?? 0) + (reflector.restarts.get('error') ?? 0)).toBeGreaterThanOrEqual(1);
  });

  it('relists after 410 Gone and sees what changed meanwhile', async () => {
    await client.apply(configMap('doomed'));
    const reflector = reflect();
    await reflector.cache.whenSynced();
    const deleted: string[] = [];
    reflector.cache.subscribe((event) => event.type === 'DELETED' && deleted.push(event.object.metadata?.name ?? ''));
    await waitUntil(() => expect(cluster.faults.openWatches()).toBe(1));
    const listsBefore = client.requests.get('list') ?? 0;
    // A change of another kind moves the server past the reflector's resourceVersion; compacting
    // there and cutting the watch makes the reconnect ask for history that is gone.
    await client.apply({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'unrelated', namespace: 'sandpit-a' } });
    cluster.faults.forceGone();
    cluster.faults.dropWatches();
    await client.delete(configMap('doomed'));
    await client.apply(configMap('after-gone'));
    await waitUntil(() => expect(reflector.cache.get('after-gone', 'sandpit-a')).toBeDefined());
    expect(reflector.cache.get('doomed', 'sandpit-a')).toBeUndefined();
    expect(deleted).toEqual(['doomed']);
    expect(reflector.restarts.get('gone')).toBeGreaterThanOrEqual(1);
    expect(client.requests.get('list') ?? 0).toBeGreaterThan(listsBefore);
  });

  it('keeps going through a storm of 500s', async () => {
    cluster.faults.failRequests({ rate: 0.5 });
    const reflector = reflect();
    await reflector.cache.whenSynced();
    await waitUntil(() => expect(cluster.faults.openWatches()).toBe(1));
    await vi.waitFor(() => client.apply({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'unrelated', namespace: 'sandpit-a' } }), { timeout: 10_000, interval: 10 });
    cluster.faults.forceGone();
    cluster.faults.dropWatches();
    for (const name of ['x', 'y', 'z']) {
      await vi.waitFor(() => client.apply(configMap(name)), { timeout: 10_000, interval: 10 });
    }
    await waitUntil(() => expect(reflector.cache.list({ namespace: 'sandpit-a' }).map((object) => object.metadata?.name).sort()).toEqual(['x', 'y', 'z']));
    cluster.faults.clear();
  });

  it('restarts a watch that went quiet, while bookmarks keep a quiet watch alive', async () => {
    // A server that sends a bookmark every 200 ms, and a path to it that can stall: the
    // connection stays open but nothing more arrives, as when a network path breaks half-way.
    const bookmarking = await startTestCluster({ bookmarkIntervalMs: 200 });
    const proxy = await startWatchProxy(bookmarking);
    const quietClient = new KubeClient(loadKubeConfig({ kubeconfigPath: proxy.kubeconfigPath }));
    await quietClient.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'sandpit-a' } });
    const reflector = new Reflector({ client: quietClient, type: Kinds.ConfigMap, backoff: { baseMs: 20, maxMs: 200 }, resyncMs: 0, watchdogMs: 600 });
    try {
      reflector.start();
      await reflector.cache.whenSynced();
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      expect(reflector.restarts.get('watchdog') ?? 0).toBe(0);
      expect(proxy.stallWatches()).toBe(1);
      await waitUntil(() => expect(reflector.restarts.get('watchdog')).toBeGreaterThanOrEqual(1));
      await quietClient.apply(configMap('after-watchdog'));
      await waitUntil(() => expect(reflector.cache.get('after-watchdog', 'sandpit-a')).toBeDefined());
    } finally {
      await reflector.stop();
      await proxy.stop();
      await bookmarking.stop();
    }
  });

  it('resyncs periodically and emits only real differences', async () => {
    await client.apply(configMap('steady'));
    const reflector = reflect({ resyncMs: 150 });
    await reflector.cache.whenSynced();
    const events: string[] = [];
    reflector.cache.subscribe((event) => events.push(`${event.type} ${event.object.metadata?.name}`));
    await waitUntil(() => expect(reflector.restarts.get('resync')).toBeGreaterThanOrEqual(3));
    expect(events).toEqual([]);
    await client.apply(configMap('steady', { tier: 'cpu' }));
    await waitUntil(() => expect(events).toEqual(['MODIFIED steady']));
  });

  // kube-apiserver answers a list from its watch cache whole: caches that share a turn hold one
  // list at a time, at start-up and at every resync.
  it.each([
    { turns: 'one shared turn', listTurn: limiter(1), expected: (max: number) => expect(max).toBe(1) },
    { turns: 'no turns', listTurn: undefined, expected: (max: number) => expect(max).toBeGreaterThan(1) },
  ])('with $turns, lists of different kinds overlap accordingly', async ({ listTurn, expected }) => {
    for (const name of ['a', 'b', 'c', 'd', 'e']) await client.apply(configMap(name));
    const listEach = client.listEach.bind(client);
    let inFlight = 0;
    let most = 0;
    client.listEach = async (...args) => {
      most = Math.max(most, (inFlight += 1));
      try {
        return await listEach(...args);
      } finally {
        inFlight -= 1;
      }
    };
    const caches = [Kinds.ConfigMap, Kinds.Secret, Kinds.Service, Kinds.ServiceAccount].map((type) => reflect({ type, pageSize: 2, resyncMs: 100, ...(listTurn ? { listTurn } : {}) }));
    await Promise.all(caches.map((reflector) => reflector.cache.whenSynced()));
    await waitUntil(() => expect(caches.every((reflector) => (reflector.restarts.get('resync') ?? 0) >= 2)).toBe(true));
    expect(caches[0]!.cache.size).toBe(5);
    expected(most);
  });
});
