// Admitting a workload (a Workspace or a FederatedJob) into its enclave: the checks both
// reconcilers make, in one order, before anything is rendered.
import type { KubernetesObject } from '@kubernetes/client-node';
import type { z } from 'zod';
import type { Enclave } from '../api/enclave.ts';
import type { SiteConfig } from '../api/siteconfig.ts';
import type { Finding } from '../policy/index.ts';
import { lookupEnclave } from './enclave/lookup.ts';
import { gpuQuotaRefusal } from './gpu-budget.ts';
import { SdeKinds } from './kinds.ts';
import type { ReconcileContext } from './runtime/index.ts';
import { checkSpec, refusalFromFindings, refuse } from './spec.ts';

/** What a workload kind contributes to its admission: its schema, its site rules, its GPUs. */
export interface WorkloadRules<T> {
  schema: z.ZodType<T>;
  check(workload: T, enclave: Enclave, site: SiteConfig): Finding[];
  gpus(workload: T): number;
  /** Field of the GPU request, named in a QuotaExceeded message. */
  gpuField: string;
}

/**
 * Admits the workload in `live`: its enclave must be this site's, valid and isolated; its spec
 * must pass the schema and the site rules; its GPUs must fit what the enclave's quota has left.
 * Returns the parsed workload and its enclave, or undefined once it has reported why not (or
 * found the enclave another site's, or still being provisioned: nothing to report then).
 */
export async function admitWorkload<T>(ctx: ReconcileContext, live: Readonly<KubernetesObject>, site: SiteConfig, now: Date, rules: WorkloadRules<T>): Promise<{ workload: T; enclave: Enclave } | undefined> {
  const lookup = lookupEnclave(ctx.cache(SdeKinds.Enclave), live.metadata?.namespace, site.site);
  if (lookup.state === 'other-site' || lookup.state === 'provisioning') return undefined;
  const checked = checkSpec(rules.schema, live);
  if (!checked.ok) return void (await refuse(ctx, checked.refusal, { now }));
  if (lookup.state === 'refused') return void (await refuse(ctx, lookup.refusal, { now, concern: 'Admitted' }));
  const findings = refusalFromFindings(rules.check(checked.value, lookup.enclave, site));
  if (findings) return void (await refuse(ctx, findings, { now }));
  const namespace = live.metadata?.namespace ?? '';
  const consumers = [...ctx.cache(SdeKinds.Workspace).list({ namespace }), ...ctx.cache(SdeKinds.FederatedJob).list({ namespace })];
  const quota = gpuQuotaRefusal(live, consumers, rules.gpus(checked.value), lookup.enclave.spec.resources.gpus, rules.gpuField);
  if (quota) return void (await refuse(ctx, quota, { now, concern: 'Admitted' }));
  return { workload: checked.value, enclave: lookup.enclave };
}
