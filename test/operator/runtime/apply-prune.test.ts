import type { KubernetesObject } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import type { ApplyError} from '../../../operator/runtime/apply.ts';
import { applyAll, containsDesired, desiredHash, isUpToDate, kindRank, OwnerConflictError, withDesiredHash } from '../../../operator/runtime/apply.ts';
import type { KubeClient } from '../../../operator/runtime/kube.ts';
import { fixedFieldsDiffer, leaveHandedOverFields } from '../../../operator/runtime/handover.ts';

const policy = {
  apiVersion: 'networking.k8s.io/v1',
  kind: 'NetworkPolicy',
  metadata: { name: 'default-deny', namespace: 'sandpit-a', labels: { 'sde.london/enclave': 'a' } },
  spec: { podSelector: {}, policyTypes: ['Ingress', 'Egress'] },
} satisfies KubernetesObject & { spec: unknown };

function served(object: KubernetesObject): KubernetesObject {
  // What the API server hands back: our fields plus its own metadata and defaults.
  const live = structuredClone(withDesiredHash(object)) as KubernetesObject & { spec?: Record<string, unknown> };
  live.metadata = { ...live.metadata, uid: 'u-1', resourceVersion: '42', creationTimestamp: new Date('2026-11-27T00:00:00Z'), managedFields: [] };
  return live;
}

describe('apply: is the live object already as desired?', () => {
  it('is up to date when the server only added its own fields', () => {
    expect(isUpToDate(served(policy), policy)).toBe(true);
  });

  it('is not up to date when a desired value differs on the server (drift)', () => {
    const live = served(policy) as KubernetesObject & { spec: { policyTypes: string[] } };
    live.spec.policyTypes = ['Ingress'];
    expect(isUpToDate(live, policy)).toBe(false);
  });

  it('is not up to date when a field was dropped from the desired state', () => {
    const before = { ...policy, metadata: { ...policy.metadata, labels: { ...policy.metadata.labels, tier: 'gpu' } } };
    expect(isUpToDate(served(before), policy)).toBe(false);
  });

  it('hashes a desired object the same whatever its key order, as every earlier release did', () => {
    // The value objects already carry in their applied-hash annotation on running sites: computed
    // with the first implementation (sorted copies, then JSON.stringify). A change here would
    // rewrite every child once after an upgrade.
    const object = { kind: 'ConfigMap', apiVersion: 'v1', metadata: { name: 'a', labels: { z: '1', a: '2' } }, data: { '10': 'x', '2': 'y', b: 'z' }, skipped: undefined, list: [3, { q: 1, p: 2 }] };
    expect(desiredHash(object)).toBe('b9c3547424594930');
    const reordered = { list: [3, { p: 2, q: 1 }], data: { b: 'z', '2': 'y', '10': 'x' }, metadata: { labels: { a: '2', z: '1' }, name: 'a' }, apiVersion: 'v1', kind: 'ConfigMap' };
    expect(desiredHash(reordered)).toBe('b9c3547424594930');
  });

  it('is not up to date when the object does not exist yet', () => {
    expect(isUpToDate(undefined, policy)).toBe(false);
  });

  it.each([
    [{ a: 1 }, { a: 1, b: 2 }, true],
    [{ a: [1, 2] }, { a: [1, 2, 3] }, false],
    [{ a: [{ name: 'x' }] }, { a: [{ name: 'x', defaulted: true }] }, true],
    [{ a: null }, {}, true],
    [{ a: '1' }, { a: 1 }, false],
    // Zero values a built-in kind's typed round trip does not store (hostNetwork: false, externalIPs: []).
    [{ a: false }, {}, true],
    [{ a: [] }, {}, true],
    [{ a: '' }, {}, true],
    [{ a: false }, { a: true }, false],
    [{ a: [] }, { a: ['203.0.113.7'] }, false],
    [{ a: '' }, { a: 'standard' }, false],
  ])('containsDesired(live=%j ⊇ desired=%j) is %s', (desired, live, expected) => {
    expect(containsDesired(live, desired)).toBe(expected);
  });

  it('is up to date with a StatefulSet as kube-apiserver stores it: zero values gone, defaults and controller fields added', () => {
    const desired = {
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      metadata: { name: 'ws', namespace: 'sde-a' },
      spec: { replicas: 1, template: { spec: { hostNetwork: false, hostPID: false, hostIPC: false, containers: [{ name: 'tool', image: 'x' }] } } },
    };
    const live = served(desired) as KubernetesObject & { spec: { template: { spec: Record<string, unknown> } } };
    for (const field of ['hostNetwork', 'hostPID', 'hostIPC']) delete live.spec.template.spec[field];
    live.spec.template.spec.dnsPolicy = 'ClusterFirst';
    expect(isUpToDate(live, desired)).toBe(true);
    live.spec.template.spec.hostNetwork = true;
    expect(isUpToDate(live, desired)).toBe(false);
  });

  it('counts an apply the server answers without a new resourceVersion as unchanged, and does not send it again for that version', async () => {
    // A value the server stores in a form of its own: the comparison cannot see it is the same.
    const desired = { ...policy, spec: { ...policy.spec, podSelector: { matchLabels: { tier: 'gpu' } } } };
    const live = served(desired) as KubernetesObject & { spec: { podSelector: unknown } };
    live.spec.podSelector = { matchExpressions: [{ key: 'tier', operator: 'In', values: ['gpu'] }] };
    Object.freeze(live);
    const sent: KubernetesObject[] = [];
    const server = { assertMayWrite: () => undefined, apply: async (object: KubernetesObject) => (sent.push(object), live) } as unknown as KubeClient;
    const first = await applyAll(server, [desired], { live: () => live });
    expect(first).toEqual({ written: [], unchanged: ['networking.k8s.io/NetworkPolicy/sandpit-a/default-deny'], fixed: [] });
    const second = await applyAll(server, [desired], { live: () => live });
    expect(second.unchanged).toHaveLength(1);
    expect(sent).toHaveLength(1);
  });

  it('never takes over an object another owner controls: the second owner is refused, nothing is sent', async () => {
    const service = (owner: string, uid: string): KubernetesObject & { spec: unknown } => ({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'fj-host-agg-aggregator', namespace: 'sde-a', ownerReferences: [{ apiVersion: 'sde.london/v1alpha1', kind: owner === 'fj-host-agg' ? 'FederatedJob' : 'Workspace', name: owner, uid, controller: true }] },
      spec: { ports: [{ port: 8002 }] },
    });
    const live = served(service('fj-host-agg', 'u-fj'));
    const sent: KubernetesObject[] = [];
    const server = { assertMayWrite: () => undefined, apply: async (object: KubernetesObject) => (sent.push(object), live) } as unknown as KubeClient;
    const refused = await applyAll(server, [service('fj-host-agg-aggregator', 'u-ws')], { live: () => live }).then(() => undefined, (error: unknown) => error);
    expect((refused as ApplyError).failures[0]?.error).toBeInstanceOf(OwnerConflictError);
    expect(String((refused as ApplyError).failures[0]?.error)).toContain('FederatedJob fj-host-agg already has it');
    expect(sent).toEqual([]);
    // The same owner created again (a new uid) takes its children over.
    await applyAll(server, [service('fj-host-agg', 'u-fj-2')], { live: () => live });
    expect(sent).toHaveLength(1);
  });

  it('stops at a failing rank, and its error lists what the ranks before it wrote', async () => {
    const volume = { apiVersion: 'v1', kind: 'PersistentVolume', metadata: { name: 'sde-a.mri' }, spec: { claimRef: { namespace: 'sde-a', name: 'data-mri' } } };
    const claim = { apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'data-mri', namespace: 'sde-a' }, spec: { volumeName: 'sde-a.mri' } };
    const workload = { apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name: 'web', namespace: 'sde-a' }, spec: {} };
    const sent: string[] = [];
    const server = {
      assertMayWrite: () => undefined,
      apply: async (object: KubernetesObject) => {
        sent.push(object.kind ?? '');
        if (object.kind === 'PersistentVolumeClaim') throw new Error('the server is unavailable');
        return { ...object, metadata: { ...object.metadata, resourceVersion: '7' } };
      },
    } as unknown as KubeClient;
    const refused = (await applyAll(server, [workload, claim, volume]).then(() => undefined, (error: unknown) => error)) as ApplyError;
    expect(refused.failures.map((f) => f.identity)).toEqual(['/PersistentVolumeClaim/sde-a/data-mri']);
    expect(refused.written.map((w) => [w.identity, w.resourceVersion])).toEqual([['/PersistentVolume//sde-a.mri', '7']]);
    expect(sent).toEqual(['PersistentVolume', 'PersistentVolumeClaim']);
  });

  describe('fields Kubernetes fixes at creation', () => {
    const job = (image: string): KubernetesObject & { spec: { suspend: boolean; template: { metadata: { labels: Record<string, string> }; spec: { containers: Array<Record<string, unknown>> } } } } => ({
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: 'fl-participant', namespace: 'sde-a' },
      spec: { suspend: false, template: { metadata: { labels: { app: 'fl' } }, spec: { containers: [{ name: 'participant', image }] } } },
    });
    const stored = (): KubernetesObject => {
      // As kube-apiserver stores it: its own labels and defaults added inside the template.
      const live = served(job('nvcr.io/nvidia/clara/nvflare:2.5.0')) as ReturnType<typeof job>;
      live.spec.template.metadata.labels['controller-uid'] = 'c-1';
      live.spec.template.spec.containers[0]!.terminationMessagePath = '/dev/termination-log';
      return live;
    };

    it('sends a Job\'s pod template as it was created, and says that it differs from the rendering', () => {
      const wanted = job('nvcr.io/nvidia/clara/nvflare:2.6.0');
      wanted.spec.suspend = true;
      const sent = leaveHandedOverFields(wanted, stored()) as ReturnType<typeof job>;
      expect(sent.spec.template.spec.containers).toEqual([{ name: 'participant', image: 'nvcr.io/nvidia/clara/nvflare:2.5.0' }]);
      expect(sent.spec.template.metadata.labels).toEqual({ app: 'fl' });
      expect(sent.spec.suspend).toBe(true);
      expect(fixedFieldsDiffer(wanted, stored())).toEqual(['spec.template']);
      expect(fixedFieldsDiffer(job('nvcr.io/nvidia/clara/nvflare:2.5.0'), stored())).toEqual([]);
      expect(fixedFieldsDiffer(wanted, undefined)).toEqual([]);
    });

    it('sends a Service\'s cluster IP as it was allocated when the rendering asks for a headless one, and up to date once so', () => {
      const headless = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'ws', namespace: 'sde-a' }, spec: { clusterIP: 'None', ports: [{ name: 'http', port: 8888 }] } };
      const allocated = served({ ...headless, spec: { ...headless.spec, clusterIP: '10.96.0.12', clusterIPs: ['10.96.0.12'] } } as KubernetesObject);
      const sent = leaveHandedOverFields(headless, allocated) as typeof headless;
      expect(sent.spec).toEqual({ clusterIP: '10.96.0.12', ports: [{ name: 'http', port: 8888 }] });
      expect(fixedFieldsDiffer(headless, allocated)).toEqual(['spec.clusterIP']);
      expect(isUpToDate(withDesiredHash(allocated, desiredHash(headless)), headless)).toBe(true);
      expect(fixedFieldsDiffer(headless, served(headless))).toEqual([]);
    });
  });

  describe('a PersistentVolume reserved for its claim', () => {
    const reservation = { apiVersion: 'v1', kind: 'PersistentVolumeClaim', namespace: 'sde-a', name: 'data-x' };
    const volume = { apiVersion: 'v1', kind: 'PersistentVolume', metadata: { name: 'sde-a.x' }, spec: { capacity: { storage: '1Ti' }, claimRef: reservation } };
    const liveWith = (claimRef: object | undefined): KubernetesObject => {
      const live = served(volume) as KubernetesObject & { spec: Record<string, unknown> };
      if (claimRef) live.spec.claimRef = claimRef;
      else delete live.spec.claimRef;
      return live;
    };

    it('sends the reservation while the volume is new or not yet bound', () => {
      expect(leaveHandedOverFields(volume, undefined)).toBe(volume);
      expect(leaveHandedOverFields(volume, liveWith(reservation))).toBe(volume);
      expect(leaveHandedOverFields(volume, liveWith(undefined))).toBe(volume);
    });

    it('leaves claimRef out once the PV binder has written the claim\'s uid into it, so the binding stays', () => {
      const bound = liveWith({ ...reservation, uid: 'c-1', resourceVersion: '7' });
      const sent = leaveHandedOverFields(volume, bound) as typeof volume;
      expect(sent.spec.claimRef).toBeUndefined();
      expect(sent.spec.capacity).toEqual(volume.spec.capacity);
      expect(volume.spec.claimRef).toBe(reservation);
      expect(isUpToDate(bound, volume)).toBe(true);
    });

    it('never takes a volume back from a claim it was bound to otherwise', () => {
      const taken = liveWith({ apiVersion: 'v1', kind: 'PersistentVolumeClaim', namespace: 'elsewhere', name: 'other', uid: 'c-2' });
      expect((leaveHandedOverFields(volume, taken) as typeof volume).spec.claimRef).toBeUndefined();
    });
  });

  it('ranks the namespace first, its guard rails before what they guard, a binding after its role, a claim after its volume and quota, workloads last', () => {
    const rank = (kind: string): number => kindRank({ kind });
    const before = (first: string, then: string): void => expect(rank(first), `${first} before ${then}`).toBeLessThan(rank(then));
    for (const kind of ['ResourceQuota', 'LimitRange', 'NetworkPolicy', 'ServiceAccount', 'Role', 'ConfigMap', 'PersistentVolume', 'RoleBinding', 'PersistentVolumeClaim', 'StatefulSet']) before('Namespace', kind);
    for (const guard of ['ResourceQuota', 'LimitRange', 'NetworkPolicy']) for (const guarded of ['PersistentVolumeClaim', 'Deployment', 'StatefulSet', 'Job', 'RoleBinding']) before(guard, guarded);
    before('Role', 'RoleBinding');
    before('ClusterRole', 'ClusterRoleBinding');
    before('PersistentVolume', 'PersistentVolumeClaim');
    for (const referred of ['ConfigMap', 'Secret', 'ServiceAccount', 'PersistentVolumeClaim', 'Service']) before(referred, 'StatefulSet');
    expect(rank('CustomThing')).toBeGreaterThan(rank('Job'));
    // Four rounds, not one per kind: an enclave's first apply waited on ten in turn.
    expect(new Set(['Namespace', 'ResourceQuota', 'LimitRange', 'NetworkPolicy', 'ServiceAccount', 'Role', 'RoleBinding', 'ConfigMap', 'PersistentVolume', 'PersistentVolumeClaim', 'Service', 'StatefulSet'].map(rank)).size).toBe(4);
  });
});
