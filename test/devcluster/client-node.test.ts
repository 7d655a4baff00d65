// The real client library against the devcluster over HTTP: a kubeconfig it loads as written,
// informers that survive dropped watches and relist after 410 Gone, server-side apply conflicts
// and force, the status subresource of a custom resource, and GPU quota enforcement.
import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDevCluster } from '../../devcluster/index.ts';
import type { DevCluster } from '../../devcluster/index.ts';

let dc: DevCluster;
let kc: k8s.KubeConfig;

beforeAll(async () => {
  dc = await startDevCluster({ simulate: false });
  kc = new k8s.KubeConfig();
  kc.loadFromFile(dc.kubeconfigPath);
});

afterAll(async () => {
  await dc.stop();
});

async function eventually(check: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function configMap(name: string, value = 'v'): k8s.V1ConfigMap {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'default' }, data: { k: value } };
}

describe('@kubernetes/client-node', () => {
  it('loads the written kubeconfig and talks plain HTTP to the devcluster', async () => {
    expect(kc.getCurrentCluster()?.server).toBe(dc.url);
    const version = await kc.makeApiClient(k8s.VersionApi).getCode();
    expect(version.gitVersion).toMatch(/^v1\.32\./);
  });

  it('keeps an informer current across dropped watches and a 410 Gone relist', async () => {
    const core = kc.makeApiClient(k8s.CoreV1Api);
    const informer = k8s.makeInformer(kc, '/api/v1/namespaces/default/configmaps', () => core.listNamespacedConfigMap({ namespace: 'default' }));
    const seen = new Set<string>();
    informer.on('add', (o) => seen.add(o.metadata?.name ?? ''));
    informer.on('update', (o) => seen.add(`${o.metadata?.name ?? ''}=${o.data?.k ?? ''}`));
    await informer.start();
    try {
      await core.createNamespacedConfigMap({ namespace: 'default', body: configMap('before') });
      await eventually(() => seen.has('before'), 'the first ADDED event');
      await eventually(() => dc.faults.openWatches() > 0, 'the informer watch');
      dc.faults.dropWatches();
      await core.createNamespacedConfigMap({ namespace: 'default', body: configMap('during-reconnect') });
      await eventually(() => seen.has('during-reconnect'), 'an object created while the watch was down');
      await eventually(() => dc.faults.openWatches() > 0, 'the re-established watch');
      dc.faults.forceGone();
      dc.faults.dropWatches();
      await core.replaceNamespacedConfigMap({ name: 'before', namespace: 'default', body: configMap('before', 'changed') });
      await eventually(() => seen.has('before=changed'), 'the change seen after relisting');
    } finally {
      await informer.stop();
    }
  });

  it('reports a server-side apply conflict with the other manager, and force takes the field', async () => {
    const objects = k8s.KubernetesObjectApi.makeApiClient(kc);
    const deployment = (replicas: number): k8s.KubernetesObject & Record<string, unknown> => ({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'workspace', namespace: 'default' },
      spec: { replicas, selector: { matchLabels: { app: 'ws' } }, template: { metadata: { labels: { app: 'ws' } }, spec: { containers: [{ name: 'jupyter', image: 'jupyter:1' }] } } },
    });
    const first = await objects.patch(deployment(1), undefined, undefined, 'sde-operator', false, k8s.PatchStrategy.ServerSideApply);
    const again = await objects.patch(deployment(1), undefined, undefined, 'sde-operator', false, k8s.PatchStrategy.ServerSideApply);
    expect(again.metadata?.resourceVersion).toBe(first.metadata?.resourceVersion);
    const conflict = await objects.patch(deployment(2), undefined, undefined, 'someone-else', false, k8s.PatchStrategy.ServerSideApply).catch((e: unknown) => e);
    expect(conflict).toBeInstanceOf(k8s.ApiException);
    const err = conflict as k8s.ApiException<string>;
    expect(err.code).toBe(409);
    expect(String(err.body)).toContain('conflict with \\"sde-operator\\"');
    const forced = await objects.patch(deployment(2), undefined, undefined, 'someone-else', true, k8s.PatchStrategy.ServerSideApply);
    expect((forced as unknown as { spec: { replicas: number } }).spec.replicas).toBe(2);
  });

  it('writes a custom resource status only through /status', async () => {
    const ext = kc.makeApiClient(k8s.ApiextensionsV1Api);
    await ext.createCustomResourceDefinition({
      body: {
        metadata: { name: 'probes.example.com' },
        spec: {
          group: 'example.com',
          scope: 'Namespaced',
          names: { plural: 'probes', singular: 'probe', kind: 'Probe' },
          versions: [{ name: 'v1', served: true, storage: true, subresources: { status: {} }, schema: { openAPIV3Schema: { type: 'object', properties: { spec: { type: 'object', properties: { target: { type: 'string' } } }, status: { type: 'object', properties: { phase: { type: 'string' } } } } } } }],
        },
      },
    });
    const custom = kc.makeApiClient(k8s.CustomObjectsApi);
    const ref = { group: 'example.com', version: 'v1', namespace: 'default', plural: 'probes' };
    await custom.createNamespacedCustomObject({ ...ref, body: { apiVersion: 'example.com/v1', kind: 'Probe', metadata: { name: 'p' }, spec: { target: 'a' }, status: { phase: 'Ignored' } } });
    const merge = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch);
    await custom.patchNamespacedCustomObject({ ...ref, name: 'p', body: { spec: { target: 'b' }, status: { phase: 'StillIgnored' } } }, merge);
    const withStatus = (await custom.patchNamespacedCustomObjectStatus({ ...ref, name: 'p', body: { spec: { target: 'c' }, status: { phase: 'Ready' } } }, merge)) as { spec: { target: string }; status: { phase: string }; metadata: { generation: number } };
    expect(withStatus.spec.target).toBe('b');
    expect(withStatus.status.phase).toBe('Ready');
    expect(withStatus.metadata.generation).toBe(2);
    const apply = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.ServerSideApply);
    const applied = (await custom.patchNamespacedCustomObjectStatus(
      { ...ref, name: 'p', body: { apiVersion: 'example.com/v1', kind: 'Probe', metadata: { name: 'p', labels: { ignored: 'yes' } }, status: { phase: 'Applied' } }, fieldManager: 'sde-operator', force: true },
      apply,
    )) as { status: { phase: string }; metadata: { labels?: Record<string, string>; generation: number } };
    expect(applied.status.phase).toBe('Applied');
    expect(applied.metadata.labels).toBeUndefined();
    expect(applied.metadata.generation).toBe(2);
  });

  it('refuses the fifth one-GPU pod in a namespace whose GPU quota is 4', async () => {
    const core = kc.makeApiClient(k8s.CoreV1Api);
    await core.createNamespace({ body: { metadata: { name: 'sde-quota' } } });
    await core.createNamespacedResourceQuota({ namespace: 'sde-quota', body: { metadata: { name: 'enclave-quota' }, spec: { hard: { 'requests.nvidia.com/gpu': '4' } } } });
    const gpuPod = (i: number): k8s.V1Pod => ({ metadata: { name: `train-${i}` }, spec: { containers: [{ name: 'train', image: 'pytorch', resources: { limits: { 'nvidia.com/gpu': '1' } } }] } });
    for (let i = 0; i < 4; i += 1) await core.createNamespacedPod({ namespace: 'sde-quota', body: gpuPod(i) });
    const refused = await core.createNamespacedPod({ namespace: 'sde-quota', body: gpuPod(4) }).catch((e: unknown) => e as k8s.ApiException<string>);
    expect(refused).toBeInstanceOf(k8s.ApiException);
    expect((refused as k8s.ApiException<string>).code).toBe(403);
    expect(String((refused as k8s.ApiException<string>).body)).toContain('exceeded quota: enclave-quota, requested: requests.nvidia.com/gpu=1, used: requests.nvidia.com/gpu=4, limited: requests.nvidia.com/gpu=4');
  });
});
