// Field ownership of built-in kinds as a 1.23 API server keeps it (each case checked there with
// `kubectl apply --server-side` and `--show-managed-fields`): atomic structs and maps are owned
// and replaced whole, port keys carry their default protocol, empty keyed lists own nothing.
import { describe, expect, it } from 'vitest';
import { createStore } from '../../devcluster/create-store.ts';
import { serverSideApply } from '../../devcluster/patch/server-side-apply.ts';
import { BUILTINS } from '../../devcluster/store/builtins.ts';
import type { KubeObject } from '../../devcluster/store/types.ts';
import { apiError } from './api-error.ts';

type Entry = { manager: string; operation: string; fieldsV1: Record<string, Record<string, unknown>> };

function entries(obj: KubeObject): Entry[] {
  return obj.metadata.managedFields as Entry[];
}

function fieldsOf(obj: KubeObject, manager: string): Record<string, Record<string, unknown>> | undefined {
  return entries(obj).find((e) => e.manager === manager)?.fieldsV1;
}

const preBoundVolume = {
  apiVersion: 'v1',
  kind: 'PersistentVolume',
  metadata: { name: 'dataset' },
  spec: {
    accessModes: ['ReadOnlyMany'],
    capacity: { storage: '1Ti' },
    claimRef: { apiVersion: 'v1', kind: 'PersistentVolumeClaim', namespace: 'sde-a', name: 'data' },
    nfs: { server: 'nfs.example', path: '/curated' },
  },
};

describe('field ownership of built-in kinds', () => {
  it("gives a PersistentVolume's whole claimRef to the binder that writes its uid, so a forced re-apply unbinds", () => {
    const { store, semanticsFor } = createStore();
    const rt = BUILTINS.persistentvolumes;
    const applied = serverSideApply(store, semanticsFor, rt, undefined, 'dataset', preBoundVolume, { fieldManager: 'sde-operator' }).object;
    expect(fieldsOf(applied, 'sde-operator')?.['f:spec']?.['f:claimRef']).toEqual({});
    const spec = applied.spec as { claimRef: Record<string, unknown> };
    const bound = store.update(rt, { ...applied, spec: { ...spec, claimRef: { ...spec.claimRef, uid: 'claim-uid', resourceVersion: '7' } } }, { fieldManager: 'kube-controller-manager' });
    expect(fieldsOf(bound, 'sde-operator')?.['f:spec']?.['f:claimRef']).toBeUndefined();
    expect(fieldsOf(bound, 'kube-controller-manager')).toEqual({ 'f:spec': { 'f:claimRef': {} } });

    const err = apiError(() => serverSideApply(store, semanticsFor, rt, undefined, 'dataset', preBoundVolume, { fieldManager: 'sde-operator' }));
    expect(err.message).toBe('Apply failed with 1 conflict: conflict with "kube-controller-manager" using v1: .spec.claimRef');
    const forced = serverSideApply(store, semanticsFor, rt, undefined, 'dataset', preBoundVolume, { fieldManager: 'sde-operator', force: true }).object;
    expect((forced.spec as typeof spec).claimRef).toEqual(preBoundVolume.spec.claimRef);
    expect(entries(forced).map((e) => e.manager)).toEqual(['sde-operator']);
  });

  it('owns selectors whole: another applier of a different selector conflicts, and force replaces it', () => {
    const { store, semanticsFor } = createStore();
    const rt = BUILTINS.services;
    const service = (selector: Record<string, string>): Record<string, unknown> => ({
      apiVersion: 'v1', kind: 'Service', metadata: { name: 'web' }, spec: { selector, ports: [{ port: 80 }] },
    });
    const first = serverSideApply(store, semanticsFor, rt, 'default', 'web', service({ a: '1' }), { fieldManager: 'm1' }).object;
    expect(fieldsOf(first, 'm1')?.['f:spec']?.['f:selector']).toEqual({});
    const err = apiError(() => serverSideApply(store, semanticsFor, rt, 'default', 'web', { ...service({ b: '2' }), spec: { selector: { b: '2' } } }, { fieldManager: 'm2' }));
    expect(err.message).toBe('Apply failed with 1 conflict: conflict with "m1": .spec.selector');
    const forced = serverSideApply(store, semanticsFor, rt, 'default', 'web', { ...service({ b: '2' }), spec: { selector: { b: '2' } } }, { fieldManager: 'm2', force: true }).object;
    expect((forced.spec as { selector: unknown }).selector).toEqual({ b: '2' });
  });

  it('keys a port without protocol as TCP, so applying it again finds the same port', () => {
    const { store, semanticsFor } = createStore();
    const rt = BUILTINS.services;
    const config = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web' }, spec: { ports: [{ port: 80 }] } };
    const first = serverSideApply(store, semanticsFor, rt, 'default', 'web', config, { fieldManager: 'm1' }).object;
    expect(Object.keys(fieldsOf(first, 'm1')?.['f:spec']?.['f:ports'] as object)).toEqual(['k:{"port":80,"protocol":"TCP"}']);
    const again = serverSideApply(store, semanticsFor, rt, 'default', 'web', config, { fieldManager: 'm1' }).object;
    expect((again.spec as { ports: unknown[] }).ports).toHaveLength(1);
  });

  it('lists Apply entries before Update entries, as the real server orders managedFields', () => {
    const { store, semanticsFor } = createStore();
    const rt = BUILTINS.configmaps;
    store.create(rt, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', namespace: 'default' }, data: { a: '1' } }, { fieldManager: 'zz-updater' });
    const applied = serverSideApply(store, semanticsFor, rt, 'default', 'c', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' }, data: { b: '2' } }, { fieldManager: 'aa-applier' }).object;
    expect(entries(applied).map((e) => `${e.manager} ${e.operation}`)).toEqual(['aa-applier Apply', 'zz-updater Update']);
  });

  it("owns a Job's status conditions whole (an atomic list in batch/v1)", () => {
    const { store } = createStore();
    const job = store.create(BUILTINS.jobs, {
      apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'j', namespace: 'default' },
      spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox:1.36' }] } } },
    });
    const done = store.update(BUILTINS.jobs, { ...job, status: { succeeded: 1, conditions: [{ type: 'Complete', status: 'True' }] } }, { subresource: 'status', fieldManager: 'kube-controller-manager' });
    expect(fieldsOf(done, 'kube-controller-manager')).toEqual({ 'f:status': { 'f:conditions': {}, 'f:succeeded': {} } });
  });

  it('owns nothing for an empty keyed list or set, and an empty atomic list as a value', () => {
    const { store, semanticsFor } = createStore();
    const pod = {
      apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', finalizers: [] },
      spec: { initContainers: [], tolerations: [], containers: [{ name: 'c', image: 'busybox:1.36' }] },
    };
    const stored = serverSideApply(store, semanticsFor, BUILTINS.pods, 'default', 'p', pod, { fieldManager: 'm1' }).object;
    const fields = fieldsOf(stored, 'm1');
    expect(fields?.['f:metadata']).toBeUndefined();
    expect(fields?.['f:spec']?.['f:initContainers']).toBeUndefined();
    expect(fields?.['f:spec']?.['f:tolerations']).toEqual({});
  });
});
