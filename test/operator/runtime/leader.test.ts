import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { LeadershipLostError } from '../../../operator/runtime/errors.ts';
import type { KubeClient } from '../../../operator/runtime/kube.ts';
import type { Manager } from '../../../operator/runtime/manager.ts';

import { enclave, enclaveController, enclaveReconciler, testManager, startTestCluster, userClient, type TestCluster } from './harness.ts';

const waitUntil = (assertion: () => void | Promise<void>): Promise<void> => vi.waitFor(assertion, { timeout: 10_000, interval: 25 });

// Short timings so failover fits a unit test; the defaults are 15 s / 10 s / 2 s.
const election = { namespace: 'sde-system', name: 'sde-operator-leader', leaseDurationSeconds: 1, renewDeadlineMs: 600, retryPeriodMs: 100 };

describe('Leader election over HTTP', () => {
  let cluster: TestCluster;
  let user: KubeClient;
  let managers: Manager[];
  let reconciles: Map<string, number>;

  const replica = async (identity: string): Promise<Manager> => {
    const manager = testManager(cluster.kubeconfigPath, { leaderElection: { ...election, identity } });
    managers.push(manager);
    manager.add(enclaveController(enclaveReconciler(() => reconciles.set(identity, (reconciles.get(identity) ?? 0) + 1))));
    await manager.start();
    return manager;
  };

  const leaseHolder = async (): Promise<string | undefined> => {
    const lease = (await user.get({ apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', plural: 'leases', namespaced: true }, election.name, election.namespace)) as { spec?: { holderIdentity?: string } } | undefined;
    return lease?.spec?.holderIdentity;
  };

  beforeEach(async () => {
    cluster = await startTestCluster();
    user = userClient(cluster.kubeconfigPath);
    managers = [];
    reconciles = new Map();
    await user.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: election.namespace } });
    await user.apply(enclave('omop-42', ['settings']));
  });

  afterEach(async () => {
    await Promise.all(managers.map((manager) => manager.stop()));
    await cluster.stop();
  });

  it('elects exactly one of two replicas; only the leader reconciles; both are ready', async () => {
    const first = await replica('replica-a');
    const second = await replica('replica-b');
    await waitUntil(() => expect([first.isLeader, second.isLeader].filter(Boolean)).toHaveLength(1));
    const leader = first.isLeader ? 'replica-a' : 'replica-b';
    const standby = first.isLeader ? 'replica-b' : 'replica-a';
    await waitUntil(() => expect(reconciles.get(leader)).toBeGreaterThan(0));
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect([first.isLeader, second.isLeader].filter(Boolean)).toHaveLength(1);
    expect(reconciles.get(standby) ?? 0).toBe(0);
    expect(await leaseHolder()).toBe(leader);
    expect(first.readiness().ready && second.readiness().ready).toBe(true);
  });

  it('lets the standby take over within the lease duration when the leader dies without releasing', async () => {
    const first = await replica('replica-a');
    await waitUntil(() => expect(first.isLeader).toBe(true));
    const second = await replica('replica-b');
    await first.stop({ releaseLease: false });
    expect(await leaseHolder()).toBe('replica-a');
    await waitUntil(() => expect(second.isLeader).toBe(true));
    expect(await leaseHolder()).toBe('replica-b');
    // The new leader reconciles the enclave it found in its cache.
    await user.apply(enclave('omop-42', ['settings', 'after-failover']));
    await waitUntil(async () => expect(await user.get({ apiVersion: 'v1', kind: 'ConfigMap', plural: 'configmaps', namespaced: true }, 'after-failover', 'sandpit-omop-42')).toBeDefined());
  });

  it('hands the lease over on graceful shutdown so the standby need not wait for expiry', async () => {
    const first = await replica('replica-a');
    await waitUntil(() => expect(first.isLeader).toBe(true));
    const second = await replica('replica-b');
    await first.stop();
    expect(await leaseHolder()).toBeUndefined();
    await waitUntil(() => expect(second.isLeader).toBe(true));
  });

  it('stops reconciling at once when another holder takes the lease', async () => {
    const leader = await replica('replica-a');
    await waitUntil(() => expect(leader.isLeader).toBe(true));
    await waitUntil(() => expect(reconciles.get('replica-a')).toBeGreaterThan(0));
    const lease = (await user.get({ apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', plural: 'leases', namespaced: true }, election.name, election.namespace)) as { spec: Record<string, unknown> } & Record<string, unknown>;
    const now = new Date().toISOString().replace('Z', '000Z');
    await user.coordination.replaceNamespacedLease({ name: election.name, namespace: election.namespace, body: { ...lease, spec: { ...lease.spec, holderIdentity: 'intruder', leaseDurationSeconds: 3600, renewTime: now } } as never });
    await expect(leader.done).rejects.toBeInstanceOf(LeadershipLostError);
    expect(leader.isLeader).toBe(false);
    const writes = leader.client.writes;
    const count = reconciles.get('replica-a');
    await user.apply(enclave('omop-42', ['settings', 'while-deposed']));
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(reconciles.get('replica-a')).toBe(count);
    expect(leader.client.writes).toBe(writes);
    expect(await leaseHolder()).toBe('intruder');
  });

  it('stops counting itself leader when its renew deadline passes during a stalled event loop, before its timer can fire', async () => {
    const manager = await replica('replica-a');
    await waitUntil(() => expect(manager.isLeader).toBe(true));
    // A synchronous stall longer than the renew deadline: no timer, and no renewal's answer, runs meanwhile.
    const stalledUntil = performance.now() + election.renewDeadlineMs + 100;
    while (performance.now() < stalledUntil) Math.sqrt(stalledUntil);
    expect(manager.isLeader).toBe(false);
    expect(await manager.metrics.registry.getSingleMetricAsString('sde_leader')).toMatch(/^sde_leader 0$/m);
    // A renewal whose answer arrived during the stall does not extend the term: it began too long ago.
    await expect(manager.done).rejects.toBeInstanceOf(LeadershipLostError);
  });

  it('stops a leader that cannot renew before its deadline, and refuses writes of a reconcile in flight', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const outcomes: unknown[] = [];
    const manager = testManager(cluster.kubeconfigPath, { leaderElection: { ...election, identity: 'replica-a' } });
    managers.push(manager);
    manager.add(
      enclaveController(async (_key, context) => {
        await gate;
        try {
          await context.apply([{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'late', namespace: 'sandpit-omop-42' } }]);
          outcomes.push('written');
        } catch (error) {
          outcomes.push(error);
        }
      }),
    );
    await manager.start();
    await waitUntil(() => expect(manager.isLeader).toBe(true));
    cluster.faults.failRequests({ rate: 1 });
    await expect(manager.done).rejects.toBeInstanceOf(LeadershipLostError);
    cluster.faults.clear();
    release();
    await waitUntil(() => expect(outcomes).toHaveLength(1));
    expect(outcomes[0]).toBeInstanceOf(LeadershipLostError);
    expect(manager.client.requests.get('apply') ?? 0).toBe(0);
  });
});
