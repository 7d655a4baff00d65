// Defaulting the real API server applies to built-in kinds (SetDefaults_*, the registries'
// PrepareForCreate and the mutating admission plugins), as a 1.23 server stores them: what
// clients read back and what the simulated cluster relies on. Pods, Services and workloads have
// files of their own.
import { BUILTINS } from '../store/builtins.ts';
import { ensureObject, isPlainObject, objectsIn } from '../store/objects.ts';
import type { AdmissionContext, StorePlugin } from '../store/cluster-store.ts';
import type { KubeObject, ResourceType } from '../store/types.ts';
import { defaultPodOnly, defaultPodSpec, qosClass } from './pod-defaults.ts';
import { defaultService } from './service-defaults.ts';
import { defaultDeployment, defaultJob, defaultReplicaSet, defaultStatefulSet } from './workload-defaults.ts';

function defaultPod(pod: KubeObject, ctx: AdmissionContext): void {
  const spec = ensureObject(pod, 'spec');
  defaultPodSpec(spec);
  defaultPodOnly(spec);
  if (ctx.operation === 'CREATE') {
    const status = ensureObject(pod, 'status');
    status.phase ??= 'Pending';
    status.qosClass = qosClass(spec);
  }
}

// networking/v1: Ingress always, Egress too when there are egress rules; ports are TCP unless named
// otherwise. 1.23 also always stores an empty status (the field left the API in later releases).
function defaultNetworkPolicy(policy: KubeObject): void {
  policy.status ??= {};
  const spec = ensureObject(policy, 'spec');
  const egress = objectsIn(spec.egress);
  const ingress = objectsIn(spec.ingress);
  if (!Array.isArray(spec.policyTypes) || spec.policyTypes.length === 0) spec.policyTypes = egress.length > 0 ? ['Ingress', 'Egress'] : ['Ingress'];
  for (const rule of [...ingress, ...egress]) {
    for (const port of objectsIn(rule.ports)) port.protocol ??= 'TCP';
  }
}

function defaultVolume(volume: KubeObject, ctx: AdmissionContext): void {
  const spec = ensureObject(volume, 'spec');
  spec.persistentVolumeReclaimPolicy ??= 'Retain';
  spec.volumeMode ??= 'Filesystem';
  const hostPath = spec.hostPath;
  if (isPlainObject(hostPath)) hostPath.type ??= '';
  // Pending until the PV controller has looked at it (the simulation makes it Available).
  if (ctx.operation === 'CREATE') ensureObject(volume, 'status').phase ??= 'Pending';
}

function defaultNamespace(namespace: KubeObject, ctx: AdmissionContext): void {
  namespace.metadata.labels = { ...(namespace.metadata.labels ?? {}), 'kubernetes.io/metadata.name': namespace.metadata.name };
  ensureObject(namespace, 'spec').finalizers ??= ['kubernetes'];
  if (ctx.operation === 'CREATE') ensureObject(namespace, 'status').phase ??= 'Active';
}

function defaultSecret(secret: KubeObject): void {
  const stringData = secret.stringData as Record<string, string> | undefined;
  if (stringData) {
    const data = { ...((secret.data as Record<string, string> | undefined) ?? {}) };
    for (const [k, v] of Object.entries(stringData)) data[k] = Buffer.from(v, 'utf8').toString('base64');
    secret.data = data;
    delete secret.stringData;
  }
  secret.type ??= 'Opaque';
}

function defaultClaim(claim: KubeObject, ctx: AdmissionContext): void {
  ensureObject(claim, 'spec').volumeMode ??= 'Filesystem';
  if (ctx.operation === 'CREATE') ensureObject(claim, 'status').phase ??= 'Pending';
}

// Each built-in kind's defaulting; kinds not listed are stored as sent.
const DEFAULTS = new Map<ResourceType, (obj: KubeObject, ctx: AdmissionContext) => void>([
  [BUILTINS.pods, defaultPod],
  [BUILTINS.namespaces, defaultNamespace],
  [BUILTINS.secrets, defaultSecret],
  [BUILTINS.persistentvolumeclaims, defaultClaim],
  [BUILTINS.persistentvolumes, defaultVolume],
  [BUILTINS.services, (service, ctx) => defaultService(service, ctx.old)],
  [BUILTINS.networkpolicies, defaultNetworkPolicy],
  [BUILTINS.deployments, (deployment, ctx) => defaultDeployment(deployment, ctx.operation === 'CREATE')],
  [BUILTINS.statefulsets, (statefulSet, ctx) => defaultStatefulSet(statefulSet, ctx.operation === 'CREATE')],
  [BUILTINS.replicasets, (replicaSet, ctx) => defaultReplicaSet(replicaSet, ctx.operation === 'CREATE')],
  [BUILTINS.jobs, (job, ctx) => defaultJob(job, ctx.operation === 'CREATE')],
]);

/** Built-in defaulting, as a store plugin; runs after the typed round trip, before validation and quota. */
export function builtinDefaults(): StorePlugin {
  return {
    name: 'builtin-defaults',
    admit(obj, ctx) {
      if (ctx.subresource === 'status') return;
      DEFAULTS.get(ctx.rt)?.(obj, ctx);
    },
  };
}
