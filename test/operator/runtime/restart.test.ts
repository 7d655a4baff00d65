import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { startDevCluster, type DevCluster } from '../../../devcluster/index.ts';
import type { Manager } from '../../../operator/runtime/manager.ts';
import { Kinds } from '../../../operator/runtime/resources.ts';
import { enclave, enclaveController, enclaveReconciler, installTestCrds, testManager, TestKinds, userClient } from './harness.ts';

const waitUntil = (assertion: () => void | Promise<void>): Promise<void> => vi.waitFor(assertion, { timeout: 15_000, interval: 50 });

describe('API server restart', () => {
  const cleanups: Array<() => Promise<void> | void> = [];

  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it('the operator rides out an API server restart and reconciles what changed meanwhile', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'sde-runtime-restart-'));
    cleanups.push(() => rmSync(directory, { recursive: true, force: true }));
    const dataFile = join(directory, 'cluster.json');
    const kubeconfigPath = join(directory, 'kubeconfig');
    let cluster: DevCluster = await startDevCluster({ simulate: false, dataFile, kubeconfigPath });
    cleanups.push(() => cluster.stop());
    await installTestCrds(kubeconfigPath);
    const user = userClient(kubeconfigPath);
    await user.apply(enclave('before', ['settings']));
    const manager: Manager = testManager(kubeconfigPath, { watch: { backoff: { baseMs: 50, maxMs: 500 }, resyncMs: 0, watchdogMs: 5_000 } });
    cleanups.push(() => manager.stop());
    manager.add(enclaveController(enclaveReconciler()));
    await manager.start();
    await waitUntil(async () => expect(await user.get(Kinds.ConfigMap, 'settings', 'sandpit-before')).toBeDefined());

    const { port } = cluster;
    await cluster.stop();
    await new Promise((resolve) => setTimeout(resolve, 300));
    cluster = await startDevCluster({ simulate: false, dataFile, kubeconfigPath, port });

    await user.apply(enclave('after', ['settings']));
    await waitUntil(async () => expect(await user.get(Kinds.ConfigMap, 'settings', 'sandpit-after')).toBeDefined());
    await user.delete({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'settings', namespace: 'sandpit-before' } });
    await waitUntil(async () => expect(await user.get(Kinds.ConfigMap, 'settings', 'sandpit-before')).toBeDefined());
    expect(manager.readiness().ready).toBe(true);
    expect(manager.cacheFor(TestKinds.Enclave).size).toBe(2);
  });
});
