// The FederatedJob controller: this site's participant of a federated run (and the aggregator
// where this site hosts it), suspended while the enclave's access is not active.
import type { KubernetesObject } from '@kubernetes/client-node';
import { federatedJob as federatedJobSchema } from '../../api/federatedjob.ts';
import type { SiteConfig } from '../../api/siteconfig.ts';
import { renderFederatedJob } from '../../constructs/index.ts';
import { federatedJobNames } from '../../constructs/federatedjob.ts';
import { FEDERATED_JOB, federatedJobChildrenSelector } from '../../constructs/labels.ts';
import { checkFederatedJob } from '../../policy/index.ts';
import { wakeAtNextChange } from '../access.ts';
import { enclaveChangeMattersToWorkloads, keyFromLabel, keysInEnclave } from '../enclave/lookup.ts';
import { Owned, SdeKinds } from '../kinds.ts';
import { findCondition, formatConditionTime, setConditions } from '../runtime/index.ts';
import type { Condition, ControllerOptions, ObjectCache, ReconcileContext, ReconcileResult, WatchedType } from '../runtime/index.ts';
import { admitWorkload } from '../admission.ts';
import { appliedCondition, applyOrReport, recordFixedAtCreation } from '../report.ts';

/** What the FederatedJob controller needs besides the runtime: the site it runs for. */
export interface FederatedJobControllerOptions {
  site: SiteConfig;
  now?: () => Date;
}

type LiveJob = Readonly<KubernetesObject> & { spec?: { sites?: unknown }; status?: { conditions?: Condition[]; phase?: string } };
interface BatchJobView {
  spec?: { suspend?: boolean };
  status?: { active?: number; succeeded?: number; failed?: number; startTime?: string; completionTime?: string; conditions?: { type: string; status: string; reason?: string; message?: string }[] };
}


/** The FederatedJob controller's options for a manager; `caches` (the manager) serves the watch mappings. */
export function federatedJobController(options: FederatedJobControllerOptions, caches: { cacheFor(type: WatchedType): ObjectCache }): ControllerOptions {
  return {
    name: 'federatedjob',
    primary: SdeKinds.FederatedJob,
    owns: [Owned.Job, Owned.NetworkPolicy, Owned.Deployment, Owned.Service],
    watches: [
      { type: SdeKinds.Enclave, changes: enclaveChangeMattersToWorkloads, mapToKeys: (enclave) => keysInEnclave(caches.cacheFor(SdeKinds.FederatedJob), enclave) },
      // The pods' progress only moves the status: those reconciles wait behind ones that create.
      { type: Owned.Pod, mapToKeys: keyFromLabel(FEDERATED_JOB), priority: 'low' },
    ],
    reconcile: (_key, ctx) => reconcileFederatedJob(ctx, options),
  };
}

async function reconcileFederatedJob(ctx: ReconcileContext, options: FederatedJobControllerOptions): Promise<ReconcileResult> {
  const live = ctx.primary() as LiveJob | undefined;
  if (live === undefined || live.metadata?.deletionTimestamp) return;
  const site = options.site;
  // Only the sites named take part; another site's job is not this operator's to touch.
  if (!Array.isArray(live.spec?.sites) || !live.spec.sites.includes(site.site)) {
    ctx.log.debug({ site: site.site }, 'federated job does not name this site; ignored');
    return;
  }
  const now = options.now?.() ?? new Date();
  const generation = live.metadata?.generation;
  const admitted = await admitWorkload(ctx, live, site, now, {
    schema: federatedJobSchema,
    check: checkFederatedJob,
    gpus: (j) => j.spec.participant.resources.gpus,
    gpuField: 'spec.participant.resources.gpus',
    running: { kinds: [Owned.Job, Owned.Deployment], selector: federatedJobChildrenSelector },
  });
  if (admitted === undefined) return;
  const { workload: job, enclave, access } = admitted;
  const namespace = job.metadata.namespace ?? '';

  const wake = wakeAtNextChange(ctx, access, now);
  const desired = renderFederatedJob(job, enclave, site, { accessActive: access.active, thisSite: site.site });
  const applied = appliedCondition(await applyOrReport(ctx, desired, now), 'the participant runs as first submitted; delete the FederatedJob and create it again to run the new spec');
  await ctx.prune({ selector: federatedJobChildrenSelector(enclave.metadata.name, job.metadata.name), keep: desired, types: [Owned.Job, Owned.NetworkPolicy, Owned.Deployment, Owned.Service], namespace });

  const batch = ctx.cache(Owned.Job).get(federatedJobNames(job.metadata.name).participant, namespace) as BatchJobView | undefined;
  const siteStatus = participantStatus(batch, access.active);
  const previous = live.status?.conditions;
  const opts = { now, ...(generation !== undefined ? { observedGeneration: generation } : {}) };
  const failed = siteStatus.phase === 'Failed';
  const conditions = setConditions(previous, [
    { type: 'SpecValid', status: 'True', reason: 'Valid', message: 'the spec passed the schema and the site rules' },
    applied,
    { type: 'Admitted', status: 'True', reason: 'WithinQuota', message: `${job.spec.participant.resources.gpus} GPU(s) within the enclave's quota` },
    siteStatus.phase === 'Suspended'
      ? { type: 'Ready', status: 'False', reason: 'AccessInactive', message: 'the enclave\'s access is not active: the participant is suspended' }
      : failed
        ? { type: 'Ready', status: 'False', reason: 'BackoffLimitExceeded', message: `the participant failed ${siteStatus.failures ?? 0} time(s)` }
        : { type: 'Ready', status: 'True', reason: siteStatus.phase, message: `participant at ${site.site} is ${siteStatus.phase.toLowerCase()}` },
  ], opts);
  await ctx.patchStatus({ phase: siteStatus.phase, observedGeneration: generation, sites: [{ site: site.site, ...siteStatus }], conditions });
  await recordFixedAtCreation(ctx, previous, applied);
  const before = live.status?.phase;
  if (before !== siteStatus.phase && (siteStatus.phase === 'Suspended' || siteStatus.phase === 'Failed' || siteStatus.phase === 'Succeeded')) {
    await ctx.recordEvent({ type: siteStatus.phase === 'Succeeded' ? 'Normal' : 'Warning', reason: siteStatus.phase, message: findCondition(conditions, 'Ready')?.message ?? siteStatus.phase });
  }
  return wake;
}

/** This site's participant as the status reports it, from its batch Job. */
function participantStatus(batch: BatchJobView | undefined, active: boolean): { phase: 'Pending' | 'Running' | 'Succeeded' | 'Failed' | 'Suspended'; startTime?: string; completionTime?: string; failures?: number } {
  const has = (type: string): boolean => batch?.status?.conditions?.some((c) => c.type === type && c.status === 'True') ?? false;
  const times = {
    ...(batch?.status?.startTime ? { startTime: formatConditionTime(new Date(batch.status.startTime)) } : {}),
    ...(batch?.status?.completionTime ? { completionTime: formatConditionTime(new Date(batch.status.completionTime)) } : {}),
    failures: batch?.status?.failed ?? 0,
  };
  if (has('Complete')) return { phase: 'Succeeded', ...times };
  if (has('Failed')) return { phase: 'Failed', ...times };
  if (!active || batch?.spec?.suspend) return { phase: 'Suspended', ...times };
  if ((batch?.status?.active ?? 0) > 0) return { phase: 'Running', ...times };
  return { phase: 'Pending', ...times };
}
