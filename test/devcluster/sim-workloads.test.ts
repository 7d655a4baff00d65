import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { builtinDefaults } from '../../devcluster/admission/defaults.ts';
import { BUILTINS } from '../../devcluster/store/builtins.ts';
import { ClusterStore } from '../../devcluster/store/cluster-store.ts';
import type { KubeObject } from '../../devcluster/store/types.ts';
import { startSimulation, type Simulation } from '../../devcluster/sim/index.ts';

const NS = 'default';
const template = (labels: Record<string, string>, extra: Record<string, unknown> = {}) => ({
  metadata: { labels },
  spec: { containers: [{ name: 'app', image: 'registry.sde.london/jupyter:4.1', resources: { requests: { cpu: '100m' } } }], ...extra },
});

function deployment(name: string, replicas: number, image = 'registry.sde.london/jupyter:4.1'): KubeObject {
  const t = template({ app: name });
  t.spec.containers[0]!.image = image;
  return { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name, namespace: NS }, spec: { replicas, selector: { matchLabels: { app: name } }, template: t } };
}

function statefulSet(name: string, replicas: number): KubeObject {
  return {
    apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name, namespace: NS },
    spec: {
      replicas, serviceName: name, selector: { matchLabels: { app: name } }, template: template({ app: name }),
      volumeClaimTemplates: [{ metadata: { name: 'home' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '10Gi' } } } }],
    },
  };
}

function job(name: string, spec: Record<string, unknown>, annotations: Record<string, string> = {}): KubeObject {
  return {
    apiVersion: 'batch/v1', kind: 'Job', metadata: { name, namespace: NS },
    spec: { template: { metadata: { annotations }, spec: { restartPolicy: 'Never', containers: [{ name: 'train', image: 'nvcr.io/nvidia/pytorch:24.05-py3' }] } }, ...spec },
  };
}

describe('simulated workload controllers (in-process)', () => {
  let store: ClusterStore;
  let sim: Simulation;
  const get = (rt: (typeof BUILTINS)[keyof typeof BUILTINS], name: string) => store.get(rt, NS, name);
  const statusOf = (rt: (typeof BUILTINS)[keyof typeof BUILTINS], name: string) => (get(rt, name)?.status ?? {}) as Record<string, unknown>;
  const podsOwnedBy = (uid: string | undefined) => store.list(BUILTINS.pods, { namespace: NS }).items.filter((p) => p.metadata.ownerReferences?.some((r) => r.uid === uid));
  const conditionsOf = (rt: (typeof BUILTINS)[keyof typeof BUILTINS], name: string) =>
    Object.fromEntries(((statusOf(rt, name).conditions ?? []) as { type: string; status: string; reason?: string }[]).map((c) => [c.type, `${c.status}/${c.reason ?? ''}`]));

  beforeEach(() => {
    store = new ClusterStore({ plugins: [builtinDefaults()] });
    sim = startSimulation(store, { jobRunMillis: 20, onError: (c, k, e) => { throw new Error(`${c} ${k}: ${String(e)}`); } });
  });
  afterEach(async () => {
    await sim.stop();
  });

  it('a Deployment reaches readyReplicas through a ReplicaSet with a pod-template-hash', async () => {
    store.create(BUILTINS.deployments, deployment('jupyter', 3));
    await vi.waitFor(() => expect(statusOf(BUILTINS.deployments, 'jupyter')).toMatchObject({ replicas: 3, readyReplicas: 3, availableReplicas: 3, updatedReplicas: 3, observedGeneration: 1 }));
    expect(conditionsOf(BUILTINS.deployments, 'jupyter')).toEqual({ Available: 'True/MinimumReplicasAvailable', Progressing: 'True/NewReplicaSetAvailable' });
    const [rs, ...others] = store.list(BUILTINS.replicasets, { namespace: NS }).items;
    expect(others).toEqual([]);
    const hash = rs?.metadata.labels?.['pod-template-hash'];
    expect(rs?.metadata.name).toBe(`jupyter-${hash}`);
    expect(rs?.metadata.ownerReferences?.[0]).toMatchObject({ kind: 'Deployment', name: 'jupyter', controller: true });
    const pods = podsOwnedBy(rs?.metadata.uid);
    expect(pods).toHaveLength(3);
    for (const pod of pods) expect(pod.metadata.labels).toEqual({ app: 'jupyter', 'pod-template-hash': hash });
  });

  it('a Deployment scales to 0 and back, and a template change rolls to a new ReplicaSet', async () => {
    store.create(BUILTINS.deployments, deployment('web', 2));
    await vi.waitFor(() => expect(statusOf(BUILTINS.deployments, 'web').readyReplicas).toBe(2));
    const scaled = get(BUILTINS.deployments, 'web')!;
    (scaled.spec as { replicas: number }).replicas = 0;
    store.update(BUILTINS.deployments, scaled);
    await vi.waitFor(() => expect(store.list(BUILTINS.pods, { namespace: NS }).items).toHaveLength(0));
    await vi.waitFor(() => expect(statusOf(BUILTINS.deployments, 'web')).toMatchObject({ replicas: 0, observedGeneration: 2 }));
    const rolled = get(BUILTINS.deployments, 'web')!;
    const spec = rolled.spec as { replicas: number; template: { spec: { containers: { image: string }[] } } };
    spec.replicas = 2;
    spec.template.spec.containers[0]!.image = 'registry.sde.london/jupyter:4.2';
    store.update(BUILTINS.deployments, rolled);
    await vi.waitFor(() => expect(statusOf(BUILTINS.deployments, 'web')).toMatchObject({ replicas: 2, readyReplicas: 2, updatedReplicas: 2, observedGeneration: 3 }));
    const sets = store.list(BUILTINS.replicasets, { namespace: NS }).items;
    expect(sets).toHaveLength(2);
    const byRevision = Object.fromEntries(sets.map((rs) => [rs.metadata.annotations?.['deployment.kubernetes.io/revision'], (rs.spec as { replicas: number }).replicas]));
    expect(byRevision).toEqual({ 1: 0, 2: 2 });
    for (const pod of store.list(BUILTINS.pods, { namespace: NS }).items) {
      expect((pod.spec as { containers: { image: string }[] }).containers[0]?.image).toBe('registry.sde.london/jupyter:4.2');
    }
  });

  it('a Deployment recreated after an orphaning delete adopts its ReplicaSet and pods', async () => {
    store.create(BUILTINS.deployments, deployment('kept', 2));
    await vi.waitFor(() => expect(statusOf(BUILTINS.deployments, 'kept').readyReplicas).toBe(2));
    const podUids = () => store.list(BUILTINS.pods, { namespace: NS }).items.map((p) => p.metadata.uid).sort();
    const before = { rs: store.list(BUILTINS.replicasets, { namespace: NS }).items.map((rs) => rs.metadata.uid), pods: podUids() };
    store.delete(BUILTINS.deployments, NS, 'kept', { propagationPolicy: 'Orphan' });
    store.create(BUILTINS.deployments, deployment('kept', 2));
    await vi.waitFor(() => expect(statusOf(BUILTINS.deployments, 'kept')).toMatchObject({ readyReplicas: 2, updatedReplicas: 2 }));
    const sets = store.list(BUILTINS.replicasets, { namespace: NS }).items;
    expect(sets.map((rs) => rs.metadata.uid)).toEqual(before.rs);
    expect(sets[0]?.metadata.ownerReferences?.[0]).toMatchObject({ kind: 'Deployment', uid: get(BUILTINS.deployments, 'kept')?.metadata.uid });
    expect(podUids()).toEqual(before.pods);
  });

  it('a ReplicaSet adopts matching orphan pods instead of creating more', async () => {
    store.create(BUILTINS.pods, { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'stray', namespace: NS, labels: { app: 'adopter' } }, spec: { containers: [{ name: 'app', image: 'x' }] } });
    store.create(BUILTINS.replicasets, {
      apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name: 'adopter', namespace: NS },
      spec: { replicas: 1, selector: { matchLabels: { app: 'adopter' } }, template: template({ app: 'adopter' }) },
    });
    await vi.waitFor(() => expect(statusOf(BUILTINS.replicasets, 'adopter')).toMatchObject({ replicas: 1, readyReplicas: 1 }));
    expect(store.list(BUILTINS.pods, { namespace: NS }).items.map((p) => p.metadata.name)).toEqual(['stray']);
    expect(get(BUILTINS.pods, 'stray')?.metadata.ownerReferences?.[0]).toMatchObject({ kind: 'ReplicaSet', name: 'adopter', controller: true });
  });

  it('a StatefulSet creates its pod and claim; the claim binds to a provisioned volume; scaling to 0 keeps the claim', async () => {
    store.create(BUILTINS.statefulsets, statefulSet('ws-alice', 1));
    await vi.waitFor(() => expect(statusOf(BUILTINS.statefulsets, 'ws-alice')).toMatchObject({ replicas: 1, readyReplicas: 1, currentReplicas: 1, availableReplicas: 1 }));
    const pod = get(BUILTINS.pods, 'ws-alice-0')!;
    expect((pod.spec as { volumes: unknown[] }).volumes).toContainEqual({ name: 'home', persistentVolumeClaim: { claimName: 'home-ws-alice-0' } });
    expect((pod.spec as { hostname: string }).hostname).toBe('ws-alice-0');
    const claim = get(BUILTINS.persistentvolumeclaims, 'home-ws-alice-0')!;
    expect(claim.status).toMatchObject({ phase: 'Bound', capacity: { storage: '10Gi' } });
    const volumeName = (claim.spec as { volumeName: string }).volumeName;
    const pv = store.get(BUILTINS.persistentvolumes, undefined, volumeName)!;
    expect(pv.spec).toMatchObject({ storageClassName: 'standard', persistentVolumeReclaimPolicy: 'Delete', claimRef: { name: 'home-ws-alice-0', namespace: NS } });
    expect(pv.status).toMatchObject({ phase: 'Bound' });

    const scaled = get(BUILTINS.statefulsets, 'ws-alice')!;
    (scaled.spec as { replicas: number }).replicas = 0;
    store.update(BUILTINS.statefulsets, scaled);
    await vi.waitFor(() => expect(get(BUILTINS.pods, 'ws-alice-0')).toBeUndefined());
    await vi.waitFor(() => expect(statusOf(BUILTINS.statefulsets, 'ws-alice')).toMatchObject({ replicas: 0, readyReplicas: 0, observedGeneration: 2 }));
    expect(get(BUILTINS.persistentvolumeclaims, 'home-ws-alice-0')?.status).toMatchObject({ phase: 'Bound' });
    store.delete(BUILTINS.statefulsets, NS, 'ws-alice');
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(get(BUILTINS.persistentvolumeclaims, 'home-ws-alice-0')).toBeDefined();
  });

  it('when a node is removed its pods go, and a StatefulSet brings its pod back on another node', async () => {
    store.create(BUILTINS.statefulsets, statefulSet('ws-carol', 1));
    await vi.waitFor(() => expect(statusOf(BUILTINS.statefulsets, 'ws-carol').readyReplicas).toBe(1));
    const first = get(BUILTINS.pods, 'ws-carol-0')!;
    const nodeName = (first.spec as { nodeName: string }).nodeName;
    store.delete(BUILTINS.nodes, undefined, nodeName);
    await vi.waitFor(() => {
      const again = get(BUILTINS.pods, 'ws-carol-0');
      expect(again?.metadata.uid).not.toBe(first.metadata.uid);
      expect(again?.status).toMatchObject({ phase: 'Running' });
      expect((again?.spec as { nodeName: string }).nodeName).not.toBe(nodeName);
    });
  });

  it('a StatefulSet with OrderedReady waits for each ordinal to be Ready before the next', async () => {
    sim.pauseKubelet();
    store.create(BUILTINS.statefulsets, statefulSet('db', 3));
    await vi.waitFor(() => expect((get(BUILTINS.pods, 'db-0')?.spec as { nodeName?: string } | undefined)?.nodeName).toBeDefined());
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(get(BUILTINS.pods, 'db-1')).toBeUndefined();
    sim.resumeKubelet();
    await vi.waitFor(() => expect(statusOf(BUILTINS.statefulsets, 'db').readyReplicas).toBe(3));
    expect(store.list(BUILTINS.pods, { namespace: NS }).items.map((p) => p.metadata.name)).toEqual(['db-0', 'db-1', 'db-2']);
    expect(store.list(BUILTINS.persistentvolumeclaims, { namespace: NS }).items.map((c) => c.metadata.name)).toEqual(['home-db-0', 'home-db-1', 'home-db-2']);
  });

  it('a StatefulSet recreated after an orphaning delete adopts its old pod instead of replacing it', async () => {
    store.create(BUILTINS.statefulsets, statefulSet('ws-bob', 1));
    await vi.waitFor(() => expect(statusOf(BUILTINS.statefulsets, 'ws-bob').readyReplicas).toBe(1));
    const before = get(BUILTINS.pods, 'ws-bob-0')?.metadata.uid;
    store.delete(BUILTINS.statefulsets, NS, 'ws-bob', { propagationPolicy: 'Orphan' });
    expect(get(BUILTINS.pods, 'ws-bob-0')?.metadata.ownerReferences ?? []).toEqual([]);
    store.create(BUILTINS.statefulsets, statefulSet('ws-bob', 1));
    await vi.waitFor(() => expect(statusOf(BUILTINS.statefulsets, 'ws-bob').readyReplicas).toBe(1));
    const after = get(BUILTINS.pods, 'ws-bob-0')!;
    expect(after.metadata.uid).toBe(before);
    expect(after.metadata.ownerReferences?.[0]).toMatchObject({ kind: 'StatefulSet', name: 'ws-bob', uid: get(BUILTINS.statefulsets, 'ws-bob')?.metadata.uid });
  });

  it('a claim binds to a matching static volume rather than provisioning one', async () => {
    store.create(BUILTINS.persistentvolumes, {
      apiVersion: 'v1', kind: 'PersistentVolume', metadata: { name: 'omop-cdm', labels: { dataset: 'omop' } },
      spec: { capacity: { storage: '500Gi' }, accessModes: ['ReadOnlyMany'], storageClassName: 'datasets', persistentVolumeReclaimPolicy: 'Retain', nfs: { server: '10.1.0.5', path: '/omop' } },
    });
    store.create(BUILTINS.persistentvolumeclaims, {
      apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'omop', namespace: NS },
      spec: { accessModes: ['ReadOnlyMany'], storageClassName: 'datasets', selector: { matchLabels: { dataset: 'omop' } }, resources: { requests: { storage: '100Gi' } } },
    });
    await vi.waitFor(() => expect(statusOf(BUILTINS.persistentvolumeclaims, 'omop')).toMatchObject({ phase: 'Bound', capacity: { storage: '500Gi' } }));
    expect((get(BUILTINS.persistentvolumeclaims, 'omop')?.spec as { volumeName: string }).volumeName).toBe('omop-cdm');
    store.delete(BUILTINS.persistentvolumeclaims, NS, 'omop');
    await vi.waitFor(() => expect(store.get(BUILTINS.persistentvolumes, undefined, 'omop-cdm')?.status).toMatchObject({ phase: 'Released' }));
  });

  it('a claim naming a volume binds to exactly that one; a volume pre-bound by claimRef waits for its claim', async () => {
    const pv = (name: string, extra: Record<string, unknown> = {}) => ({
      apiVersion: 'v1', kind: 'PersistentVolume', metadata: { name },
      spec: { capacity: { storage: '50Gi' }, accessModes: ['ReadWriteOnce'], storageClassName: 'standard', persistentVolumeReclaimPolicy: 'Retain', hostPath: { path: `/data/${name}` }, ...extra },
    });
    store.create(BUILTINS.persistentvolumes, pv('small'));
    store.create(BUILTINS.persistentvolumes, pv('chosen'));
    store.create(BUILTINS.persistentvolumes, pv('reserved', { claimRef: { namespace: NS, name: 'imaging' } }));
    const claim = (name: string, extra: Record<string, unknown> = {}) => ({
      apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name, namespace: NS },
      spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '10Gi' } }, ...extra },
    });
    store.create(BUILTINS.persistentvolumeclaims, claim('named', { volumeName: 'chosen' }));
    await vi.waitFor(() => expect(statusOf(BUILTINS.persistentvolumeclaims, 'named').phase).toBe('Bound'));
    expect((get(BUILTINS.persistentvolumeclaims, 'named')?.spec as { volumeName: string }).volumeName).toBe('chosen');
    store.create(BUILTINS.persistentvolumeclaims, claim('imaging'));
    await vi.waitFor(() => expect(statusOf(BUILTINS.persistentvolumeclaims, 'imaging').phase).toBe('Bound'));
    expect((get(BUILTINS.persistentvolumeclaims, 'imaging')?.spec as { volumeName: string }).volumeName).toBe('reserved');
    expect(store.get(BUILTINS.persistentvolumes, undefined, 'small')?.status).toMatchObject({ phase: 'Available' });
  });

  it('deleting a claim deletes its provisioned volume (reclaim policy Delete)', async () => {
    store.create(BUILTINS.persistentvolumeclaims, {
      apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'scratch', namespace: NS },
      spec: { accessModes: ['ReadWriteOnce'], storageClassName: 'fast-nvme', resources: { requests: { storage: '100Gi' } } },
    });
    await vi.waitFor(() => expect(statusOf(BUILTINS.persistentvolumeclaims, 'scratch').phase).toBe('Bound'));
    const volume = (get(BUILTINS.persistentvolumeclaims, 'scratch')?.spec as { volumeName: string }).volumeName;
    expect(store.get(BUILTINS.persistentvolumes, undefined, volume)?.spec).toMatchObject({ storageClassName: 'fast-nvme', capacity: { storage: '100Gi' } });
    store.delete(BUILTINS.persistentvolumeclaims, NS, 'scratch');
    await vi.waitFor(() => expect(store.get(BUILTINS.persistentvolumes, undefined, volume)).toBeUndefined());
  });

  it('a claim with storageClassName "" and no volume stays Pending', async () => {
    store.create(BUILTINS.persistentvolumeclaims, {
      apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'nothing', namespace: NS },
      spec: { accessModes: ['ReadWriteOnce'], storageClassName: '', resources: { requests: { storage: '1Gi' } } },
    });
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(statusOf(BUILTINS.persistentvolumeclaims, 'nothing').phase).toBe('Pending');
    expect(store.list(BUILTINS.persistentvolumes).items).toEqual([]);
  });

  it('a Job completes: pods succeed, completions reached, Complete condition and completionTime', async () => {
    store.create(BUILTINS.jobs, job('train', { completions: 3, parallelism: 2 }));
    // A 1.23 job controller gives Complete no reason (later releases add CompletionsReached and SuccessCriteriaMet).
    await vi.waitFor(() => expect(conditionsOf(BUILTINS.jobs, 'train')).toEqual({ Complete: 'True/' }));
    expect(statusOf(BUILTINS.jobs, 'train')).toMatchObject({ succeeded: 3, ready: 0 });
    expect(statusOf(BUILTINS.jobs, 'train').completionTime).toBeTypeOf('string');
    expect(statusOf(BUILTINS.jobs, 'train').active).toBeUndefined();
    const pods = podsOwnedBy(get(BUILTINS.jobs, 'train')?.metadata.uid);
    expect(pods).toHaveLength(3);
    expect(pods[0]?.metadata.labels).toMatchObject({ 'job-name': 'train', 'batch.kubernetes.io/job-name': 'train' });
  });

  it('a finished Job with ttlSecondsAfterFinished is deleted with its pods', async () => {
    store.create(BUILTINS.jobs, job('short-lived', { ttlSecondsAfterFinished: 0 }));
    await vi.waitFor(() => expect(get(BUILTINS.jobs, 'short-lived')).toBeUndefined());
    expect(store.list(BUILTINS.pods, { namespace: NS }).items).toEqual([]);
  });

  it('an Indexed Job runs one pod per completion index', async () => {
    store.create(BUILTINS.jobs, job('shards', { completions: 3, parallelism: 3, completionMode: 'Indexed' }));
    await vi.waitFor(() => expect(statusOf(BUILTINS.jobs, 'shards')).toMatchObject({ succeeded: 3, completedIndexes: '0-2' }));
    const indexes = podsOwnedBy(get(BUILTINS.jobs, 'shards')?.metadata.uid).map((p) => p.metadata.annotations?.['batch.kubernetes.io/job-completion-index']).sort();
    expect(indexes).toEqual(['0', '1', '2']);
  });

  it('a failing Job stops at backoffLimit with BackoffLimitExceeded', async () => {
    store.create(BUILTINS.jobs, job('broken', { backoffLimit: 2 }, { 'devcluster.sde.london/fail': 'true' }));
    await vi.waitFor(() => expect(conditionsOf(BUILTINS.jobs, 'broken').Failed).toBe('True/BackoffLimitExceeded'));
    expect(statusOf(BUILTINS.jobs, 'broken')).toMatchObject({ failed: 3 });
    expect(podsOwnedBy(get(BUILTINS.jobs, 'broken')?.metadata.uid)).toHaveLength(3);
  });

  it.each([
    ['the stand-in kubelet\'s exit code', { 'stand-in.sde.test/exit-code': '11' }, 11, 'Failed', undefined],
    ['exit code 0 and a termination message', { 'stand-in.sde.test/exit-code': '0', 'devcluster.sde.london/termination-message': 'PASS open mirror' }, 0, 'Succeeded', 'PASS open mirror'],
  ])('a Job pod ends with %s', async (_what, annotations, exitCode, phase, message) => {
    store.create(BUILTINS.jobs, job('probe', { backoffLimit: 0 }, annotations));
    await vi.waitFor(() => expect(Object.keys(conditionsOf(BUILTINS.jobs, 'probe'))).toContain(phase === 'Failed' ? 'Failed' : 'Complete'));
    const [pod] = podsOwnedBy(get(BUILTINS.jobs, 'probe')?.metadata.uid);
    const status = pod?.status as { phase: string; containerStatuses: { state: { terminated: { exitCode: number; message?: string } } }[] };
    expect(status.phase).toBe(phase);
    expect(status.containerStatuses[0]?.state.terminated.exitCode).toBe(exitCode);
    expect(status.containerStatuses[0]?.state.terminated.message).toBe(message);
  });

  it('a Job whose pods restart OnFailure fails once the restarts reach backoffLimit', async () => {
    const onFailure = job('restarting', { backoffLimit: 2 }, { 'devcluster.sde.london/fail': 'true' });
    ((onFailure.spec as { template: { spec: { restartPolicy: string } } }).template.spec).restartPolicy = 'OnFailure';
    store.create(BUILTINS.jobs, onFailure);
    await vi.waitFor(() => expect(conditionsOf(BUILTINS.jobs, 'restarting').Failed).toBe('True/BackoffLimitExceeded'));
    expect(statusOf(BUILTINS.jobs, 'restarting')).toMatchObject({ failed: 1 });
    expect(podsOwnedBy(get(BUILTINS.jobs, 'restarting')?.metadata.uid)).toEqual([]);
  });

  it('a suspended Job has no pods; resuming runs it to completion', async () => {
    store.create(BUILTINS.jobs, job('later', { suspend: true }));
    await vi.waitFor(() => expect(conditionsOf(BUILTINS.jobs, 'later').Suspended).toBe('True/JobSuspended'));
    expect(podsOwnedBy(get(BUILTINS.jobs, 'later')?.metadata.uid)).toEqual([]);
    expect(statusOf(BUILTINS.jobs, 'later').startTime).toBeUndefined();
    const resumed = get(BUILTINS.jobs, 'later')!;
    (resumed.spec as { suspend: boolean }).suspend = false;
    store.update(BUILTINS.jobs, resumed);
    await vi.waitFor(() => expect(conditionsOf(BUILTINS.jobs, 'later')).toMatchObject({ Suspended: 'False/JobResumed', Complete: 'True/' }));
  });

  it('suspending a running Job deletes its active pods', async () => {
    store.create(BUILTINS.jobs, job('long', { parallelism: 2, completions: 2 }, { 'devcluster.sde.london/run-seconds': '60' }));
    await vi.waitFor(() => expect(statusOf(BUILTINS.jobs, 'long')).toMatchObject({ active: 2, ready: 2 }));
    const suspended = get(BUILTINS.jobs, 'long')!;
    (suspended.spec as { suspend: boolean }).suspend = true;
    store.update(BUILTINS.jobs, suspended);
    await vi.waitFor(() => expect(podsOwnedBy(get(BUILTINS.jobs, 'long')?.metadata.uid)).toEqual([]));
    await vi.waitFor(() => expect(conditionsOf(BUILTINS.jobs, 'long').Suspended).toBe('True/JobSuspended'));
    expect(statusOf(BUILTINS.jobs, 'long').active).toBeUndefined();
  });

  it('a Job past activeDeadlineSeconds fails with DeadlineExceeded', async () => {
    store.create(BUILTINS.jobs, job('slow', { activeDeadlineSeconds: 1 }, { 'devcluster.sde.london/run-seconds': '60' }));
    await vi.waitFor(() => expect(conditionsOf(BUILTINS.jobs, 'slow').Failed).toBe('True/DeadlineExceeded'), { timeout: 4000 });
    await vi.waitFor(() => expect(podsOwnedBy(get(BUILTINS.jobs, 'slow')?.metadata.uid)).toEqual([]));
  });

  it('deleting a Deployment removes its ReplicaSets and pods (garbage collection)', async () => {
    store.create(BUILTINS.deployments, deployment('gone', 2));
    await vi.waitFor(() => expect(statusOf(BUILTINS.deployments, 'gone').readyReplicas).toBe(2));
    store.delete(BUILTINS.deployments, NS, 'gone');
    await vi.waitFor(() => {
      expect(store.list(BUILTINS.replicasets, { namespace: NS }).items).toEqual([]);
      expect(store.list(BUILTINS.pods, { namespace: NS }).items).toEqual([]);
    });
  });
});
