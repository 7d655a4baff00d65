// Admitting a workload (a Workspace or a FederatedJob) into its enclave: the checks both
// reconcilers make, in one order, before anything is rendered.
import type { KubernetesObject } from '@kubernetes/client-node';
import type { z } from 'zod';
import type { Enclave } from '../api/enclave.ts';
import type { SiteConfig } from '../api/siteconfig.ts';
import type { Finding } from '../policy/index.ts';
import { liveAccessState } from '../api/access.ts';
import type { AccessState } from '../api/access.ts';
import { durationMs } from '../api/duration.ts';
import { enclaveNameOf, lookupEnclave } from './enclave/lookup.ts';
import { gpuQuotaRefusal } from './gpu-budget.ts';
import { SdeKinds } from './kinds.ts';
import type { JsonPatchOperation, LabelSelector, ReconcileContext, ResourceType } from './runtime/index.ts';
import { checkSpec, refusalFromFindings } from './spec-check.ts';
import { refuse } from './report.ts';
import type { Refusal } from './spec-check.ts';

/** What a workload kind contributes to its admission: its schema, its site rules, its GPUs, its running children. */
export interface WorkloadRules<T> {
  schema: z.ZodType<T>;
  check(workload: T, enclave: Enclave, site: SiteConfig): Finding[];
  gpus(workload: T): number;
  /** Field of the GPU request, named in a QuotaExceeded message. */
  gpuField: string;
  /** What runs for it, to stop while it is refused: the kinds, and the labels on them. */
  running: { kinds: readonly ResourceType[]; selector(enclaveName: string, name: string): LabelSelector };
}

/**
 * Admits the workload in `live`: its enclave must be this site's, valid and isolated; its spec
 * must pass the schema and the site rules; its GPUs must fit what the enclave's quota has left.
 * Returns the parsed workload, its enclave and where the enclave's access stands (from its spec
 * and its access record), or undefined once it has reported why not (or found the enclave another
 * site's, or still being provisioned: nothing to report then).
 */
export async function admitWorkload<T>(ctx: ReconcileContext, live: Readonly<KubernetesObject>, site: SiteConfig, now: Date, rules: WorkloadRules<T>): Promise<{ workload: T; enclave: Enclave; access: AccessState } | undefined> {
  const lookup = lookupEnclave(ctx.cache(SdeKinds.Enclave), live.metadata?.namespace, site.site, site.isolation.gateWorkspaces);
  if (lookup.state === 'other-site' || lookup.state === 'provisioning') return undefined;
  const refused = async (refusal: Refusal, concern?: string): Promise<undefined> => {
    await stopRefused(ctx, live, rules);
    await refuse(ctx, refusal, { now, ...(concern ? { concern } : {}) });
    return undefined;
  };
  const checked = checkSpec(rules.schema, live);
  if (!checked.ok) return refused(checked.refusal);
  if (lookup.state === 'refused') return refused(lookup.refusal, 'Admitted');
  const findings = refusalFromFindings(rules.check(checked.value, lookup.enclave, site));
  if (findings) return refused(findings);
  const namespace = live.metadata?.namespace ?? '';
  const consumers = [...ctx.cache(SdeKinds.Workspace).list({ namespace }), ...ctx.cache(SdeKinds.FederatedJob).list({ namespace })];
  const quota = gpuQuotaRefusal(live, consumers, rules.gpus(checked.value), lookup.enclave.spec.resources.gpus, rules.gpuField);
  if (quota) return refused(quota, 'Admitted');
  // The enclave passed its schema, so its access block reads.
  const access = liveAccessState(lookup.live, now, durationMs(site.expiryWarning)) as AccessState;
  return { workload: checked.value, enclave: lookup.enclave, access };
}

/**
 * A refused workload is stopped, never left running on its last spec: its StatefulSets and
 * Deployments scaled to zero and its Jobs suspended, each by a JSON patch of that one field,
 * remembered like every write of the reconcile (nothing else of them changes, nothing is deleted:
 * home volumes stay; a refused workload has no valid spec to render them from). So a member removed
 * from the enclave, a dataset taken away, an image no longer allowed or an enclave whose access
 * ended stops what was running within one reconcile of the change. The refusal itself is reported
 * after.
 */
async function stopRefused<T>(ctx: ReconcileContext, live: Readonly<KubernetesObject>, rules: WorkloadRules<T>): Promise<void> {
  const enclaveName = enclaveNameOf(live.metadata?.namespace);
  if (enclaveName === undefined) return;
  const namespace = live.metadata?.namespace;
  const selector = rules.running.selector(enclaveName, live.metadata?.name ?? '');
  const stops: Array<{ type: ResourceType; name: string; operations: JsonPatchOperation[] }> = [];
  for (const type of rules.running.kinds) {
    for (const o of ctx.cache(type).list({ namespace, labels: selector })) {
      const spec = (o as { spec?: { replicas?: number; suspend?: boolean } }).spec;
      const name = o.metadata?.name ?? '';
      if (type.kind === 'Job' && spec?.suspend !== true) stops.push({ type, name, operations: [{ op: 'add', path: '/spec/suspend', value: true }] });
      if (type.kind !== 'Job' && spec?.replicas !== 0) stops.push({ type, name, operations: [{ op: 'add', path: '/spec/replicas', value: 0 }] });
    }
  }
  for (const stop of stops) {
    // Undefined: gone since the cache saw it, so nothing of it runs any more.
    if ((await ctx.jsonPatch(stop.type, stop.name, stop.operations)) === undefined) continue;
    ctx.log.info({ kind: stop.type.kind, name: stop.name }, 'stopped: this workload is refused');
  }
}
