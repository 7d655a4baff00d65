// The Enclave controller: namespace, deny-first networking, quota, RBAC with time-limited
// access, package-mirror configuration, dataset volumes and auto-provisioned workspaces, and the
// status that reports them.
import type { KubernetesObject } from '@kubernetes/client-node';
import { appendToRecord } from '../../api/access.ts';
import type { AccessRecordEntry } from '../../api/access.ts';
import { DEFAULT_TOOL, enclave as enclaveSchema, enclaveNamespace, enclaveStatus } from '../../api/enclave.ts';
import { ACCESS_CHANGED_BY } from '../../api/labels.ts';
import type { Enclave } from '../../api/enclave.ts';
import type { SiteConfig } from '../../api/siteconfig.ts';
import { renderEnclave } from '../../constructs/index.ts';
import { AUTO_PROVISIONED, ENCLAVE, enclaveChildrenSelector, FEDERATED_JOB, WORKSPACE } from '../../constructs/labels.ts';
import { checkEnclave } from '../../policy/index.ts';
import { Owned, SdeKinds } from '../kinds.ts';
import { findCondition, formatConditionTime, setConditions, summarizeReady } from '../runtime/index.ts';
import type { Condition, ConditionUpdate, ControllerOptions, ReconcileContext, ReconcileResult } from '../runtime/index.ts';
import { RenderMemo, renderInputs } from '../render-memo.ts';
import { checkSpec, refusalFromFindings } from '../spec-check.ts';
import { appliedCondition, applyOrReport, recordFixedAtCreation, refuse } from '../report.ts';
import { accessState, liveAccessState } from '../../api/access.ts';
import type { AccessState } from '../../api/access.ts';
import { durationMs } from '../../api/duration.ts';
import { revokeMembers, wakeAtNextChange } from '../access.ts';
import { enclaveKeyOf } from './lookup.ts';
import { isolationConditions, reportIsolation, revertForeignPolicies } from '../isolation/conditions.ts';
import { DEFAULT_CANARY, networkFindings, ownBoundaryDrift } from '../isolation/network.ts';
import { isOperatorOwned } from '../identity.ts';
import type { IsolationStore } from '../isolation/store.ts';
import type { IsolationFinding } from '../../isolation/findings.ts';
import { Everyone } from '../kinds.ts';

/** What the Enclave controller needs besides the runtime: the site, and a clock tests can move. */
export interface EnclaveControllerOptions {
  site: SiteConfig;
  now?: () => Date;
  /** Called with the number of this site's enclaves in their warning period after each reconcile. */
  onExpiringCount?: (count: number) => void;
  /** Called after each render: made, or reused because its inputs were unchanged (a metric). */
  onRender?: (result: 'rendered' | 'reused') => void;
  /** What the isolation checks found; the network check is made here and written to it. */
  isolation: IsolationStore;
  /** Called with every finding for an enclave after each of its reconciles (a metric). */
  onFindings?: (enclave: string, findings: readonly IsolationFinding[]) => void;
}

/** Concern conditions whose conjunction is Ready. */
const READY_CONCERNS = ['SpecValid', 'Applied', 'NetworkIsolated', 'AccessActive'] as const;

type LiveEnclave = Readonly<KubernetesObject> & { status?: { conditions?: Condition[]; effectiveExpiresAt?: string; phase?: string } };

/** The Enclave controller's options for a manager (`manager.add(enclaveController(...))`). */
export function enclaveController(options: EnclaveControllerOptions): ControllerOptions {
  const expiring = new Set<string>();
  const renders = new RenderMemo(RENDERS_KEPT, options.onRender);
  return {
    name: 'enclave',
    primary: SdeKinds.Enclave,
    owns: [Owned.Namespace, Owned.NetworkPolicy, Owned.ResourceQuota, Owned.LimitRange, Owned.ServiceAccount, Owned.Role, Owned.RoleBinding, Owned.ConfigMap, Owned.PersistentVolumeClaim, Owned.PersistentVolume],
    ownerLabel: ENCLAVE,
    // Nothing here reads a child's status (a quota's usage, a claim's phase): only their specs count.
    childChanges: 'spec',
    // Every workspace in the namespace, the researchers' own too: the status counts them, and an
    // auto-provisioned one yields to a researcher's own; their status is not the enclave's concern.
    // Neither is urgent: those reconciles wait behind enclaves being created or repaired, and the
    // workspaces arriving in one enclave meanwhile are counted by one of them.
    watches: [
      { type: SdeKinds.Workspace, changes: 'spec', mapToKeys: enclaveKeyOf, priority: 'low' },
      // Anyone's NetworkPolicies in an enclave's namespace: one no spec renders may open a path.
      { type: Everyone.NetworkPolicy, mapToKeys: (p) => (isOperatorOwned(p) ? [] : enclaveKeyOf(p)) },
    ],
    // The reconcile after an enclave's objects are written reports its network policies in force,
    // which its workspaces wait for: it goes ahead of enclaves not yet started, so a site being
    // created gets workspaces as its enclaves come, not once every enclave has been applied.
    followUps: 'high',
    reconcile: async (_key, ctx) => {
      const result = await reconcileEnclave(ctx, options, renders, (name, soon) => (soon ? expiring.add(name) : expiring.delete(name)));
      options.onExpiringCount?.(expiring.size);
      return result;
    },
  };
}

// Kinds an enclave prunes: its own children, never data (PVs and claims are left alone here).
const PRUNED = [Owned.NetworkPolicy, Owned.ResourceQuota, Owned.LimitRange, Owned.ServiceAccount, Owned.Role, Owned.RoleBinding, Owned.ConfigMap, SdeKinds.Workspace];

// Renders kept, one per enclave, of those reconciled most recently; beyond that an enclave is
// rendered afresh (its render shares most of its parts with the cached objects: ~2 KB each).
const RENDERS_KEPT = 5_000;

async function reconcileEnclave(ctx: ReconcileContext, options: EnclaveControllerOptions, renders: RenderMemo, markExpiring: (name: string, soon: boolean) => void): Promise<ReconcileResult> {
  const live = ctx.primary() as LiveEnclave | undefined;
  // Deleted: the garbage collector removes the namespace; dataset volumes have no owner and stay.
  if (live === undefined || live.metadata?.deletionTimestamp) {
    markExpiring(ctx.name, false);
    renders.forget(ctx.key);
    options.isolation.forget(ctx.name);
    options.onFindings?.(ctx.name, []);
    return;
  }
  const site = options.site;
  if ((live as { spec?: { site?: unknown } }).spec?.site !== site.site) return;
  const now = options.now?.() ?? new Date();
  const generation = live.metadata?.generation;

  const checked = checkSpec(enclaveSchema, live);
  if (!checked.ok) {
    // Nothing is built for an invalid spec, but access still ends on time when its period is readable.
    const access = liveAccessState(live, now, durationMs(site.expiryWarning));
    const wake = access && wakeAtNextChange(ctx, access, now);
    if (access && !access.active) await revokeMembers(ctx, ctx.name, enclaveNamespace(ctx.name));
    await refuse(ctx, checked.refusal, { now, also: access && !access.active ? [accessCondition(access)] : [] });
    return wake;
  }
  const enclave = checked.value;
  const record = accessRecord(live, enclave, now);
  const access = accessState(enclave.spec.access, record, now, durationMs(site.expiryWarning));
  markExpiring(enclave.metadata.name, access.expiringSoon);
  // Access ends on time whatever else is wrong: the clock is set first, and the member bindings go
  // before the site rules are judged or anything is applied, so neither a refused edit nor a
  // failing apply keeps them.
  const wake = wakeAtNextChange(ctx, access, now);
  const namespace = enclaveNamespace(enclave.metadata.name);
  if (!access.active && (await revokeMembers(ctx, enclave.metadata.name, namespace)) && findCondition(live.status?.conditions, 'AccessActive')?.status !== 'False') {
    // The next reconcile reports it. Queued behind every enclave whose access ends now, so when
    // many expire at once all of their bindings go before any status is written. Once reported,
    // later revocations report at once (nothing can put its status off for good).
    return { requeueAfter: 0 };
  }
  const refusal = refusalFromFindings(checkEnclave(enclave, site));
  if (refusal !== undefined) {
    // Nothing is applied for a refused edit, but an ended access is reported all the same.
    await refuse(ctx, refusal, { now, also: access.active ? [] : [accessCondition(access)] });
    return wake;
  }

  const rendered = renders.render(ctx.key, [renderInputs(enclave), access.active], () => renderEnclave(enclave, site, { accessActive: access.active }));
  const desired = withoutShadowedWorkspaces(ctx, rendered);
  // The operator's own boundary as the watch last showed it: what the apply below puts back.
  const putBack = findCondition(live.status?.conditions, 'NetworkIsolated') !== undefined ? ownBoundaryDrift(ctx, namespace) : [];
  const applied = appliedCondition(await applyOrReport(ctx, desired, now), 'a dataset claim keeps the size and source it was created with');
  // Member bindings are the enclave's alone: when none is kept (every member removed), one request
  // deletes them all. At expiry `revokeMembers` above has already done so.
  await ctx.prune({ selector: enclaveChildrenSelector(enclave.metadata.name), keep: [...desired, ...workloadChildren(ctx, namespace)], types: PRUNED, namespace, collections: [Owned.RoleBinding] });

  let network = networkFindings(ctx, namespace, desired, site.isolation.probes?.canary.ip ?? DEFAULT_CANARY);
  if (site.isolation.onDrift === 'revert') network = await revertForeignPolicies(ctx, network);
  options.isolation.set(enclave.metadata.name, 'network', network, now);
  const previous = live.status?.conditions;
  const isolation = isolationConditions(options.isolation.get(enclave.metadata.name), previous);
  const conditions = enclaveConditions(previous, access, now, generation, applied, isolation);
  const workspaces = ctx.cache(SdeKinds.Workspace).list({ namespace }).length;
  const phase = access.reason === 'Expired' ? 'Expired' : access.reason === 'NotYetValid' ? 'Pending' : 'Ready';
  await ctx.patchStatus({
    phase,
    namespace,
    observedGeneration: generation,
    effectiveExpiresAt: formatConditionTime(access.effectiveExpiresAt),
    accessHistory: record,
    workspaces,
    conditions,
  });
  await recordTransitions(ctx, live, previous, conditions, access);
  await reportIsolation(ctx, previous, conditions, putBack);
  options.onFindings?.(enclave.metadata.name, [...putBack, ...isolation.findings]);
  await recordFixedAtCreation(ctx, previous, applied);
  // The live boundary is judged again each isolation period even when no watch event came.
  const period = durationMs(site.isolation.period);
  return wake !== undefined && wake.requeueAfter < period ? wake : { requeueAfter: period };
}

function enclaveConditions(previous: readonly Condition[] | undefined, access: AccessState, now: Date, generation: number | undefined, applied: ConditionUpdate, isolation: { network: ConditionUpdate; access: ConditionUpdate }): Condition[] {
  const updates: ConditionUpdate[] = [
    { type: 'SpecValid', status: 'True', reason: 'Valid', message: 'the spec passed the schema and the site rules' },
    applied,
    isolation.network,
    isolation.access,
    accessCondition(access),
    access.expiringSoon
      ? { type: 'ExpiringSoon', status: 'True', reason: 'ExpiringSoon', message: `access ends at ${formatConditionTime(access.effectiveExpiresAt)}; ask the data access committee for an extension` }
      : { type: 'ExpiringSoon', status: 'False', reason: access.active ? 'NotExpiring' : access.reason, message: '' },
  ];
  const opts = { now, ...(generation !== undefined ? { observedGeneration: generation } : {}) };
  const withConcerns = setConditions(previous, updates, opts);
  return setConditions(withConcerns, [summarizeReady(withConcerns, READY_CONCERNS)], opts);
}

/** The AccessActive condition for where access stands. */
function accessCondition(access: AccessState): ConditionUpdate {
  if (access.active) return { type: 'AccessActive', status: 'True', reason: 'Active', message: `members have access until ${formatConditionTime(access.effectiveExpiresAt)}` };
  return access.reason === 'Expired'
    ? { type: 'AccessActive', status: 'False', reason: 'Expired', message: `access ended at ${formatConditionTime(access.effectiveExpiresAt)}: member bindings removed, workspaces stopped, federated jobs suspended; no data was deleted` }
    : { type: 'AccessActive', status: 'False', reason: 'NotYetValid', message: 'access has not started yet (validFrom is in the future)' };
}

/**
 * The access record with what the spec adds to it: the recorded entries as they are (never
 * rebuilt from the spec, so an extension dropped from it stays on record), the original approval
 * on first sight, and each new extension, recorded as made by the user admission named.
 */
function accessRecord(live: LiveEnclave, enclave: Enclave, now: Date): readonly AccessRecordEntry[] {
  const recorded = enclaveStatus.shape.accessHistory.safeParse((live.status as { accessHistory?: unknown } | undefined)?.accessHistory);
  return appendToRecord(recorded.success ? recorded.data : undefined, enclave.spec.access, {
    approvedBy: enclave.spec.project.approvedBy,
    recordedBy: live.metadata?.annotations?.[ACCESS_CHANGED_BY],
    at: now,
  });
}

/** Events for what a member would notice: provisioned, expired, extended, about to expire. */
async function recordTransitions(ctx: ReconcileContext, live: LiveEnclave, previous: readonly Condition[] | undefined, next: readonly Condition[], access: AccessState): Promise<void> {
  const was = (type: string): string | undefined => findCondition(previous, type)?.status;
  const is = (type: string): string | undefined => findCondition(next, type)?.status;
  if (is('Ready') === 'True' && was('Ready') !== 'True') {
    await ctx.recordEvent({ type: 'Normal', reason: 'Provisioned', message: `enclave ready in namespace ${enclaveNamespace(live.metadata?.name ?? '')}` });
  }
  if (access.reason === 'Expired' && was('AccessActive') !== 'False') {
    await ctx.recordEvent({ type: 'Warning', reason: 'Expired', message: findCondition(next, 'AccessActive')?.message ?? 'access ended' });
  }
  const before = live.status?.effectiveExpiresAt;
  if (before !== undefined && Date.parse(before) < access.effectiveExpiresAt.getTime()) {
    await ctx.recordEvent({ type: 'Normal', reason: 'Extended', message: `access extended from ${before} to ${formatConditionTime(access.effectiveExpiresAt)}` });
  }
  if (is('ExpiringSoon') === 'True' && was('ExpiringSoon') !== 'True') {
    await ctx.recordEvent({ type: 'Warning', reason: 'ExpiringSoon', message: findCondition(next, 'ExpiringSoon')?.message ?? '' });
  }
}

/** Objects in the namespace that belong to a workspace or a federated job: theirs to prune, not the enclave's. */
function workloadChildren(ctx: ReconcileContext, namespace: string): Readonly<KubernetesObject>[] {
  return ctx.cache(Owned.NetworkPolicy).list({ namespace }).filter((o) => {
    const labels = o.metadata?.labels ?? {};
    return labels[WORKSPACE] !== undefined || labels[FEDERATED_JOB] !== undefined;
  });
}

/**
 * A Workspace the researcher created for the same tool takes precedence over the one the
 * operator would provision for them: the auto-provisioned one is left out (and so pruned).
 */
function withoutShadowedWorkspaces(ctx: ReconcileContext, desired: KubernetesObject[]): KubernetesObject[] {
  return desired.filter((o) => {
    if (o.kind !== 'Workspace' || o.metadata?.labels?.[AUTO_PROVISIONED] !== 'true') return true;
    const spec = (o as { spec?: { owner?: string; tool?: string } }).spec;
    return !ctx.cache(SdeKinds.Workspace).list({ namespace: o.metadata?.namespace ?? '' }).some((w) => {
      const ws = w as { metadata?: { labels?: Record<string, string> }; spec?: { owner?: string; tool?: string } };
      return ws.metadata?.labels?.[AUTO_PROVISIONED] !== 'true' && ws.spec?.owner === spec?.owner && (ws.spec?.tool ?? DEFAULT_TOOL) === (spec?.tool ?? DEFAULT_TOOL);
    });
  });
}
