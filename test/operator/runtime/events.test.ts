import type { KubernetesObject } from '@kubernetes/client-node';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EventRecorder } from '../../../operator/runtime/events.ts';
import { KubeClient, loadKubeConfig } from '../../../operator/runtime/kube.ts';
import { Kinds } from '../../../operator/runtime/resources.ts';
import { startTestCluster, TEST_FIELD_MANAGER, type TestCluster } from './harness.ts';


const workspace: KubernetesObject = { apiVersion: 'sde.london/v1alpha1', kind: 'Workspace', metadata: { name: 'alice-jupyter', namespace: 'sandpit-a', uid: 'uid-ws' } };
const enclave: KubernetesObject = { apiVersion: 'sde.london/v1alpha1', kind: 'Enclave', metadata: { name: 'omop-42', uid: 'uid-enclave' } };

describe('EventRecorder over HTTP', () => {
  let cluster: TestCluster;
  let client: KubeClient;

  beforeEach(async () => {
    cluster = await startTestCluster();
    client = new KubeClient(loadKubeConfig({ kubeconfigPath: cluster.kubeconfigPath }), { fieldManager: TEST_FIELD_MANAGER });
    await client.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'sandpit-a' } });
  });

  afterEach(async () => {
    await cluster.stop();
  });

  it('turns repeats into one Event whose count grows, and distinct reasons into separate Events', async () => {
    let now = new Date('2026-11-27T09:00:00Z');
    const recorder = new EventRecorder({ client, minUpdateIntervalMs: 0, now: () => now, reportingInstance: 'operator-0' });
    for (let i = 0; i < 3; i += 1) {
      await recorder.record(workspace, { type: 'Warning', reason: 'Unschedulable', message: '0/4 nodes are available: 4 Insufficient nvidia.com/gpu.' });
      now = new Date(now.getTime() + 1_000);
    }
    await recorder.record(workspace, { type: 'Normal', reason: 'Started', message: 'workspace is running' });
    const events = (await client.list(Kinds.Event, { namespace: 'sandpit-a' })).items as Array<KubernetesObject & Record<string, unknown>>;
    expect(events).toHaveLength(2);
    const unschedulable = events.find((event) => event.reason === 'Unschedulable');
    expect(unschedulable).toMatchObject({ type: 'Warning', count: 3, reportingComponent: TEST_FIELD_MANAGER, reportingInstance: 'operator-0', involvedObject: { kind: 'Workspace', name: 'alice-jupyter', namespace: 'sandpit-a', uid: 'uid-ws' } });
    expect(unschedulable?.lastTimestamp).toBe('2026-11-27T09:00:02.000Z');
  });

  it('bounds the writes of a flapping condition', async () => {
    let now = new Date('2026-11-27T09:00:00Z');
    const recorder = new EventRecorder({ client, now: () => now });
    for (let i = 0; i < 40; i += 1) {
      await recorder.record(enclave, i % 2 ? { type: 'Normal', reason: 'Extended', message: 'access extended' } : { type: 'Warning', reason: 'Expired', message: 'access expired' });
      now = new Date(now.getTime() + 1_000);
    }
    // 40 transitions in 40 s: one Event per reason, no more than one update each per minute (plus the namespace set-up).
    expect(client.writes).toBe(3);
    const events = (await client.list(Kinds.Event, { namespace: 'default' })).items;
    expect(events).toHaveLength(2);
  });

  it('never throws when the API refuses the event', async () => {
    cluster.faults.failRequests({ rate: 1 });
    const recorder = new EventRecorder({ client });
    await expect(recorder.record(enclave, { type: 'Normal', reason: 'Provisioned', message: 'ready' })).resolves.toBeUndefined();
  });
});
