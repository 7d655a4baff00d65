// Defaults of the apps/v1 and batch/v1 workloads as a 1.23 API server stores them (read back
// there): their pod templates, a Job's generated selector and labels, a StatefulSet's update
// strategy and claim templates, and the status each starts with.
import { asObject, ensureObject, isPlainObject, objectsIn } from '../store/objects.ts';
import type { KubeObject } from '../store/types.ts';
import { defaultPodSpec } from './pod-defaults.ts';

type Obj = Record<string, unknown>;

function defaultTemplate(spec: Obj): void {
  defaultPodSpec(ensureObject(ensureObject(spec, 'template'), 'spec'));
}

/**
 * A Job: its pod template, parallelism and completions, and on creation (unless it chose its own
 * selector) the `controller-uid` selector, `controller-uid`/`job-name` template labels, and those
 * labels on the Job itself when it has none.
 */
export function defaultJob(job: KubeObject, creating: boolean): void {
  const spec = ensureObject(job as Obj, 'spec');
  defaultTemplate(spec);
  if (spec.completions === undefined && spec.parallelism === undefined) {
    spec.completions = 1;
    spec.parallelism = 1;
  }
  spec.parallelism ??= 1;
  spec.backoffLimit ??= 6;
  spec.completionMode ??= 'NonIndexed';
  spec.suspend ??= false;
  if (!creating) return;
  const uid = job.metadata.uid ?? '';
  if (spec.manualSelector !== true) {
    spec.selector = { matchLabels: { 'controller-uid': uid } };
    const metadata = ensureObject(ensureObject(spec, 'template'), 'metadata');
    metadata.labels = { ...asObject(metadata.labels), 'controller-uid': uid, 'job-name': job.metadata.name };
  }
  const templateLabels = (ensureObject(ensureObject(spec, 'template'), 'metadata').labels ?? {}) as Record<string, string>;
  if (Object.keys(job.metadata.labels ?? {}).length === 0 && Object.keys(templateLabels).length > 0) job.metadata.labels = { ...templateLabels };
  job.status = {};
}

/** A Deployment: apps/v1 SetDefaults_Deployment (`kubectl rollout` reads the strategy and deadline). */
export function defaultDeployment(deployment: KubeObject, creating: boolean): void {
  const spec = ensureObject(deployment as Obj, 'spec');
  spec.replicas ??= 1;
  defaultTemplate(spec);
  const strategy = ensureObject(spec, 'strategy');
  strategy.type ??= 'RollingUpdate';
  if (strategy.type === 'RollingUpdate') {
    const rollingUpdate = ensureObject(strategy, 'rollingUpdate');
    rollingUpdate.maxUnavailable ??= '25%';
    rollingUpdate.maxSurge ??= '25%';
  }
  spec.revisionHistoryLimit ??= 10;
  spec.progressDeadlineSeconds ??= 600;
  if (creating) deployment.status = {};
}

/** A ReplicaSet: its replicas and pod template. */
export function defaultReplicaSet(replicaSet: KubeObject, creating: boolean): void {
  const spec = ensureObject(replicaSet as Obj, 'spec');
  spec.replicas ??= 1;
  defaultTemplate(spec);
  if (creating) replicaSet.status = { replicas: 0 };
}

/**
 * A StatefulSet: a RollingUpdate strategy with partition 0 when it names none (a given
 * RollingUpdate gets no partition unless it has a rollingUpdate block), OrderedReady, a history
 * limit, and claim templates shaped as claims (kind, volumeMode, Pending status).
 */
export function defaultStatefulSet(statefulSet: KubeObject, creating: boolean): void {
  const spec = ensureObject(statefulSet as Obj, 'spec');
  spec.replicas ??= 1;
  defaultTemplate(spec);
  const strategy = ensureObject(spec, 'updateStrategy');
  if (strategy.type === undefined) {
    strategy.type = 'RollingUpdate';
    ensureObject(strategy, 'rollingUpdate');
  }
  if (strategy.type === 'RollingUpdate' && isPlainObject(strategy.rollingUpdate)) strategy.rollingUpdate.partition ??= 0;
  spec.podManagementPolicy ??= 'OrderedReady';
  spec.revisionHistoryLimit ??= 10;
  for (const claim of objectsIn(spec.volumeClaimTemplates)) {
    claim.apiVersion ??= 'v1';
    claim.kind ??= 'PersistentVolumeClaim';
    ensureObject(claim, 'spec').volumeMode ??= 'Filesystem';
    claim.status ??= { phase: 'Pending' };
  }
  if (creating) statefulSet.status = { replicas: 0, availableReplicas: 0 };
}
