// A pre-bound PersistentVolume (claimRef naming a claim, without uid), as a dataset volume is
// rendered, under the simulated PV controller, as a 1.23 cluster handles it (checked there):
// binding writes uid and resourceVersion and takes claimRef whole; re-applying claimRef without
// the uid conflicts, and forced it unbinds for good: the claim is Lost (ClaimMisbound).
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createStore } from '../../devcluster/create-store.ts';
import type { SemanticsFor } from '../../devcluster/patch/managed-fields.ts';
import { serverSideApply } from '../../devcluster/patch/server-side-apply.ts';
import { startSimulation, type Simulation } from '../../devcluster/sim/index.ts';
import { BUILTINS } from '../../devcluster/store/builtins.ts';
import type { ClusterStore } from '../../devcluster/store/cluster-store.ts';
import type { KubeObject } from '../../devcluster/store/types.ts';
import { apiError } from './api-error.ts';

const NS = 'sde-a';

const volume = {
  apiVersion: 'v1', kind: 'PersistentVolume', metadata: { name: 'sde-a.curated' },
  spec: {
    accessModes: ['ReadOnlyMany'], capacity: { storage: '2Ti' }, storageClassName: '', volumeMode: 'Filesystem', persistentVolumeReclaimPolicy: 'Retain',
    claimRef: { apiVersion: 'v1', kind: 'PersistentVolumeClaim', namespace: NS, name: 'data-curated' },
    nfs: { server: 'datalake.example', path: '/curated', readOnly: true },
  },
};

const claim = {
  apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'data-curated' },
  spec: { accessModes: ['ReadOnlyMany'], resources: { requests: { storage: '2Ti' } }, storageClassName: '', volumeName: 'sde-a.curated' },
};

describe('a pre-bound PersistentVolume under the PV controller', () => {
  let store: ClusterStore;
  let semanticsFor: SemanticsFor;
  let sim: Simulation;
  const pv = () => store.get(BUILTINS.persistentvolumes, undefined, 'sde-a.curated');
  const pvc = () => store.get(BUILTINS.persistentvolumeclaims, NS, 'data-curated');
  const phase = (o: KubeObject | undefined) => (o?.status as { phase?: string } | undefined)?.phase;
  const apply = (obj: Record<string, unknown>, force = false) =>
    serverSideApply(store, semanticsFor, obj.kind === 'PersistentVolume' ? BUILTINS.persistentvolumes : BUILTINS.persistentvolumeclaims,
      obj.kind === 'PersistentVolume' ? undefined : NS, (obj.metadata as { name: string }).name, obj, { fieldManager: 'sde-operator', force });

  beforeEach(async () => {
    ({ store, semanticsFor } = createStore());
    store.create(BUILTINS.namespaces, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
    sim = startSimulation(store, { onError: (c, k, e) => { throw new Error(`${c} ${k}: ${String(e)}`); } });
    apply(volume);
    apply(claim);
    await vi.waitFor(() => expect(phase(pvc())).toBe('Bound'));
  });
  afterEach(async () => {
    await sim.stop();
  });

  it("binds it by writing the claim's uid and resourceVersion, taking claimRef from the applier whole", () => {
    const ref = (pv()?.spec as { claimRef: Record<string, unknown> }).claimRef;
    expect(ref).toMatchObject({ ...volume.spec.claimRef, uid: pvc()?.metadata.uid });
    expect(ref.resourceVersion).toEqual(expect.any(String));
    expect(pv()?.metadata.annotations?.['pv.kubernetes.io/bound-by-controller']).toBeUndefined();
    const entries = pv()?.metadata.managedFields as { manager: string; subresource?: string; fieldsV1: { 'f:spec'?: Record<string, unknown> } }[];
    expect(entries.find((e) => e.manager === 'sde-operator')?.fieldsV1['f:spec']?.['f:claimRef']).toBeUndefined();
    expect(entries.find((e) => e.manager === 'kube-controller-manager' && e.subresource === undefined)?.fieldsV1).toEqual({ 'f:spec': { 'f:claimRef': {} } });
  });

  it('refuses a re-apply of claimRef without the uid, and forced, loses the claim for good with ClaimMisbound', async () => {
    expect(apiError(() => apply(volume)).message).toBe('Apply failed with 1 conflict: conflict with "kube-controller-manager" using v1: .spec.claimRef');
    apply(volume, true);
    await vi.waitFor(() => expect(phase(pvc())).toBe('Lost'));
    await vi.waitFor(() => expect(phase(pv())).toBe('Available'));
    const events = store.list(BUILTINS.events, { namespace: NS }).items.filter((e) => e.reason === 'ClaimMisbound');
    expect(events.map((e) => [e.type, e.message, (e.involvedObject as { name: string }).name])).toEqual([
      ['Warning', 'Two claims are bound to the same volume, this one is bound incorrectly', 'data-curated'],
    ]);
    await new Promise((r) => setTimeout(r, 100));
    expect(phase(pvc())).toBe('Lost');
    expect((pv()?.spec as { claimRef: { uid?: string } }).claimRef.uid).toBeUndefined();
  });
});
