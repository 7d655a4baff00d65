// Defaulting the real API server applies to built-in kinds, where clients and the simulated
// cluster rely on it: pod phase and requests-from-limits, namespace phase and name label,
// workload replicas, PVC and service basics.
import { BUILTINS } from '../store/builtins.ts';
import type { AdmissionContext, StorePlugin } from '../store/store.ts';
import type { KubeObject } from '../store/types.ts';
import { podContainers } from '../resources/podResources.ts';

type Obj = Record<string, unknown>;

function sub(obj: Obj, key: string): Obj {
  const cur = obj[key];
  if (typeof cur === 'object' && cur !== null && !Array.isArray(cur)) return cur as Obj;
  const fresh: Obj = {};
  obj[key] = fresh;
  return fresh;
}

function section(obj: KubeObject, key: string): Obj {
  return sub(obj as Obj, key);
}

function defaultPod(pod: KubeObject, ctx: AdmissionContext): void {
  const spec = section(pod, 'spec');
  spec.restartPolicy ??= 'Always';
  spec.schedulerName ??= 'default-scheduler';
  spec.dnsPolicy ??= 'ClusterFirst';
  spec.terminationGracePeriodSeconds ??= 30;
  spec.serviceAccountName ??= 'default';
  const { containers, initContainers } = podContainers(pod);
  for (const c of [...containers, ...initContainers]) {
    const limits = c.resources?.limits;
    if (!limits) continue;
    c.resources ??= {};
    const requests = (c.resources.requests ??= {});
    for (const [name, q] of Object.entries(limits)) if (requests[name] === undefined) requests[name] = q;
  }
  if (ctx.operation === 'CREATE') {
    const status = section(pod, 'status');
    status.phase ??= 'Pending';
  }
}

function defaultWorkload(obj: KubeObject, ctx: AdmissionContext): void {
  const spec = section(obj, 'spec');
  if (ctx.rt === BUILTINS.jobs) {
    if (spec.completions === undefined && spec.parallelism === undefined) {
      spec.completions = 1;
      spec.parallelism = 1;
    }
    spec.parallelism ??= 1;
    spec.backoffLimit ??= 6;
    return;
  }
  spec.replicas ??= 1;
  if (ctx.rt === BUILTINS.deployments) defaultDeployment(spec);
  if (ctx.rt === BUILTINS.statefulsets) defaultStatefulSet(spec);
}

// apps/v1 SetDefaults_Deployment: tools such as `kubectl rollout` read the strategy and deadline.
function defaultDeployment(spec: Obj): void {
  const strategy = sub(spec, 'strategy');
  strategy.type ??= 'RollingUpdate';
  if (strategy.type === 'RollingUpdate') {
    const rollingUpdate = sub(strategy, 'rollingUpdate');
    rollingUpdate.maxUnavailable ??= '25%';
    rollingUpdate.maxSurge ??= '25%';
  }
  spec.revisionHistoryLimit ??= 10;
  spec.progressDeadlineSeconds ??= 600;
}

// apps/v1 SetDefaults_StatefulSet: `kubectl rollout status` refuses a set without a strategy type.
function defaultStatefulSet(spec: Obj): void {
  const strategy = sub(spec, 'updateStrategy');
  strategy.type ??= 'RollingUpdate';
  if (strategy.type === 'RollingUpdate') sub(strategy, 'rollingUpdate').partition ??= 0;
  spec.podManagementPolicy ??= 'OrderedReady';
  spec.revisionHistoryLimit ??= 10;
  const retention = sub(spec, 'persistentVolumeClaimRetentionPolicy');
  retention.whenDeleted ??= 'Retain';
  retention.whenScaled ??= 'Retain';
}

/** Built-in defaulting, as a store plugin; runs before validation and quota. */
export function builtinDefaults(): StorePlugin {
  return {
    name: 'builtin-defaults',
    admit(obj, ctx) {
      if (ctx.subresource === 'status') return;
      switch (ctx.rt) {
        case BUILTINS.pods:
          defaultPod(obj, ctx);
          break;
        case BUILTINS.namespaces: {
          obj.metadata.labels = { ...(obj.metadata.labels ?? {}), 'kubernetes.io/metadata.name': obj.metadata.name };
          const spec = section(obj, 'spec');
          spec.finalizers ??= ['kubernetes'];
          if (ctx.operation === 'CREATE') section(obj, 'status').phase ??= 'Active';
          break;
        }
        case BUILTINS.secrets: {
          const stringData = obj.stringData as Record<string, string> | undefined;
          if (stringData) {
            const data = { ...((obj.data as Record<string, string> | undefined) ?? {}) };
            for (const [k, v] of Object.entries(stringData)) data[k] = Buffer.from(v, 'utf8').toString('base64');
            obj.data = data;
            delete obj.stringData;
          }
          break;
        }
        case BUILTINS.persistentvolumeclaims:
          if (ctx.operation === 'CREATE') section(obj, 'status').phase ??= 'Pending';
          break;
        case BUILTINS.persistentvolumes:
          if (ctx.operation === 'CREATE') section(obj, 'status').phase ??= 'Available';
          break;
        case BUILTINS.services: {
          const spec = section(obj, 'spec');
          spec.type ??= 'ClusterIP';
          if (ctx.operation === 'CREATE' && spec.clusterIP === undefined && spec.type !== 'ExternalName') {
            spec.clusterIP = nextClusterIP();
          }
          break;
        }
        case BUILTINS.deployments:
        case BUILTINS.statefulsets:
        case BUILTINS.replicasets:
        case BUILTINS.jobs:
          defaultWorkload(obj, ctx);
          break;
        default:
          break;
      }
    },
  };
}

let serviceCounter = 10;

function nextClusterIP(): string {
  serviceCounter += 1;
  return `10.96.${Math.floor(serviceCounter / 250) % 250}.${(serviceCounter % 250) + 1}`;
}
