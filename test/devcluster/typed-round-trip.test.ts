// Built-in objects are stored as a 1.23 API server stores them after its typed round trip (each
// case checked there): zero values of non-pointer omitempty fields are gone, pointer fields keep
// theirs, the applier's managedFields still name what it sent, and an apply carrying such a
// zero value is written again (only the applier's time changes) once a second has passed.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createStore } from '../../devcluster/create-store.ts';
import { serverSideApply } from '../../devcluster/patch/server-side-apply.ts';
import { BUILTINS } from '../../devcluster/store/builtins.ts';
import type { KubeObject, ResourceType } from '../../devcluster/store/types.ts';

type Json = Record<string, unknown>;

function at(obj: unknown, path: string): unknown {
  return path.split('.').reduce<unknown>((cur, key) => (cur === undefined || cur === null ? undefined : (cur as Json)[key]), obj);
}

const podSpec = {
  hostNetwork: false, hostPID: false, hostIPC: false, automountServiceAccountToken: false, enableServiceLinks: false,
  containers: [{
    name: 'c', image: 'busybox:1.36', env: [{ name: 'EMPTY', value: '' }],
    securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: false, privileged: false },
  }],
};

// `owns`: fields the applier's managedFields entry names although they are not stored.
const cases: { what: string; rt: ResourceType; name: string; config: Json; gone: string[]; kept: [string, unknown][]; owns: string[] }[] = [
  {
    what: 'a StatefulSet pod template',
    rt: BUILTINS.statefulsets,
    name: 'ws',
    config: { apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name: 'ws' }, spec: { replicas: 0, serviceName: 'ws', selector: { matchLabels: { a: 'b' } }, template: { metadata: { labels: { a: 'b' } }, spec: podSpec } } },
    gone: ['spec.template.spec.hostNetwork', 'spec.template.spec.hostPID', 'spec.template.spec.hostIPC', 'spec.template.spec.containers.0.env.0.value'],
    kept: [['spec.replicas', 0], ['spec.template.spec.automountServiceAccountToken', false], ['spec.template.spec.enableServiceLinks', false],
      ['spec.template.spec.containers.0.securityContext.allowPrivilegeEscalation', false], ['spec.template.spec.containers.0.securityContext.readOnlyRootFilesystem', false]],
    owns: ['f:hostNetwork', 'f:hostPID', 'f:hostIPC', 'f:value'],
  },
  {
    what: 'a Service',
    rt: BUILTINS.services,
    name: 'ws',
    config: { apiVersion: 'v1', kind: 'Service', metadata: { name: 'ws' }, spec: { externalIPs: [], ports: [{ port: 80 }], selector: { a: 'b' } } },
    gone: ['spec.externalIPs'],
    kept: [['spec.selector', { a: 'b' }]],
    owns: ['f:externalIPs'],
  },
  {
    what: 'a PersistentVolume',
    rt: BUILTINS.persistentvolumes,
    name: 'dataset',
    config: { apiVersion: 'v1', kind: 'PersistentVolume', metadata: { name: 'dataset' }, spec: { storageClassName: '', accessModes: ['ReadOnlyMany'], capacity: { storage: '1Gi' }, nfs: { server: 's', path: '/p', readOnly: false } } },
    gone: ['spec.storageClassName', 'spec.nfs.readOnly'],
    kept: [],
    owns: ['f:storageClassName', 'f:readOnly'],
  },
  {
    what: 'a PersistentVolumeClaim (its class is a pointer)',
    rt: BUILTINS.persistentvolumeclaims,
    name: 'data',
    config: { apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'data' }, spec: { storageClassName: '', volumeName: '', accessModes: ['ReadOnlyMany'], resources: { requests: { storage: '1Gi' } } } },
    gone: ['spec.volumeName'],
    kept: [['spec.storageClassName', '']],
    owns: ['f:volumeName'],
  },
  {
    what: 'a Role',
    rt: BUILTINS.roles,
    name: 'r',
    config: { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name: 'r', labels: {} }, rules: [{ apiGroups: [''], resources: ['pods'], resourceNames: [], verbs: ['get'] }] },
    gone: ['metadata.labels', 'rules.0.resourceNames'],
    kept: [['rules.0.apiGroups', ['']]],
    owns: ['f:labels', 'f:rules'],
  },
];

afterEach(() => {
  vi.useRealTimers();
});

describe('the typed round trip of built-in kinds', () => {
  it.each(cases)('stores $what without its unstored zero values, while the applier still owns them', ({ rt, name, config, gone, kept, owns }) => {
    const { store, semanticsFor } = createStore();
    const stored = serverSideApply(store, semanticsFor, rt, rt.namespaced ? 'default' : undefined, name, config, { fieldManager: 'sde-operator' }).object;
    for (const path of gone) expect(at(stored, path), path).toBeUndefined();
    for (const [path, value] of kept) expect(at(stored, path), path).toEqual(value);
    const owned = JSON.stringify((stored.metadata.managedFields as { fieldsV1: unknown }[])[0]?.fieldsV1);
    for (const field of owns) expect(owned, field).toContain(`"${field}"`);
  });

  it('drops them from a plain update too, which then owns nothing it did not change', () => {
    const { store } = createStore();
    const created = store.create(BUILTINS.configmaps, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', namespace: 'default' }, data: { a: '1' } }, { fieldManager: 'one' });
    const updated = store.update(BUILTINS.configmaps, { ...created, binaryData: {} }, { fieldManager: 'two' });
    expect(updated.binaryData).toBeUndefined();
    expect(updated.metadata.resourceVersion).toBe(created.metadata.resourceVersion);
    expect((updated.metadata.managedFields as { manager: string }[]).map((e) => e.manager)).toEqual(['one']);
  });

  it('writes an apply carrying an unstored zero value again once a second has passed, and an apply without one never', () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date('2026-12-03T10:00:00Z'));
    const { store, semanticsFor } = createStore();
    const rt = BUILTINS.configmaps;
    const apply = (name: string, extra: Json): KubeObject =>
      serverSideApply(store, semanticsFor, rt, 'default', name, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data: { a: '1' }, ...extra }, { fieldManager: 'sde-operator' }).object;
    const first = { zero: apply('zero', { binaryData: {} }), pointer: apply('pointer', { immutable: false }) };
    const events: string[] = [];
    store.watch(rt, { namespace: 'default', resourceVersion: store.currentResourceVersion() }, (type, obj) => events.push(`${type} ${obj.metadata.name}`));

    expect(apply('zero', { binaryData: {} }).metadata.resourceVersion).toBe(first.zero.metadata.resourceVersion);
    vi.setSystemTime(new Date('2026-12-03T10:00:02Z'));
    const again = { zero: apply('zero', { binaryData: {} }), pointer: apply('pointer', { immutable: false }) };
    expect(again.pointer.metadata.resourceVersion).toBe(first.pointer.metadata.resourceVersion);
    expect(Number(again.zero.metadata.resourceVersion)).toBeGreaterThan(Number(first.zero.metadata.resourceVersion));
    expect((again.zero.metadata.managedFields as { time: string }[])[0]?.time).toBe('2026-12-03T10:00:02Z');
    expect(events).toEqual(['MODIFIED zero']);
  });
});
