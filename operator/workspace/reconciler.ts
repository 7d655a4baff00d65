// The Workspace controller: a researcher's tool server inside an enclave, checked against the
// enclave (member, image, datasets, GPU quota), stopped when asked or when access ends.
import type { KubernetesObject } from '@kubernetes/client-node';
import { workspace as workspaceSchema } from '../../api/workspace.ts';
import type { Workspace } from '../../api/workspace.ts';
import type { SiteConfig } from '../../api/siteconfig.ts';
import { renderWorkspace } from '../../constructs/index.ts';
import { WORKSPACE, workspaceChildrenSelector } from '../../constructs/labels.ts';
import { homeClaimName } from '../../constructs/workspace.ts';
import { TOOL_PORTS } from '../../constructs/tools.ts';
import { checkWorkspace } from '../../policy/index.ts';
import { wakeAtNextChange } from '../access.ts';
import { enclaveChangeMattersToWorkloads, keyFromLabel, keysInEnclave } from '../enclave/lookup.ts';
import { Owned, SdeKinds } from '../kinds.ts';
import { findCondition, setConditions, summarizeReady } from '../runtime/index.ts';
import type { ApplyResult, Condition, ConditionUpdate, ControllerOptions, ObjectCache, ReconcileContext, ReconcileResult, WatchedType } from '../runtime/index.ts';
import { admitWorkload } from '../admission.ts';
import { RenderMemo, renderInputs } from '../render-memo.ts';
import { appliedCondition, applyOrReport, recordFixedAtCreation } from '../report.ts';

/** What the Workspace controller needs besides the runtime. */
export interface WorkspaceControllerOptions {
  site: SiteConfig;
  now?: () => Date;
  /** Called after each render: made, or reused because its inputs were unchanged (a metric). */
  onRender?: (result: 'rendered' | 'reused') => void;
}

type LiveWorkspace = Readonly<KubernetesObject> & { status?: { conditions?: Condition[]; phase?: string } };
interface PodView {
  spec?: { nodeName?: string };
  status?: { phase?: string; conditions?: { type: string; status: string; reason?: string; message?: string }[] };
}

const READY_CONCERNS = ['SpecValid', 'Admitted', 'Applied', 'Scheduled', 'Available'] as const;

/** The Workspace controller's options for a manager; `caches` (the manager) serves the watch mappings. */
export function workspaceController(options: WorkspaceControllerOptions, caches: { cacheFor(type: WatchedType): ObjectCache }): ControllerOptions {
  const workspacesIn = (namespace: string | undefined): string[] =>
    caches.cacheFor(SdeKinds.Workspace).list({ namespace: namespace ?? '' }).map((w) => `${w.metadata?.namespace}/${w.metadata?.name}`);
  const renders = new RenderMemo(RENDERS_KEPT, options.onRender);
  return {
    name: 'workspace',
    primary: SdeKinds.Workspace,
    owns: [Owned.StatefulSet, Owned.Service, Owned.PersistentVolumeClaim, Owned.PersistentVolume],
    // The status comes from the pod (watched below), not from the StatefulSet's or the claim's status.
    childChanges: 'spec',
    watches: [
      { type: SdeKinds.Enclave, changes: enclaveChangeMattersToWorkloads, mapToKeys: (enclave) => keysInEnclave(caches.cacheFor(SdeKinds.Workspace), enclave) },
      // A job finishing frees GPUs a waiting workspace may take.
      { type: SdeKinds.FederatedJob, mapToKeys: (job) => workspacesIn(job.metadata?.namespace) },
      // The pod's progress only moves the status: those reconciles wait behind ones that create.
      { type: Owned.Pod, mapToKeys: keyFromLabel(WORKSPACE), priority: 'low' },
    ],
    reconcile: (_key, ctx) => reconcileWorkspace(ctx, options, renders),
  };
}

// Renders kept, one per workspace, of those reconciled most recently (see the Enclave controller's).
const RENDERS_KEPT = 10_000;

async function reconcileWorkspace(ctx: ReconcileContext, options: WorkspaceControllerOptions, renders: RenderMemo): Promise<ReconcileResult> {
  const live = ctx.primary() as LiveWorkspace | undefined;
  if (live === undefined || live.metadata?.deletionTimestamp) {
    renders.forget(ctx.key);
    return;
  }
  const site = options.site;
  const now = options.now?.() ?? new Date();
  const generation = live.metadata?.generation;

  const admitted = await admitWorkload(ctx, live, site, now, {
    schema: workspaceSchema,
    check: checkWorkspace,
    gpus: (w) => w.spec.resources.gpus,
    gpuField: 'spec.resources.gpus',
    running: { kinds: [Owned.StatefulSet], selector: workspaceChildrenSelector },
  });
  if (admitted === undefined) return;
  const { workload: ws, enclave, access } = admitted;

  const wake = wakeAtNextChange(ctx, access, now);
  const desired = renders.render(ctx.key, [renderInputs(ws), renderInputs(enclave), access.active], () => renderWorkspace(ws, enclave, site, { accessActive: access.active }));
  const applied = await applyOrReport(ctx, [...desired, ...retainedHomeVolume(ctx, ws, enclave.spec.retention.homeVolumes)], now);
  // Access just ended and the workspace is now scaled to zero: the reconcile that follows every
  // write reports it. It is queued behind every workspace stopping now, so when many enclaves
  // expire at once all of their workspaces stop before any status is written. Once reported,
  // later writes report at once again (nothing can put its status off for good).
  if (!access.active && applied.written.length > 0 && live.status?.phase !== 'Suspended') return;
  await ctx.prune({ selector: workspaceChildrenSelector(enclave.metadata.name, ws.metadata.name), keep: desired, types: [Owned.StatefulSet, Owned.Service], namespace: ws.metadata.namespace });

  const pod = ctx.cache(Owned.Pod).get(`${ws.metadata.name}-0`, ws.metadata.namespace) as PodView | undefined;
  const previous = live.status?.conditions;
  const appliedNow = appliedCondition(withoutEarlierClusterIP(applied), 'the home volume keeps the size it was created with (a claim can only grow, and only where its storage class expands volumes: ask the platform team)');
  const { phase, conditions } = workspaceState(previous, ws, access.active, access.reason, pod, unboundClaim(ctx, desired, ws.metadata.namespace), now, generation, appliedNow);
  const running = phase === 'Running';
  await ctx.patchStatus({
    phase,
    observedGeneration: generation,
    url: `http://${ws.metadata.name}.${ws.metadata.namespace}.svc:${TOOL_PORTS[ws.spec.tool]}/`,
    node: running ? (pod?.spec?.nodeName ?? null) : null,
    gpus: running ? ws.spec.resources.gpus : 0,
    conditions,
  });
  await recordTransitions(ctx, previous, conditions);
  await recordFixedAtCreation(ctx, previous, appliedNow);
  return wake;
}

/**
 * A workspace's Service made before it was headless keeps the cluster IP Kubernetes gave it (a
 * Service's cluster IP is fixed at creation). Its name resolves either way, so that is not reported.
 */
function withoutEarlierClusterIP(applied: ApplyResult): ApplyResult {
  const fixed = applied.fixed.flatMap((f) => {
    if (f.object.kind !== 'Service') return [f];
    const fields = f.fields.filter((field) => field !== 'spec.clusterIP');
    return fields.length > 0 ? [{ ...f, fields }] : [];
  });
  return { ...applied, fixed };
}

/**
 * With retention Retain, the home volume must outlive the namespace: the bound PersistentVolume's
 * reclaim policy is set to Retain (a provisioned volume defaults to Delete).
 */
function retainedHomeVolume(ctx: ReconcileContext, ws: Workspace, retention: 'Retain' | 'Delete'): KubernetesObject[] {
  if (retention !== 'Retain') return [];
  const claim = ctx.cache(Owned.PersistentVolumeClaim).get(homeClaimName(ws.metadata.name), ws.metadata.namespace) as { spec?: { volumeName?: string } } | undefined;
  const volume = claim?.spec?.volumeName;
  if (!volume) return [];
  return [{ apiVersion: 'v1', kind: 'PersistentVolume', metadata: { name: volume }, spec: { persistentVolumeReclaimPolicy: 'Retain' } } as KubernetesObject];
}

/**
 * The first claim the workspace's pod mounts (its home volume, then its datasets) that is not
 * Bound yet, and its phase ('missing' when it does not exist). kube-scheduler calls such a pod
 * Unschedulable ("pod has unbound immediate PersistentVolumeClaims") while a new home volume is
 * provisioned, which at a site's creation lasts minutes: that is the workspace starting, not a
 * warning to its researcher. A Lost claim will not bind: that stays Unschedulable, with a warning.
 */
function unboundClaim(ctx: ReconcileContext, desired: readonly KubernetesObject[], namespace: string | undefined): { name: string; phase: string } | undefined {
  const set = desired.find((o) => o.kind === 'StatefulSet') as { spec?: { template?: { spec?: { volumes?: { persistentVolumeClaim?: { claimName?: string } }[] } } } } | undefined;
  const claims = ctx.cache(Owned.PersistentVolumeClaim);
  for (const volume of set?.spec?.template?.spec?.volumes ?? []) {
    const name = volume.persistentVolumeClaim?.claimName;
    if (name === undefined) continue;
    const phase = (claims.get(name, namespace) as { status?: { phase?: string } } | undefined)?.status?.phase;
    if (phase === 'Lost') return undefined;
    if (phase !== 'Bound') return { name, phase: phase ?? 'missing' };
  }
  return undefined;
}

function workspaceState(previous: readonly Condition[] | undefined, ws: Workspace, active: boolean, accessReason: string, pod: PodView | undefined, unbound: { name: string; phase: string } | undefined, now: Date, generation: number | undefined, applied: ConditionUpdate): { phase: string; conditions: Condition[] } {
  const opts = { now, ...(generation !== undefined ? { observedGeneration: generation } : {}) };
  const updates: ConditionUpdate[] = [
    { type: 'SpecValid', status: 'True', reason: 'Valid', message: 'the spec passed the schema and the enclave\'s rules' },
    { type: 'Admitted', status: 'True', reason: 'WithinQuota', message: `${ws.spec.resources.gpus} GPU(s) within the enclave's quota` },
    applied,
  ];
  let phase: string;
  if (!active) {
    phase = 'Suspended';
    updates.push({ type: 'Scheduled', status: 'False', reason: accessReason === 'Expired' ? 'AccessExpired' : 'AccessNotYetValid', message: 'the enclave\'s access is not active: the workspace is scaled to zero; its home volume is kept' });
    updates.push({ type: 'Available', status: 'False', reason: accessReason === 'Expired' ? 'AccessExpired' : 'AccessNotYetValid', message: 'scaled to zero' });
  } else if (ws.spec.state === 'Stopped') {
    phase = 'Stopped';
    updates.push({ type: 'Scheduled', status: 'False', reason: 'Stopped', message: 'state is Stopped: scaled to zero; the home volume is kept' });
    updates.push({ type: 'Available', status: 'False', reason: 'Stopped', message: 'state is Stopped' });
  } else {
    const scheduled = pod?.status?.conditions?.find((c) => c.type === 'PodScheduled');
    const ready = pod?.status?.conditions?.find((c) => c.type === 'Ready');
    if (scheduled?.status === 'False' && scheduled.reason === 'Unschedulable' && unbound !== undefined) {
      updates.push({ type: 'Scheduled', status: 'False', reason: 'WaitingForVolume', message: `waiting for claim ${unbound.name} to be bound (it is ${unbound.phase})` });
    } else if (scheduled?.status === 'False') {
      updates.push({ type: 'Scheduled', status: 'False', reason: scheduled.reason === 'Unschedulable' ? 'Unschedulable' : 'Pending', message: scheduled.message ?? 'waiting for a node' });
    } else if (pod?.spec?.nodeName) {
      updates.push({ type: 'Scheduled', status: 'True', reason: 'Scheduled', message: `running on node ${pod.spec.nodeName}` });
    } else {
      updates.push({ type: 'Scheduled', status: 'Unknown', reason: 'Pending', message: 'waiting for the workspace pod' });
    }
    const available = pod?.status?.phase === 'Running' && ready?.status === 'True';
    phase = available ? 'Running' : scheduled?.status === 'False' ? 'Pending' : 'Starting';
    updates.push(available ? { type: 'Available', status: 'True', reason: 'Running', message: `${ws.spec.tool} is serving` } : { type: 'Available', status: 'False', reason: 'Starting', message: `${ws.spec.tool} is starting` });
  }
  const withConcerns = setConditions(previous, updates, opts);
  const ready = summarizeReady(withConcerns, READY_CONCERNS);
  return { phase, conditions: setConditions(withConcerns, [ready], opts) };
}

async function recordTransitions(ctx: ReconcileContext, previous: readonly Condition[] | undefined, next: readonly Condition[]): Promise<void> {
  const before = findCondition(previous, 'Scheduled');
  const after = findCondition(next, 'Scheduled');
  if (after?.reason === 'Unschedulable' && before?.reason !== 'Unschedulable') await ctx.recordEvent({ type: 'Warning', reason: 'Unschedulable', message: after.message });
  if (findCondition(next, 'Ready')?.status === 'True' && findCondition(previous, 'Ready')?.status !== 'True') {
    await ctx.recordEvent({ type: 'Normal', reason: 'Provisioned', message: 'workspace is ready' });
  }
  const avail = findCondition(next, 'Available');
  if (avail?.reason === 'AccessExpired' && findCondition(previous, 'Available')?.reason !== 'AccessExpired') {
    await ctx.recordEvent({ type: 'Warning', reason: 'Expired', message: 'the enclave\'s access ended: workspace stopped, home volume kept' });
  }
}
