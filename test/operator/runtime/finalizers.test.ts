import type { KubernetesObject } from '@kubernetes/client-node';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { addFinalizer, isDeleting, removeFinalizer } from '../../../operator/runtime/finalizers.ts';
import type { KubeClient } from '../../../operator/runtime/kube.ts';
import type { Manager } from '../../../operator/runtime/manager.ts';
import { enclave, enclaveController, startTestCluster, testManager, TestKinds, userClient, type TestCluster } from './harness.ts';

const CLEANUP_FINALIZER = 'runtime.test.sde.london/cleanup';

const waitUntil = (assertion: () => void | Promise<void>): Promise<void> => vi.waitFor(assertion, { timeout: 10_000, interval: 25 });

describe('finalizers over HTTP', () => {
  let cluster: TestCluster;
  let user: KubeClient;
  let managers: Manager[];

  beforeEach(async () => {
    cluster = await startTestCluster();
    user = userClient(cluster.kubeconfigPath);
    managers = [];
  });

  afterEach(async () => {
    await Promise.all(managers.map((manager) => manager.stop()));
    await cluster.stop();
  });

  it('holds a deleted enclave until cleanup ran, and removes only its own finalizer', async () => {
    const cleanedUp: string[] = [];
    const manager = testManager(cluster.kubeconfigPath);
    managers.push(manager);
    manager.add(
      enclaveController(async (key, context) => {
        const object = context.primary();
        if (!object) return;
        if (isDeleting(object)) {
          cleanedUp.push(key);
          await context.removeFinalizer(CLEANUP_FINALIZER);
          return;
        }
        await context.addFinalizer(CLEANUP_FINALIZER);
      }),
    );
    await manager.start();
    await user.apply(enclave('with-cleanup', []));
    await waitUntil(async () => expect((await user.get(TestKinds.Enclave, 'with-cleanup'))?.metadata?.finalizers).toEqual([CLEANUP_FINALIZER]));
    const live = (await user.get(TestKinds.Enclave, 'with-cleanup'))!;
    await user.jsonPatch(TestKinds.Enclave, 'with-cleanup', undefined, [{ op: 'add', path: '/metadata/finalizers/-', value: 'example.org/backup' }]);
    await user.delete(live);
    await waitUntil(async () => expect((await user.get(TestKinds.Enclave, 'with-cleanup'))?.metadata?.finalizers).toEqual(['example.org/backup']));
    expect(cleanedUp).toContain('with-cleanup');
    await user.jsonPatch(TestKinds.Enclave, 'with-cleanup', undefined, [{ op: 'remove', path: '/metadata/finalizers/0' }]);
    await waitUntil(async () => expect(await user.get(TestKinds.Enclave, 'with-cleanup')).toBeUndefined());
  });

  it('refuses to add or remove on a stale view of the finalizer list', async () => {
    const stored = await user.apply(enclave('contested', []));
    await user.jsonPatch(TestKinds.Enclave, 'contested', undefined, [{ op: 'add', path: '/metadata/finalizers', value: ['example.org/other'] }]);
    const stale: KubernetesObject = { ...stored, metadata: { ...stored.metadata, finalizers: [] } };
    await expect(addFinalizer(user, TestKinds.Enclave, stale, CLEANUP_FINALIZER)).rejects.toThrow();
    const staleWithOurs: KubernetesObject = { ...stored, metadata: { ...stored.metadata, finalizers: [CLEANUP_FINALIZER] } };
    await expect(removeFinalizer(user, TestKinds.Enclave, staleWithOurs, CLEANUP_FINALIZER)).rejects.toThrow();
    expect((await user.get(TestKinds.Enclave, 'contested'))?.metadata?.finalizers).toEqual(['example.org/other']);
  });
});
