// Shared set-up for the runtime's protocol tests: the project's dev cluster over HTTP, a test
// Enclave reconciler, and managers.
import type { KubernetesObject } from '@kubernetes/client-node';
import { startDevCluster, type DevCluster, type DevClusterOptions } from '../../../devcluster/index.ts';
import type { ControllerOptions, Reconciler } from '../../../operator/runtime/controller.ts';
import { setConditions, type Condition } from '../../../operator/runtime/conditions.ts';
import { KubeClient, loadKubeConfig } from '../../../operator/runtime/kube.ts';
import { ENCLAVE, MANAGED_BY } from '../../../api/labels.ts';
import { createLogger } from '../../../operator/runtime/logger.ts';
import { Manager, type ManagerOptions } from '../../../operator/runtime/manager.ts';
import { OperatorMetrics } from '../../../operator/runtime/metrics.ts';
import { Kinds, resourceType } from '../../../operator/runtime/resources.ts';

/** Test custom resources, shaped like the operator's. */
export const TestKinds = {
  Enclave: resourceType('runtime.test.sde.london/v1alpha1', 'Enclave', 'enclaves', false),
  Workspace: resourceType('runtime.test.sde.london/v1alpha1', 'Workspace', 'workspaces', true),
};

/** An API server over HTTP for a test: the project's dev cluster, with its fault injection. */
export type TestCluster = DevCluster;

/** Starts the project's dev cluster with no simulated nodes and the test CRDs installed. */
export async function startTestCluster(options: DevClusterOptions = {}): Promise<TestCluster> {
  const cluster = await startDevCluster({ simulate: false, ...options });
  await installTestCrds(cluster.kubeconfigPath);
  return cluster;
}

/** Installs the test kinds' CRDs (schemaless, with a status subresource) on a dev cluster. */
export async function installTestCrds(kubeconfigPath: string): Promise<void> {
  const client = userClient(kubeconfigPath);
  for (const type of Object.values(TestKinds)) {
    const [group, version] = type.apiVersion.split('/') as [string, string];
    await client.apply({
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      metadata: { name: `${type.plural}.${group}` },
      spec: {
        group,
        scope: type.namespaced ? 'Namespaced' : 'Cluster',
        names: { kind: type.kind, plural: type.plural, singular: type.kind.toLowerCase(), listKind: `${type.kind}List` },
        versions: [{ name: version, served: true, storage: true, subresources: { status: {} }, schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } } }],
      },
    } as KubernetesObject);
  }
}

/** The test operator's field manager: its own, not the SDE operator's (the runtime is given it). */
export const TEST_FIELD_MANAGER = 'runtime-test';
/** Objects labelled `<this>: "true"` hold the test's "research data": pruning never deletes them. */
export const TEST_DATA_LABEL = 'runtime.test.sde.london/data';

/** What the test operator tells the runtime about itself, as the SDE operator does with its own. */
export const TEST_IDENTITY = {
  fieldManager: TEST_FIELD_MANAGER,
  managedBy: { label: MANAGED_BY, value: TEST_FIELD_MANAGER },
  protectFromPrune: (object: Readonly<KubernetesObject>): boolean => object.kind === 'PersistentVolume' || object.metadata?.labels?.[TEST_DATA_LABEL] === 'true',
} satisfies Partial<ManagerOptions>;

export interface TestEnclave extends KubernetesObject {
  spec: { configMaps: string[]; claims?: string[] };
  status?: { phase?: string; conditions?: Condition[] };
}

/** An Enclave with the given rendered config maps (and, optionally, claims). */
export function enclave(name: string, configMaps: string[], claims: string[] = []): TestEnclave {
  return { apiVersion: TestKinds.Enclave.apiVersion, kind: 'Enclave', metadata: { name }, spec: { configMaps, claims } };
}

/** What the test reconciler renders for an enclave: a namespace, a default-deny policy, config maps and claims. */
export function render(object: Readonly<KubernetesObject>): KubernetesObject[] {
  const name = object.metadata?.name ?? '';
  const spec = (object as TestEnclave).spec;
  const namespace = `sandpit-${name}`;
  const labels = { [ENCLAVE]: name, [MANAGED_BY]: TEST_FIELD_MANAGER };
  const owner = { apiVersion: object.apiVersion ?? '', kind: object.kind ?? '', name, uid: object.metadata?.uid ?? '', controller: true, blockOwnerDeletion: true };
  return [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace, labels, ownerReferences: [owner] } },
    { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'default-deny', namespace, labels }, spec: { podSelector: {}, policyTypes: ['Ingress', 'Egress'] } } as KubernetesObject,
    ...spec.configMaps.map((cm) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: cm, namespace, labels }, data: { enclave: name } }) as KubernetesObject),
    ...(spec.claims ?? []).map(
      (claim) => ({ apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: claim, namespace, labels }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } }) as KubernetesObject,
    ),
  ];
}

/** A level-triggered reconciler in the shape the real ones will have: render, apply, prune, status, event. */
export function enclaveReconciler(onReconcile: (key: string) => void = () => undefined): Reconciler {
  return async (key, context) => {
    onReconcile(key);
    const object = context.primary();
    if (!object) return;
    const desired = render(object);
    await context.apply(desired);
    await context.prune({ selector: { [ENCLAVE]: key }, keep: desired });
    const previous = (object as TestEnclave).status?.conditions;
    const conditions = setConditions(previous, [{ type: 'Ready', status: 'True', reason: 'Provisioned', message: `namespace sandpit-${key} ready` }], { observedGeneration: object.metadata?.generation ?? 1 });
    const { written } = await context.patchStatus({ phase: 'Ready', conditions });
    if (written) await context.recordEvent({ type: 'Normal', reason: 'Provisioned', message: `namespace sandpit-${key} ready` });
  };
}

/** The controller options of the test Enclave controller. */
export function enclaveController(reconcile: Reconciler, extra: Partial<ControllerOptions> = {}): ControllerOptions {
  return {
    name: 'enclave',
    primary: TestKinds.Enclave,
    owns: [Kinds.Namespace, Kinds.NetworkPolicy, Kinds.ConfigMap, Kinds.PersistentVolumeClaim, Kinds.PersistentVolume],
    ownerLabel: ENCLAVE,
    reconcile,
    concurrency: 2,
    backoff: { baseMs: 20, maxMs: 200 },
    ...extra,
  };
}

/** A manager on `kubeconfigPath` with short timings, quiet logs, its own metrics and an ephemeral health port. */
export function testManager(kubeconfigPath: string, options: Partial<ManagerOptions> = {}): Manager {
  return new Manager({
    ...TEST_IDENTITY,
    kubeConfig: loadKubeConfig({ kubeconfigPath }),
    logger: createLogger({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }),
    metrics: new OperatorMetrics(),
    leaderElection: false,
    health: { port: 0, host: '127.0.0.1' },
    watch: { backoff: { baseMs: 20, maxMs: 200 }, resyncMs: 0, watchdogMs: 5_000 },
    ...options,
  });
}

/** A separate client playing the user (kubectl): its requests are not counted as the operator's. */
export function userClient(kubeconfigPath: string): KubeClient {
  return new KubeClient(loadKubeConfig({ kubeconfigPath }));
}
