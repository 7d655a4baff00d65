// Claims and volumes in use are protected as on a 1.23 cluster (checked there): both carry their
// protection finalizer, a claim deleted while a running pod uses it stays Terminating until the
// pod is gone, and a bound volume deleted stays until its claim is gone.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createStore } from '../../devcluster/create-store.ts';
import { startSimulation, type Simulation } from '../../devcluster/sim/index.ts';
import { BUILTINS } from '../../devcluster/store/builtins.ts';
import type { ClusterStore } from '../../devcluster/store/cluster-store.ts';

const NS = 'default';

describe('storage object in use protection', () => {
  let store: ClusterStore;
  let sim: Simulation;
  const claim = () => store.get(BUILTINS.persistentvolumeclaims, NS, 'home');

  beforeEach(async () => {
    store = createStore().store;
    sim = startSimulation(store, { onError: (c, k, e) => { throw new Error(`${c} ${k}: ${String(e)}`); } });
    store.create(BUILTINS.persistentvolumeclaims, {
      apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'home', namespace: NS },
      spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
    });
    store.create(BUILTINS.pods, {
      apiVersion: 'v1', kind: 'Pod', metadata: { name: 'user', namespace: NS },
      spec: { containers: [{ name: 'c', image: 'busybox:1.36' }], volumes: [{ name: 'h', persistentVolumeClaim: { claimName: 'home' } }] },
    });
    await vi.waitFor(() => expect(store.get(BUILTINS.pods, NS, 'user')?.status).toMatchObject({ phase: 'Running' }));
  });
  afterEach(async () => {
    await sim.stop();
  });

  it('keeps a claim a running pod uses Terminating until the pod is deleted', async () => {
    expect(claim()?.metadata.finalizers).toEqual(['kubernetes.io/pvc-protection']);
    store.delete(BUILTINS.persistentvolumeclaims, NS, 'home');
    await new Promise((r) => setTimeout(r, 50));
    expect(claim()?.metadata.deletionTimestamp).toEqual(expect.any(String));
    store.delete(BUILTINS.pods, NS, 'user');
    await vi.waitFor(() => expect(claim()).toBeUndefined());
  });

  it('keeps a bound volume until its claim is gone, then reclaims it', async () => {
    const volumeName = (claim()?.spec as { volumeName: string }).volumeName;
    const volume = () => store.get(BUILTINS.persistentvolumes, undefined, volumeName);
    expect(volume()?.metadata.finalizers).toEqual(['kubernetes.io/pv-protection']);
    store.delete(BUILTINS.persistentvolumes, undefined, volumeName);
    await new Promise((r) => setTimeout(r, 50));
    expect(volume()?.metadata.deletionTimestamp).toEqual(expect.any(String));
    store.delete(BUILTINS.pods, NS, 'user');
    store.delete(BUILTINS.persistentvolumeclaims, NS, 'home');
    await vi.waitFor(() => expect(volume()).toBeUndefined());
  });
});
