// The isolation probe's controller: once per probe period, each enclave of the site gets a probe
// Job (constructs/isolation-probe.ts); when it finishes, its exit code and termination message
// become the enclave's 'probe' findings in the IsolationStore, which the Enclave controller
// reads into NetworkIsolated. Older probe Jobs are pruned.
import { createHash } from 'node:crypto';
import type { KubernetesObject } from '@kubernetes/client-node';
import { enclave as enclaveSchema, enclaveNamespace } from '../../api/enclave.ts';
import type { Tool } from '../../api/enclave.ts';
import { durationMs } from '../../api/duration.ts';
import type { SiteConfig } from '../../api/siteconfig.ts';
import {
  checksOfArgs,
  PROBE_CONTAINER,
  PROBE_EXIT_BASE,
  PROBE_EXIT_NO_NC,
  PROBE_FAILURE_BITS,
  PROBE_RUN_ANNOTATION,
  probeJobName,
  probeLabels,
  renderIsolationProbe,
} from '../../constructs/isolation-probe.ts';
import type { ProbeCheck, ProbeNeighbour } from '../../constructs/isolation-probe.ts';
import { APP_NAME, COMPONENT, COMPONENTS, ENCLAVE, MANAGED_BY, MANAGER } from '../../constructs/labels.ts';
import { TOOL_PORTS } from '../../constructs/tools.ts';
import type { IsolationFinding } from '../../isolation/findings.ts';
import { Owned, SdeKinds } from '../kinds.ts';
import { Kinds } from '../runtime/index.ts';
import type { ControllerOptions, ReconcileContext, ReconcileResult } from '../runtime/index.ts';
import { checkSpec } from '../spec-check.ts';
import type { IsolationStore } from './store.ts';

/** What the probe controller needs: the site (probes on when `isolation.probes` is set), the store it reports to, and a clock tests can move. */
export interface IsolationProbeOptions {
  site: SiteConfig;
  store: IsolationStore;
  now?: () => Date;
}

/** A probe Job as the controller reads it: its container's arguments (the checks) and its status. */
export interface ProbeJob extends KubernetesObject {
  spec?: { template?: { spec?: { containers?: { name: string; args?: string[] }[] } } };
  status?: { completionTime?: string; conditions?: { type: string; status: string; reason?: string; message?: string; lastTransitionTime?: string }[] };
}
interface TerminatedState { exitCode: number; reason?: string; message?: string }
interface ProbePod extends KubernetesObject {
  status?: { phase?: string; podIP?: string; containerStatuses?: { name: string; state?: { terminated?: TerminatedState } }[] };
}

/** The probe's verdict as its pod left it: an exit code and what it wrote to its termination log; none when the pod is gone or never ran. */
export type ProbeOutcome = { finished: 'Complete' } | { finished: 'Failed'; reason: string; terminated?: TerminatedState | undefined };

/**
 * The probe controller for a manager. It does nothing unless the site sets `isolation.probes`
 * (better: add it only then). It watches nothing the operator does not already watch: probe Jobs
 * come from the shared cache of the operator's Jobs and map back by owner reference (a federated
 * job's Jobs never reconcile it); neighbours come from the shared cache of its pods.
 */
export function isolationProbeController(options: IsolationProbeOptions): ControllerOptions {
  // Per enclave, the uid of the finished probe Job whose outcome the store holds: read once.
  const reported = new Map<string, string>();
  return {
    name: 'isolation-probe',
    primary: SdeKinds.Enclave,
    owns: [Owned.Job],
    // The pods' cache serves the neighbour's choice; a pod's change reconciles nothing here.
    watches: [{ type: Owned.Pod, changes: () => false, mapToKeys: () => [] }],
    reconcile: (_key, ctx) => reconcileProbe(ctx, options, reported),
  };
}

/** The probe period `now` falls in for enclave `name`: periods are offset per enclave, so a site's enclaves are not all probed at once. */
export function probePeriod(name: string, now: Date, periodMs: number): { start: Date; end: Date } {
  const offset = createHash('sha256').update(name).digest().readUInt32BE(0) % periodMs;
  const start = Math.floor((now.getTime() - offset) / periodMs) * periodMs + offset;
  return { start: new Date(start), end: new Date(start + periodMs) };
}

async function reconcileProbe(ctx: ReconcileContext, options: IsolationProbeOptions, reported: Map<string, string>): Promise<ReconcileResult> {
  const { site, store } = options;
  const probes = site.isolation.probes;
  const live = ctx.primary();
  if (probes === undefined || live === undefined || live.metadata?.deletionTimestamp) {
    reported.delete(ctx.name);
    return;
  }
  if ((live as { spec?: { site?: unknown } }).spec?.site !== site.site) return;
  const checked = checkSpec(enclaveSchema, live);
  // An invalid spec, or one not yet applied, has no policies to probe: the Enclave controller reports it.
  if (!checked.ok || !isApplied(live)) return;
  const enclave = checked.value;
  const name = enclave.metadata.name;
  const namespace = enclaveNamespace(name);
  const now = options.now?.() ?? new Date();
  const period = probePeriod(name, now, durationMs(probes.period));

  const selector = { [MANAGED_BY]: MANAGER, [ENCLAVE]: name, [COMPONENT]: probeLabels(enclave)[COMPONENT] as string };
  const jobs = (ctx.cache(Owned.Job).list({ namespace, labels: selector }) as ProbeJob[]).slice().sort((a, b) => runOf(a).localeCompare(runOf(b)));
  const current = jobs.find((j) => j.metadata?.name === probeJobName(period.start));
  // A Job runs as first created (its template is fixed then): rendered and applied once per period.
  const created = current === undefined ? renderIsolationProbe(enclave, site, { period: period.start, neighbour: await neighbourOf(ctx, name) }) : [];
  if (created.length > 0) await ctx.apply(created);

  const latest = jobs.filter((j) => finishedAs(j) !== undefined).at(-1);
  if (latest !== undefined && reported.get(name) !== latest.metadata?.uid) {
    const findings = findingsOf(latest, await outcomeOf(ctx, latest));
    store.set(name, 'probe', findings, finishedAt(latest) ?? now);
    reported.set(name, latest.metadata?.uid ?? '');
    ctx.log.info({ job: latest.metadata?.name, findings: findings.length }, 'isolation probe finished');
  }
  // Kept: this period's Job, the last finished one (its result stands until a newer one finishes) and any newer still running.
  const keep = [...created, ...jobs.filter((j) => j === current || j === latest || (finishedAs(j) === undefined && (latest === undefined || runOf(j) > runOf(latest))))];
  await ctx.prune({ selector, keep, types: [Owned.Job], namespace });
  return { requeueAfter: Math.max(0, period.end.getTime() - now.getTime()) };
}

function isApplied(live: Readonly<KubernetesObject>): boolean {
  const conditions = (live as { status?: { conditions?: { type: string; status: string }[] } }).status?.conditions ?? [];
  return conditions.some((c) => c.type === 'Applied' && c.status === 'True');
}

function runOf(job: ProbeJob): string {
  return job.metadata?.annotations?.[PROBE_RUN_ANNOTATION] ?? '';
}

function finishedAs(job: ProbeJob): 'Complete' | 'Failed' | undefined {
  const done = job.status?.conditions?.find((c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True');
  return done?.type as 'Complete' | 'Failed' | undefined;
}

function finishedAt(job: ProbeJob): Date | undefined {
  const at = job.status?.completionTime ?? job.status?.conditions?.find((c) => c.type === 'Failed' && c.status === 'True')?.lastTransitionTime;
  return at === undefined ? undefined : new Date(at);
}

/**
 * A running workspace pod of another enclave of this site, from the shared cache of the operator's
 * pods (which keeps no addresses): one GET of that pod per probe run gives its address. The choice
 * is spread over the neighbours by enclave, so the probes do not all knock on one pod.
 */
async function neighbourOf(ctx: ReconcileContext, enclave: string): Promise<ProbeNeighbour | undefined> {
  const candidates = ctx.cache(Owned.Pod).list({ labels: { [COMPONENT]: COMPONENTS.workspace } })
    .filter((p) => p.metadata?.labels?.[ENCLAVE] !== enclave && (p as ProbePod).status?.phase === 'Running')
    .sort((a, b) => `${a.metadata?.namespace}/${a.metadata?.name}`.localeCompare(`${b.metadata?.namespace}/${b.metadata?.name}`));
  if (candidates.length === 0) return undefined;
  const chosen = candidates[createHash('sha256').update(enclave).digest().readUInt32BE(0) % candidates.length];
  const pod = (await ctx.client.get(Kinds.Pod, chosen?.metadata?.name ?? '', chosen?.metadata?.namespace)) as ProbePod | undefined;
  const ip = pod?.status?.podIP;
  if (ip === undefined) return undefined;
  const port = TOOL_PORTS[pod?.metadata?.labels?.[APP_NAME] as Tool] ?? TOOL_PORTS.jupyterlab;
  return { ip, port };
}

/** How a finished probe Job ended; for a failed one, one list of its pods reads the exit code and message. */
async function outcomeOf(ctx: ReconcileContext, job: ProbeJob): Promise<ProbeOutcome> {
  if (finishedAs(job) === 'Complete') return { finished: 'Complete' };
  const failed = job.status?.conditions?.find((c) => c.type === 'Failed' && c.status === 'True');
  const reason = failed?.reason ?? 'Failed';
  const page = await ctx.client.list(Kinds.Pod, { namespace: job.metadata?.namespace ?? '', labelSelector: `controller-uid=${job.metadata?.uid ?? ''}` });
  const terminated = (page.items as ProbePod[])
    .map((p) => p.status?.containerStatuses?.find((c) => c.name === PROBE_CONTAINER)?.state?.terminated)
    .find((t): t is TerminatedState => t !== undefined);
  return { finished: 'Failed', reason, terminated };
}

const FAILED_AS: Record<keyof typeof PROBE_FAILURE_BITS, string> = {
  allowed: 'unreachable, though the enclave may reach it',
  canary: 'reachable, though it is outside every destination the enclave may reach',
  neighbour: 'reachable: a pod of another enclave',
};

/**
 * The findings of a finished probe Job: none when it passed; one per failed check, named from
 * its termination message, or (a kubelet that keeps no message) from its exit code and the
 * checks in its arguments; one saying there is no verdict when the probe could not judge
 * (no nc, killed, refused, past its deadline).
 */
export function findingsOf(job: ProbeJob, outcome: ProbeOutcome): IsolationFinding[] {
  if (outcome.finished === 'Complete') return [];
  const object = `Job ${job.metadata?.namespace ?? ''}/${job.metadata?.name ?? ''}`;
  const finding = (path: string): IsolationFinding => ({ concern: 'network', kind: 'Probe', object, path });
  const code = outcome.terminated?.exitCode;
  const bits = code === undefined ? 0 : code - PROBE_EXIT_BASE;
  if (code === undefined || bits < 1 || bits > 7) {
    const why = code === PROBE_EXIT_NO_NC ? 'the probe image has no nc'
      : code === undefined ? `the Job failed (${outcome.reason}) with no exit code`
        : `the probe exited ${code} (${outcome.terminated?.reason ?? outcome.reason})`;
    return [finding(`no verdict: ${why}`)];
  }
  const checks = checksOfArgs(job.spec?.template?.spec?.containers?.find((c) => c.name === PROBE_CONTAINER)?.args ?? []);
  const reported = (outcome.terminated?.message ?? '').split('\n').filter((line) => line.startsWith('FAIL ')).map((line) => line.split(' '));
  const out: IsolationFinding[] = [];
  for (const [role, bit] of Object.entries(PROBE_FAILURE_BITS) as [keyof typeof PROBE_FAILURE_BITS, number][]) {
    if ((bits & bit) === 0) continue;
    const named = reported.filter((words) => words[1] === role).map((words) => `${words[2]} ${words[3]}`);
    const suspects = checks.filter((c) => c.role === role).map(describe);
    // Only the message says which allowed destination failed; without it every one is a suspect.
    const which = named.length > 0 ? named : role === 'allowed' && suspects.length > 1 ? [`one of ${suspects.join(', ')}`] : suspects.length > 0 ? suspects : [role];
    for (const what of which) out.push(finding(`${what} ${FAILED_AS[role]}`));
  }
  return out;
}

function describe(check: ProbeCheck): string {
  return `${check.name} ${check.host}:${check.port}`;
}
