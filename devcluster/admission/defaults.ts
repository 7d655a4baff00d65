// Defaulting the real API server applies to built-in kinds (SetDefaults_*, the registries'
// PrepareForCreate and the mutating admission plugins), as a 1.23 server stores them: what
// clients read back and what the simulated cluster relies on. Pods, Services and workloads have
// files of their own.
import { BUILTINS } from '../store/builtins.ts';
import { isPlainObject } from '../store/objects.ts';
import type { AdmissionContext, StorePlugin } from '../store/cluster-store.ts';
import type { KubeObject } from '../store/types.ts';
import { defaultPodOnly, defaultPodSpec, qosClass } from './pod-defaults.ts';
import { defaultService } from './service-defaults.ts';
import { defaultDeployment, defaultJob, defaultReplicaSet, defaultStatefulSet } from './workload-defaults.ts';

type Obj = Record<string, unknown>;

function section(obj: KubeObject, key: string): Obj {
  const cur = (obj as Obj)[key];
  if (isPlainObject(cur)) return cur;
  const fresh: Obj = {};
  (obj as Obj)[key] = fresh;
  return fresh;
}

function defaultPod(pod: KubeObject, ctx: AdmissionContext): void {
  const spec = section(pod, 'spec');
  defaultPodSpec(spec);
  defaultPodOnly(spec);
  if (ctx.operation === 'CREATE') {
    const status = section(pod, 'status');
    status.phase ??= 'Pending';
    status.qosClass = qosClass(spec);
  }
}

// networking/v1: Ingress always, Egress too when there are egress rules; ports are TCP unless named
// otherwise. 1.23 also always stores an empty status (the field left the API in later releases).
function defaultNetworkPolicy(policy: KubeObject): void {
  policy.status ??= {};
  const spec = section(policy, 'spec');
  const egress = Array.isArray(spec.egress) ? spec.egress.filter(isPlainObject) : [];
  const ingress = Array.isArray(spec.ingress) ? spec.ingress.filter(isPlainObject) : [];
  if (!Array.isArray(spec.policyTypes) || spec.policyTypes.length === 0) spec.policyTypes = egress.length > 0 ? ['Ingress', 'Egress'] : ['Ingress'];
  for (const rule of [...ingress, ...egress]) {
    for (const port of Array.isArray(rule.ports) ? rule.ports.filter(isPlainObject) : []) port.protocol ??= 'TCP';
  }
}

function defaultVolume(volume: KubeObject, ctx: AdmissionContext): void {
  const spec = section(volume, 'spec');
  spec.persistentVolumeReclaimPolicy ??= 'Retain';
  spec.volumeMode ??= 'Filesystem';
  const hostPath = spec.hostPath;
  if (isPlainObject(hostPath)) hostPath.type ??= '';
  // Pending until the PV controller has looked at it (the simulation makes it Available).
  if (ctx.operation === 'CREATE') section(volume, 'status').phase ??= 'Pending';
}

function defaultNamespace(namespace: KubeObject, ctx: AdmissionContext): void {
  namespace.metadata.labels = { ...(namespace.metadata.labels ?? {}), 'kubernetes.io/metadata.name': namespace.metadata.name };
  section(namespace, 'spec').finalizers ??= ['kubernetes'];
  if (ctx.operation === 'CREATE') section(namespace, 'status').phase ??= 'Active';
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

/** Built-in defaulting, as a store plugin; runs after the typed round trip, before validation and quota. */
export function builtinDefaults(): StorePlugin {
  return {
    name: 'builtin-defaults',
    admit(obj, ctx) {
      if (ctx.subresource === 'status') return;
      const creating = ctx.operation === 'CREATE';
      switch (ctx.rt) {
        case BUILTINS.pods:
          defaultPod(obj, ctx);
          break;
        case BUILTINS.namespaces:
          defaultNamespace(obj, ctx);
          break;
        case BUILTINS.secrets:
          defaultSecret(obj);
          break;
        case BUILTINS.persistentvolumeclaims: {
          section(obj, 'spec').volumeMode ??= 'Filesystem';
          if (creating) section(obj, 'status').phase ??= 'Pending';
          break;
        }
        case BUILTINS.persistentvolumes:
          defaultVolume(obj, ctx);
          break;
        case BUILTINS.services:
          defaultService(obj, ctx.old);
          break;
        case BUILTINS.networkpolicies:
          defaultNetworkPolicy(obj);
          break;
        case BUILTINS.deployments:
          defaultDeployment(obj, creating);
          break;
        case BUILTINS.statefulsets:
          defaultStatefulSet(obj, creating);
          break;
        case BUILTINS.replicasets:
          defaultReplicaSet(obj, creating);
          break;
        case BUILTINS.jobs:
          defaultJob(obj, creating);
          break;
        default:
          break;
      }
    },
  };
}
