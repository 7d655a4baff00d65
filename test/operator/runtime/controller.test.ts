import { createServer, type Server } from 'node:http';
import type { KubernetesObject } from '@kubernetes/client-node';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { TerminalError } from '../../../operator/runtime/errors.ts';
import { KubeClient } from '../../../operator/runtime/kube.ts';
import { closeServer, listenOn } from '../../../operator/runtime/listener.ts';
import type { Manager } from '../../../operator/runtime/manager.ts';
import { Kinds, resourceType } from '../../../operator/runtime/resources.ts';
import { enclave, enclaveController, enclaveReconciler, testManager, userClient, startTestCluster, TEST_DATA_LABEL, TEST_FIELD_MANAGER, TestKinds, type TestCluster, type TestEnclave } from './harness.ts';
import { startWatchProxy, type WatchProxy } from './watch-proxy.ts';

const waitUntil = (assertion: () => void | Promise<void>): Promise<void> => vi.waitFor(assertion, { timeout: 10_000, interval: 25 });

describe('Controller and Manager over HTTP', () => {
  let cluster: TestCluster;
  let user: KubeClient;
  let managers: Manager[];
  let proxies: WatchProxy[];

  beforeEach(async () => {
    cluster = await startTestCluster();
    user = userClient(cluster.kubeconfigPath);
    managers = [];
    proxies = [];
  });

  afterEach(async () => {
    await Promise.all(managers.map((manager) => manager.stop()));
    await Promise.all(proxies.map((proxy) => proxy.stop()));
    await cluster.stop();
  });

  const start = async (reconcile = enclaveReconciler(), kubeconfigPath = cluster.kubeconfigPath): Promise<Manager> => {
    const manager = testManager(kubeconfigPath);
    managers.push(manager);
    manager.add(enclaveController(reconcile));
    await manager.start();
    return manager;
  };

  const readyEnclave = async (name: string): Promise<TestEnclave | undefined> => (await user.get(TestKinds.Enclave, name)) as TestEnclave | undefined;

  it('renders an enclave, reports Ready, and makes no write at all when reconciled again unchanged', async () => {
    await user.apply(enclave('omop-42', ['settings', 'mirror']));
    const reconciled: string[] = [];
    const manager = await start(enclaveReconciler((key) => reconciled.push(key)));
    await waitUntil(async () => expect((await readyEnclave('omop-42'))?.status?.phase).toBe('Ready'));
    await waitUntil(() => expect(manager.client.requests.get('create')).toBe(1));
    const writesAfterFirst = manager.client.writes;
    const reconcilesBefore = reconciled.length;
    // Touch the enclave without changing what it renders: it is reconciled again, and writes nothing.
    const current = (await readyEnclave('omop-42'))!;
    await user.apply({ ...enclave('omop-42', ['settings', 'mirror']), metadata: { name: 'omop-42', annotations: { touched: 'yes' } } });
    await waitUntil(() => expect(reconciled.length).toBeGreaterThan(reconcilesBefore));
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(manager.client.writes).toBe(writesAfterFirst);
    expect(current.status?.conditions?.[0]).toMatchObject({ type: 'Ready', status: 'True', reason: 'Provisioned' });
    const namespace = await user.get(Kinds.Namespace, 'sandpit-omop-42');
    expect(namespace?.metadata?.ownerReferences?.[0]).toMatchObject({ kind: 'Enclave', name: 'omop-42', controller: true });
  });

  it('reconciles a new enclave twice (the writing pass and one that observes it), not once per echo of its writes', async () => {
    const reconciled: string[] = [];
    const manager = testManager(cluster.kubeconfigPath);
    managers.push(manager);
    const controller = manager.add(enclaveController(enclaveReconciler((key) => reconciled.push(key))));
    await manager.start();
    await user.apply(enclave('echoes', ['a', 'b', 'c', 'd']));
    await waitUntil(async () => expect((await readyEnclave('echoes'))?.status?.phase).toBe('Ready'));
    await controller.whenIdle();
    await new Promise((resolve) => setTimeout(resolve, 300));
    // Seven children and a status were written; their watch events are echoes and reconcile nothing.
    expect(reconciled.filter((key) => key === 'echoes')).toHaveLength(2);
    // A change by someone else is no echo: the drifted child is put back.
    const before = reconciled.length;
    await user.apply({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a', namespace: 'sandpit-echoes' }, data: { enclave: 'tampered' } } as KubernetesObject, { fieldManager: 'intruder', force: true });
    await waitUntil(async () => expect(((await user.get(Kinds.ConfigMap, 'a', 'sandpit-echoes')) as { data?: Record<string, string> })?.data?.enclave).toBe('echoes'));
    expect(reconciled.length).toBeGreaterThan(before);
  });

  it('knows an echo that arrives before its write\'s answer: it waits for the answer and reconciles nothing', async () => {
    const reconciled: string[] = [];
    const manager = testManager(cluster.kubeconfigPath);
    managers.push(manager);
    const controller = manager.add(enclaveController(enclaveReconciler((key) => reconciled.push(key))));
    await manager.start();
    await user.apply(enclave('early-echoes', ['a', 'b']));
    await waitUntil(async () => expect((await readyEnclave('early-echoes'))?.status?.phase).toBe('Ready'));
    await controller.whenIdle();
    await new Promise((resolve) => setTimeout(resolve, 300));
    // From here each answer to a write reaches the operator 150 ms after the server sent it, so
    // every echo comes in over the watch first: the order a busy operator often sees them in.
    const late = <T>(answer: Promise<T>): Promise<T> => answer.then((value) => new Promise((resolve) => setTimeout(() => resolve(value), 150)));
    for (const method of ['apply', 'delete', 'patchStatus'] as const) {
      const original = KubeClient.prototype[method] as (...args: unknown[]) => Promise<unknown>;
      vi.spyOn(KubeClient.prototype, method).mockImplementation(function (this: KubeClient, ...args: unknown[]) {
        return late(original.apply(this, args));
      } as never);
    }
    try {
      const before = reconciled.length;
      // One config map fewer: the reconcile prunes it and patches the status, and applies nothing
      // (so no follow-up); the deletion's and the status's echoes must reconcile nothing more.
      await user.apply(enclave('early-echoes', ['a']));
      await waitUntil(async () => expect((await readyEnclave('early-echoes'))?.status?.conditions?.[0]?.observedGeneration).toBe(2));
      await waitUntil(async () => expect(await user.get(Kinds.ConfigMap, 'b', 'sandpit-early-echoes')).toBeUndefined());
      await controller.whenIdle();
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(reconciled.slice(before)).toEqual(['early-echoes']);
    } finally {
      vi.restoreAllMocks();
    }
  });

  it('with childChanges "spec", a change confined to a child\'s status reconciles nothing; any other change does', async () => {
    const reconciled: string[] = [];
    const manager = testManager(cluster.kubeconfigPath);
    managers.push(manager);
    const controller = manager.add(enclaveController(enclaveReconciler((key) => reconciled.push(key)), { childChanges: 'spec' }));
    await manager.start();
    await user.apply(enclave('quiet', ['a'], ['data']));
    await waitUntil(async () => expect((await readyEnclave('quiet'))?.status?.phase).toBe('Ready'));
    await controller.whenIdle();
    await new Promise((resolve) => setTimeout(resolve, 300));
    const before = reconciled.length;
    const claim = (await user.get(Kinds.PersistentVolumeClaim, 'data', 'sandpit-quiet'))!;
    // What a volume controller does when it binds the claim: a merge patch of /status only.
    const raw = user.objects as unknown as { requestJson(method: string, path: string, query: object, what: string, body: { text: string; contentType: string }): Promise<unknown> };
    await raw.requestJson('PATCH', '/api/v1/namespaces/sandpit-quiet/persistentvolumeclaims/data/status', {}, 'bind claim', { text: JSON.stringify({ status: { phase: 'Bound' } }), contentType: 'application/merge-patch+json' });
    await waitUntil(() => expect(manager.cacheFor(Kinds.PersistentVolumeClaim).get('data', 'sandpit-quiet')?.metadata?.resourceVersion).not.toBe(claim.metadata?.resourceVersion));
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(reconciled.length).toBe(before);
    await user.apply({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a', namespace: 'sandpit-quiet', labels: { extra: 'x' } } } as KubernetesObject, { fieldManager: 'intruder', force: true });
    await waitUntil(() => expect(reconciled.length).toBeGreaterThan(before));
  });

  it('recreates a child that a user deletes (the child maps back to its owner)', async () => {
    await user.apply(enclave('imaging', ['settings']));
    const manager = await start();
    // The first reconcile ends with its Provisioned event.
    await waitUntil(() => expect(manager.client.requests.get('create')).toBe(1));
    const writes = manager.client.writes;
    await user.delete({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'settings', namespace: 'sandpit-imaging' } });
    await waitUntil(async () => expect(await user.get(Kinds.ConfigMap, 'settings', 'sandpit-imaging')).toBeDefined());
    expect(manager.client.writes).toBe(writes + 1);
  });

  it('puts back a field a user changed on a child (drift), and only that object', async () => {
    await user.apply(enclave('drift', ['settings', 'other']));
    const manager = await start();
    await waitUntil(async () => expect(await user.get(Kinds.ConfigMap, 'other', 'sandpit-drift')).toBeDefined());
    await waitUntil(() => expect(manager.client.requests.get('create')).toBe(1));
    const applies = manager.client.requests.get('apply') ?? 0;
    const live = (await user.get(Kinds.ConfigMap, 'settings', 'sandpit-drift')) as KubernetesObject & { data: Record<string, string> };
    await user.apply({ ...live, metadata: { name: 'settings', namespace: 'sandpit-drift', labels: live.metadata?.labels, annotations: live.metadata?.annotations }, data: { enclave: 'tampered' } } as KubernetesObject);
    await waitUntil(async () => expect(((await user.get(Kinds.ConfigMap, 'settings', 'sandpit-drift')) as typeof live).data.enclave).toBe('drift'));
    expect(manager.client.requests.get('apply')).toBe(applies + 1);
  });

  it('prunes children no longer rendered but never protected data volumes', async () => {
    await user.apply(enclave('prune-me', ['keep', 'drop'], ['home-alice']));
    const manager = await start();
    await waitUntil(async () => expect(await user.get(Kinds.ConfigMap, 'drop', 'sandpit-prune-me')).toBeDefined());
    const labels = { 'sde.london/enclave': 'prune-me' };
    await user.apply({ apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'dataset-omop', namespace: 'sandpit-prune-me', labels: { ...labels, [TEST_DATA_LABEL]: 'true' } }, spec: {} } as KubernetesObject);
    await user.apply({ apiVersion: 'v1', kind: 'PersistentVolume', metadata: { name: 'omop-cdm-v5', labels }, spec: {} } as KubernetesObject);
    await user.apply(enclave('prune-me', ['keep']));
    await waitUntil(async () => expect(await user.get(Kinds.ConfigMap, 'drop', 'sandpit-prune-me')).toBeUndefined());
    await waitUntil(async () => expect(await user.get(Kinds.PersistentVolumeClaim, 'home-alice', 'sandpit-prune-me')).toBeUndefined());
    expect(await user.get(Kinds.ConfigMap, 'keep', 'sandpit-prune-me')).toBeDefined();
    expect(await user.get(Kinds.PersistentVolumeClaim, 'dataset-omop', 'sandpit-prune-me')).toBeDefined();
    expect(await user.get(Kinds.PersistentVolume, 'omop-cdm-v5')).toBeDefined();
    expect(manager.client.requests.get('delete')).toBe(2);
  });

  it('never reconciles a key from a cache older than its own last write', async () => {
    // Watch events that lag 100 ms behind the answers to writes, as on a busy API server.
    const proxy = await startWatchProxy(cluster);
    proxies.push(proxy);
    proxy.latencyMs = 100;
    await user.apply(enclave('fresh', ['a', 'b', 'c']));
    const written = new Map<string, string>();
    const stale: string[] = [];
    let rounds = 0;
    const manager = await start(async (key, context) => {
      const object = context.primary();
      if (!object) return;
      for (const [name, version] of written) {
        const cached = name === 'sandpit-fresh' ? context.cache(Kinds.Namespace).get(name) : context.cache(Kinds.ConfigMap).get(name, 'sandpit-fresh');
        if (!cached || BigInt(cached.metadata?.resourceVersion ?? '0') < BigInt(version)) stale.push(name);
      }
      rounds += 1;
      const desired = [
        { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'sandpit-fresh' } },
        ...['a', 'b', 'c'].map((name) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'sandpit-fresh', labels: { round: String(rounds) } } })),
      ];
      const result = await context.apply(desired);
      for (const entry of result.written) written.set(entry.object.metadata?.name ?? '', entry.resourceVersion);
      return rounds < 5 ? { requeueAfter: 0 } : undefined;
    }, proxy.kubeconfigPath);
    await waitUntil(() => expect(rounds).toBe(5));
    expect(stale).toEqual([]);
    expect(manager.client.requests.get('apply')).toBe(16);
  });

  it('remembers a JSON patch like an apply: the next reconcile sees it, and its echo reconciles nothing', async () => {
    // Watch events 100 ms behind the answers: an untracked patch would be read back stale, made again, and its echo reconciled.
    const proxy = await startWatchProxy(cluster);
    proxies.push(proxy);
    proxy.latencyMs = 100;
    await user.apply(enclave('stopping', ['a']));
    const reconciled: string[] = [];
    const base = enclaveReconciler((key) => reconciled.push(key));
    const manager = await start(async (key, context) => {
      await base(key, context);
      const a = context.cache(Kinds.ConfigMap).get('a', 'sandpit-stopping') as { data?: Record<string, string> } | undefined;
      if (a && a.data?.stopped === undefined) await context.jsonPatch(Kinds.ConfigMap, 'a', [{ op: 'add', path: '/data/stopped', value: 'yes' }], 'sandpit-stopping');
    }, proxy.kubeconfigPath);
    await waitUntil(async () => expect(((await user.get(Kinds.ConfigMap, 'a', 'sandpit-stopping')) as { data?: Record<string, string> })?.data?.stopped).toBe('yes'));
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(manager.client.requests.get('patch')).toBe(1);
    expect(reconciled).toEqual(['stopping', 'stopping']);
  });

  it('reconciles the primaries a watched, non-owned object maps to, and shares one watch per kind', async () => {
    await user.apply(enclave('mapped', []));
    const reconciled: string[] = [];
    const manager = testManager(cluster.kubeconfigPath);
    managers.push(manager);
    manager.add(
      enclaveController(enclaveReconciler((key) => reconciled.push(key)), {
        watches: [{ type: Kinds.Secret, mapToKeys: (secret) => [secret.metadata?.labels?.['example.org/for-enclave'] ?? ''].filter(Boolean) }],
      }),
    );
    manager.add({ name: 'second', primary: Kinds.Secret, owns: [Kinds.ConfigMap], reconcile: async () => undefined });
    await manager.start();
    await waitUntil(() => expect(reconciled).toContain('mapped'));
    await waitUntil(() => expect(manager.client.requests.get('create')).toBe(1));
    const before = reconciled.length;
    await user.apply({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'mirror-credentials', namespace: 'sandpit-mapped', labels: { 'example.org/for-enclave': 'mapped' } } });
    await waitUntil(() => expect(reconciled.length).toBeGreaterThan(before));
    // Enclaves, Namespaces, NetworkPolicies, ConfigMaps, PVCs, PVs, Secrets: one list and watch each.
    expect(manager.client.requests.get('list')).toBe(7);
  });

  it('queues the keys a low-priority watch maps to behind keys queued by other changes', async () => {
    for (const name of ['busy', 'created', 'reported']) await user.apply(enclave(name, []));
    const reconciled: string[] = [];
    let release = (): void => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let holding = false;
    const inner = enclaveReconciler();
    const manager = testManager(cluster.kubeconfigPath);
    managers.push(manager);
    const controller = manager.add(
      enclaveController(
        async (key, context) => {
          reconciled.push(key);
          if (key === 'busy' && holding) await gate;
          return inner(key, context);
        },
        {
          concurrency: 1,
          watches: [{ type: Kinds.Secret, priority: 'low', mapToKeys: (secret) => [secret.metadata?.labels?.['example.org/for-enclave'] ?? ''].filter(Boolean) }],
        },
      ),
    );
    await manager.start();
    await waitUntil(async () => expect((await readyEnclave('reported'))?.status?.phase).toBe('Ready'));
    await controller.whenIdle();
    holding = true;
    const touch = (name: string) => user.apply({ ...enclave(name, []), metadata: { name, annotations: { touched: String(Date.now()) } } });
    await touch('busy');
    await waitUntil(() => expect(reconciled.at(-1)).toBe('busy'));
    // While 'busy' holds the only worker: a low-priority change for 'reported', then a change of 'created'.
    await user.apply({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'progress', namespace: 'sandpit-reported', labels: { 'example.org/for-enclave': 'reported' } } });
    await waitUntil(() => expect(controller.depth).toBe(1));
    await touch('created');
    await waitUntil(() => expect(controller.depth).toBe(2));
    const from = reconciled.length;
    release();
    await waitUntil(() => expect(reconciled.slice(from)).toEqual(expect.arrayContaining(['created', 'reported'])));
    expect(reconciled.slice(from).filter((key) => key !== 'busy').slice(0, 2)).toEqual(['created', 'reported']);
  });

  it('with followUps high, observes what a reconcile wrote before starting the keys waiting behind it', async () => {
    const order = async (names: [string, string], followUps?: 'high'): Promise<string[]> => {
      for (const name of names) await user.apply(enclave(name, []));
      const reconciled: string[] = [];
      const inner = enclaveReconciler();
      const manager = testManager(cluster.kubeconfigPath);
      managers.push(manager);
      const controller = manager.add(enclaveController(async (key, context) => {
        reconciled.push(key);
        return inner(key, context);
      }, { concurrency: 1, ...(followUps ? { followUps } : {}) }));
      await manager.start();
      await waitUntil(async () => expect((await readyEnclave(names[1]))?.status?.phase).toBe('Ready'));
      await controller.whenIdle();
      await manager.stop();
      return reconciled.filter((key) => names.includes(key));
    };
    // Both keys wait at the start, in order; the first one's apply writes, and its follow-up goes first.
    expect((await order(['a-first', 'b-second'], 'high')).slice(0, 3)).toEqual(['a-first', 'a-first', 'b-second']);
    // By default it waits its turn.
    expect((await order(['c-first', 'd-second'])).slice(0, 3)).toEqual(['c-first', 'd-second', 'c-first']);
  });

  it('serves a labelled type that is a view of a broader one from that one\'s watch', async () => {
    const everyone = Kinds.Secret;
    const ours = { ...Kinds.Secret, labelSelector: 'example.org/ours=yes', viewOf: everyone };
    const manager = testManager(cluster.kubeconfigPath);
    managers.push(manager);
    const seen: string[] = [];
    manager.add({ name: 'views', primary: ours, reconcile: async (key) => void seen.push(key) });
    await manager.start();
    await user.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'sandpit-v' } });
    await user.apply({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'theirs', namespace: 'sandpit-v' } });
    await user.apply({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'ours', namespace: 'sandpit-v', labels: { 'example.org/ours': 'yes' } } });
    await waitUntil(() => expect(manager.cacheFor(everyone).get('ours', 'sandpit-v')).toBeDefined());
    await waitUntil(() => expect(seen).toContain('sandpit-v/ours'));
    expect(seen).not.toContain('sandpit-v/theirs');
    expect(manager.cacheFor(ours).list().map((o) => o.metadata?.name)).toEqual(['ours']);
    expect(manager.cacheFor(ours)).toBe(manager.cacheFor(ours));
    // One list (and watch) of Secrets serves both types.
    expect(manager.client.requests.get('list')).toBe(1);
    expect(manager.client.requests.get('watch')).toBe(1);
  });

  it('records a TerminalError once, counts it, and does not retry', async () => {
    await user.apply(enclave('invalid', []));
    let calls = 0;
    const manager = await start(async () => {
      calls += 1;
      throw new TerminalError('InvalidSpec', 'spec.resources.gpus: expected at most 8, found 12');
    });
    await waitUntil(() => expect(calls).toBe(1));
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(calls).toBe(1);
    const metrics = await manager.metrics.registry.getSingleMetricAsString('sde_reconcile_total');
    expect(metrics).toContain('sde_reconcile_total{controller="enclave",result="terminal"} 1');
  });

  it('wakes a key when its reconcile asked to, even though that reconcile then failed and its retry is far off', async () => {
    await user.apply(enclave('deadline', []));
    const calls: number[] = [];
    const manager = testManager(cluster.kubeconfigPath);
    managers.push(manager);
    manager.add(enclaveController(async (_key, context) => {
      calls.push(performance.now());
      if (calls.length === 1) context.wakeAfter(300);
      throw new Error('expected the apply to succeed, but the API server answered 422');
    }, { backoff: { baseMs: 60_000, maxMs: 60_000, jitter: 0 } }));
    await manager.start();
    await waitUntil(() => expect(calls).toHaveLength(2));
    expect(calls[1]! - calls[0]!).toBeGreaterThanOrEqual(290);
  });

  it('serves /healthz, /readyz after sync and /metrics, and opens and closes an added listener with them', async () => {
    await user.apply(enclave('observed', ['settings']));
    const manager = testManager(cluster.kubeconfigPath);
    managers.push(manager);
    manager.add(enclaveController(enclaveReconciler()));
    // A listener of its own, as the data use register has: it serves what the cache holds.
    let server: Server | undefined;
    manager.addListener('listing', {
      listen: () => {
        server = createServer((_request, response) => response.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ enclaves: manager.cacheFor(TestKinds.Enclave).size })));
        return listenOn(server, 0, '127.0.0.1');
      },
      close: () => closeServer(server),
    });
    manager.metrics.enclavesExpiring.set(3);
    await manager.start();
    const base = `http://127.0.0.1:${manager.port}`;
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
    expect(await (await fetch(`http://127.0.0.1:${manager.portOf('listing')}/`)).json()).toEqual({ enclaves: 1 });
    await waitUntil(async () => expect(await (await fetch(`${base}/metrics`)).text()).toMatch(/sde_reconcile_total\{controller="enclave",result="success"\} [1-9]/));
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toContain('sde_reconcile_duration_seconds_bucket');
    expect(metrics).toContain('sde_workqueue_depth{controller="enclave"} 0');
    expect(metrics).toContain('sde_objects_managed{kind="ConfigMap"} 1');
    expect(metrics).toContain('sde_enclaves_expiring 3');
    expect(metrics).toContain('sde_watch_events_total');
    expect((await fetch(`${base}/nope`)).status).toBe(404);
    await manager.stop();
    expect(server?.listening).toBe(false);
  });

  it('is not ready until every cache has synced (here: until the CRD exists)', async () => {
    const FederatedJob = resourceType('runtime.test.sde.london/v1alpha1', 'FederatedJob', 'federatedjobs', true);
    const manager = testManager(cluster.kubeconfigPath);
    managers.push(manager);
    manager.add({ name: 'federatedjob', primary: FederatedJob, reconcile: async () => undefined });
    const starting = manager.start();
    await waitUntil(() => expect(manager.port).toBeDefined());
    const base = `http://127.0.0.1:${manager.port}`;
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    const notReady = await fetch(`${base}/readyz`);
    expect(notReady.status).toBe(503);
    expect(await notReady.text()).toContain('cache federatedjobs not synced');
    await user.apply({
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      metadata: { name: 'federatedjobs.runtime.test.sde.london' },
      spec: {
        group: 'runtime.test.sde.london',
        scope: 'Namespaced',
        names: { kind: 'FederatedJob', plural: 'federatedjobs', singular: 'federatedjob', listKind: 'FederatedJobList' },
        versions: [{ name: 'v1alpha1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } } }],
      },
    } as KubernetesObject);
    await starting;
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
  });

  it('aggregates repeated events into one Event with a count', async () => {
    await user.apply(enclave('events', []));
    const manager = await start(async () => undefined);
    const object = await user.get(TestKinds.Enclave, 'events');
    for (let i = 0; i < 5; i += 1) await manager.events.record(object!, { type: 'Warning', reason: 'QuotaExceeded', message: 'gpus 12 > 8' });
    const page = await user.list(Kinds.Event, { namespace: 'default' });
    expect(page.items).toHaveLength(1);
    expect(page.items[0]).toMatchObject({ reason: 'QuotaExceeded', type: 'Warning', count: 1, reportingComponent: TEST_FIELD_MANAGER, involvedObject: { kind: 'Enclave', name: 'events' } });
    expect(manager.client.requests.get('create')).toBe(1);
    expect(manager.client.requests.get('patch') ?? 0).toBe(0);
  });

  it('finishes an in-flight reconcile before stopping', async () => {
    await user.apply(enclave('slow', []));
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let finished = false;
    const manager = await start(async () => {
      await gate;
      finished = true;
    });
    await waitUntil(() => expect(manager.readiness().ready).toBe(true));
    let stopped = false;
    const stopping = manager.stop().then(() => (stopped = true));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(stopped).toBe(false);
    release();
    await stopping;
    expect(finished).toBe(true);
  });
});
