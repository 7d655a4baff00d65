// The registry's ValidateUpdate of a real API server, for the built-in kinds whose updates it
// refuses in part: after defaulting, before quota, the new object is checked against the stored
// one and a refusal is 422 Invalid with one cause per field, as kube-apiserver 1.23 words it. It
// applies to every write of the main resource (update, each patch type, server-side apply, dry
// run or not); a status write cannot change these fields, and is not checked. Kinds not listed
// (Namespace, Role, NetworkPolicy, LimitRange, ServiceAccount...) may change freely.
import { BUILTINS } from '../store/builtins.ts';
import { invalid } from '../store/errors.ts';
import type { StatusCause } from '../store/errors.ts';
import type { StorePlugin } from '../store/cluster-store.ts';
import type { KubeObject, ResourceType } from '../store/types.ts';
import { claimUpdateErrors } from './claim-update.ts';
import { configMapUpdateErrors, secretUpdateErrors } from './config-data-update.ts';
import { jobUpdateErrors } from './job-update.ts';
import { quotaUpdateErrors } from './quota-update.ts';
import { roleRefUpdateErrors } from './role-ref-update.ts';
import { runtimeClassUpdateErrors } from './runtime-class-update.ts';
import { selectorUpdateErrors } from './selector-update.ts';
import { serviceUpdateErrors } from './service-update.ts';
import { statefulSetUpdateErrors } from './statefulset-update.ts';
import { volumeUpdateErrors } from './volume-update.ts';

type UpdateRule = (next: KubeObject, old: KubeObject) => StatusCause[];

const RULES = new Map<ResourceType, UpdateRule>([
  [BUILTINS.jobs, jobUpdateErrors],
  [BUILTINS.statefulsets, statefulSetUpdateErrors],
  [BUILTINS.deployments, selectorUpdateErrors],
  [BUILTINS.replicasets, selectorUpdateErrors],
  [BUILTINS.persistentvolumeclaims, claimUpdateErrors],
  [BUILTINS.persistentvolumes, volumeUpdateErrors],
  [BUILTINS.services, serviceUpdateErrors],
  [BUILTINS.rolebindings, roleRefUpdateErrors],
  [BUILTINS.clusterrolebindings, roleRefUpdateErrors],
  [BUILTINS.resourcequotas, quotaUpdateErrors],
  [BUILTINS.configmaps, configMapUpdateErrors],
  [BUILTINS.secrets, secretUpdateErrors],
  [BUILTINS.runtimeclasses, runtimeClassUpdateErrors],
]);

/** Refuses (422 Invalid) the updates of built-in kinds a 1.23 API server refuses, with its causes. */
export function updateValidation(): StorePlugin {
  return {
    name: 'update-validation',
    admit(obj, ctx) {
      if (ctx.operation !== 'UPDATE' || ctx.subresource === 'status' || ctx.old === undefined) return;
      const causes = RULES.get(ctx.rt)?.(obj, ctx.old) ?? [];
      if (causes.length > 0) throw invalid(ctx.rt, obj.metadata.name, causes);
    },
  };
}
