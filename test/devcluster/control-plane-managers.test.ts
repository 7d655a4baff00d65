// The simulated control plane writes under the field managers a 1.23 cluster shows (checked there
// with --show-managed-fields): its controllers as kube-controller-manager, the node agent as
// kubelet, the scheduler's own writes as kube-scheduler, and a binding under no manager at all.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createStore } from '../../devcluster/create-store.ts';
import { startSimulation, type Simulation } from '../../devcluster/sim/index.ts';
import { BUILTINS } from '../../devcluster/store/builtins.ts';
import type { ClusterStore } from '../../devcluster/store/cluster-store.ts';
import type { KubeObject } from '../../devcluster/store/types.ts';

const NS = 'default';

function managers(obj: KubeObject | undefined): string[] {
  return ((obj?.metadata.managedFields ?? []) as { manager: string; subresource?: string }[]).map((e) => `${e.manager}${e.subresource ? `/${e.subresource}` : ''}`);
}

describe('field managers of the simulated control plane', () => {
  let store: ClusterStore;
  let sim: Simulation;

  beforeEach(() => {
    store = createStore().store;
    sim = startSimulation(store, { jobRunMillis: 60_000, onError: (c, k, e) => { throw new Error(`${c} ${k}: ${String(e)}`); } });
  });
  afterEach(async () => {
    await sim.stop();
  });

  it('names controllers kube-controller-manager and the kubelet kubelet; binding a pod adds no manager', async () => {
    store.create(BUILTINS.statefulsets, {
      apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name: 'ws', namespace: NS },
      spec: {
        replicas: 1, serviceName: 'ws', selector: { matchLabels: { app: 'ws' } },
        template: { metadata: { labels: { app: 'ws' } }, spec: { containers: [{ name: 'c', image: 'busybox:1.36' }] } },
        volumeClaimTemplates: [{ metadata: { name: 'home' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } }],
      },
    }, { fieldManager: 'sde-operator' });
    await vi.waitFor(() => expect(store.get(BUILTINS.pods, NS, 'ws-0')?.status).toMatchObject({ phase: 'Running' }));
    await vi.waitFor(() => expect(store.get(BUILTINS.statefulsets, NS, 'ws')?.status).toMatchObject({ readyReplicas: 1 }));

    expect(managers(store.get(BUILTINS.pods, NS, 'ws-0'))).toEqual(['kube-controller-manager', 'kubelet/status']);
    expect(new Set(managers(store.get(BUILTINS.statefulsets, NS, 'ws')))).toEqual(new Set(['sde-operator', 'kube-controller-manager/status']));
    const claim = store.get(BUILTINS.persistentvolumeclaims, NS, 'home-ws-0');
    expect(new Set(managers(claim))).toEqual(new Set(['kube-controller-manager', 'kube-controller-manager/status']));
    const events = store.list(BUILTINS.events, { namespace: NS }).items;
    const byReason = Object.fromEntries(events.map((e) => [e.reason as string, managers(e)]));
    expect(byReason).toMatchObject({ Scheduled: ['kube-scheduler'], SuccessfulCreate: ['kube-controller-manager'] });
  });

  it("names the scheduler's write about a pod it cannot place kube-scheduler", async () => {
    store.create(BUILTINS.pods, {
      apiVersion: 'v1', kind: 'Pod', metadata: { name: 'huge', namespace: NS },
      spec: { containers: [{ name: 'c', image: 'busybox:1.36', resources: { requests: { 'nvidia.com/gpu': '9' }, limits: { 'nvidia.com/gpu': '9' } } }] },
    }, { fieldManager: 'sde-operator' });
    await vi.waitFor(() => expect(managers(store.get(BUILTINS.pods, NS, 'huge'))).toContain('kube-scheduler/status'));
  });
});
