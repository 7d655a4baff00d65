// The operator under load, against the floor and against kubectl, each on a fresh cluster, on the
// servers BENCH_CLUSTER names (bench/lib/cluster.ts: `devcluster`, the default, or `real`,
// Kubernetes 1.23's own control plane from ../shared/kubernetes; `real,devcluster` runs both).
// For each size in BENCH_SIZES (default 50,200,1000), with two workspaces per enclave: converge
// (operator, floor, kubectl one after another); after the operator's converge, its idle cost over
// BENCH_IDLE_S (default 300) and a restart on the converged site. Then 200 enclaves expiring in
// the same second, carried out by the operator and by the floor. Requests are counted from the
// API server's audit log by User-Agent where there is one. BENCH_SKIP may name phases to skip
// (floor, kubectl, idle, restart, expiry, expiry-floor). Prints its figures and writes
// bench/results/operator.json (devcluster) or operator-real.json.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, totalmem, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KubernetesObject } from '@kubernetes/client-node';
import { stringify } from 'yaml';
import { enclave as enclaveSchema } from '../api/enclave.ts';
import { workspace as workspaceSchema } from '../api/workspace.ts';
import { renderEnclave, renderWorkspace } from '../constructs/index.ts';
import { parseInstallOptions } from '../constructs/install/options.ts';
import { enclaveChildrenSelector, selectorString } from '../constructs/labels.ts';
import { Owned, SdeKinds } from '../operator/kinds.ts';
import { DEFAULT_CONCURRENCY } from '../operator/operator.ts';
import { applyAll, KubeClient, WRITE_VERBS } from '../operator/runtime/index.ts';
import { auditMark, emptyRequests, requestsSince } from './lib/audit.ts';
import type { ClientRequests } from './lib/audit.ts';
import { benchClusters, cpuBetween, realNodes, startBenchCluster } from './lib/cluster.ts';
import type { BenchCluster, ClusterKind } from './lib/cluster.ts';
import { enclaveName, FLEET_SITE, fleetEnclave, fleetWorkspaces, isReady, ROOT } from './lib/fleet.ts';
import type { FleetOptions } from './lib/fleet.ts';
import { limiter, percentile } from './lib/limit.ts';
import { SiteObserver } from './lib/observe.ts';
import { buildOperator, childrenCpuSeconds, freePort, processCpuSeconds, processMemoryMB, scrapeHeap, scrapeRequests, startOperatorProcess } from './lib/processes.ts';
import type { OperatorProcess } from './lib/processes.ts';

const CLUSTERS = benchClusters();
const SIZES = (process.env.BENCH_SIZES ?? '50,200,1000').split(',').map(Number).filter((n) => n > 0);
const SKIP = new Set((process.env.BENCH_SKIP ?? '').split(',').filter(Boolean));
// The operator's default (`sde-operator run` without --concurrency); BENCH_CONCURRENCY to try others.
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? DEFAULT_CONCURRENCY);
// The floor: a server-side-apply client with 16 enclaves' or workspaces' applies in flight, as the
// issue that asked for it set it (BENCH_FLOOR_WORKERS to try others); not tied to the operator's.
const FLOOR_WORKERS = Number(process.env.BENCH_FLOOR_WORKERS ?? 16);
const USER_WORKERS = 8;
const KUBECTL = '/usr/bin/kubectl';
const CONVERGE_TIMEOUT_MS = 30 * 60_000;
const IDLE_S = Number(process.env.BENCH_IDLE_S ?? 300);
const EXPIRING = Number(process.env.BENCH_EXPIRING ?? 200);
const NODE = new URL('node_modules/.bin/node', ROOT).pathname;
const SITE_FILE = new URL('examples/site-uclh.yaml', ROOT).pathname;
// Each client's User-Agent, so the audit log tells them apart (the operator's is sde-operator/<version>).
const AGENT = { user: 'sde-bench-user', floor: 'sde-bench-floor', observer: 'sde-bench-observer' } as const;

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);
const round = (x: number, digits = 1): number => Number(x.toFixed(digits));
const log = (line: string): void => console.log(line);
const sum = (values: Record<string, number>): number => round(Object.values(values).reduce((a, b) => a + b, 0), 2);
const benchCpuSeconds = (): number => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
};

/** The fleet for a cluster: on a real one, small workspaces, so two thousand fit its stand-in nodes. */
const fleetFor = (kind: ClusterKind): FleetOptions => (kind === 'real' ? { workspaceSize: 'small' } : {});

/** kubectl applies one object at a time: above this N it is skipped (BENCH_KUBECTL_MAX; on the devcluster 200 by default). */
const kubectlMax = (kind: ClusterKind): number => Number(process.env.BENCH_KUBECTL_MAX ?? (kind === 'devcluster' ? 200 : Infinity));

/** A fresh cluster for n enclaves, its user (who creates the custom resources) and an observer. */
async function freshSite(kind: ClusterKind, n: number, contender: string) {
  const cluster = await startBenchCluster(kind, 2 * n, `${contender}-${n}`);
  return { cluster, user: new KubeClient(cluster.kubeConfig, { userAgent: AGENT.user }), observer: new SiteObserver(cluster.kubeConfig, undefined, AGENT.observer) };
}

/** Creates the fleet as a user would: each Enclave, and its Workspaces once its namespace exists. */
async function createFleet(user: KubeClient, observer: SiteObserver, n: number, fleet: FleetOptions, onEnclave?: (stored: KubernetesObject) => Promise<void>, onWorkspace?: (stored: KubernetesObject) => Promise<void>): Promise<void> {
  const userSlot = limiter(USER_WORKERS);
  await Promise.all(range(n).map(async (i) => {
    const stored = await userSlot(() => user.apply(fleetEnclave(i), { fieldManager: 'bench-user', force: true }));
    await onEnclave?.(stored);
    await observer.whenExists('Namespace', `sde-${enclaveName(i)}`);
    for (const ws of fleetWorkspaces(i, fleet)) {
      const storedWs = await userSlot(() => user.apply(ws, { fieldManager: 'bench-user', force: true }));
      await onWorkspace?.(storedWs);
    }
  }));
}

/** What one contender did in one converge run. */
interface Converge {
  n: number;
  /** From the first create to done: every Enclave and Workspace Ready (operator), every StatefulSet with a ready replica (floor, kubectl). */
  ms: number;
  /** From the first create until its last object was created (operator: from the audit log; floor and kubectl: when their last apply returned). */
  appliedMs?: number;
  /** The contender's requests by the audit log (undefined without one). */
  audit?: ClientRequests;
  /** Its requests by its own count (operator: /metrics; floor: its client), where it has one. */
  ownCount?: Record<string, number>;
  /** CPU seconds: the contender's own process, and each process of the cluster. */
  cpuS: { contender: number; cluster: Record<string, number> };
  /** Every client's requests by the audit log in the run (reads, writes), for where the load went. */
  clients?: Record<string, { reads: number; writes: number }>;
}

// The operator keeps the data use register in its own namespace: a record is not one of the
// rendered objects the floor applies, so its creation does not count for "applied".
const OPERATOR_NAMESPACE = parseInstallOptions().namespace;

async function auditOf(cluster: BenchCluster, mark: number, client: string): Promise<{ audit?: ClientRequests; clients?: Record<string, { reads: number; writes: number }> }> {
  if (!cluster.auditLog) return {};
  const byClient = await requestsSince(cluster.auditLog, mark, { lastCreatedOutside: [OPERATOR_NAMESPACE] });
  return { audit: byClient[client] ?? emptyRequests(), clients: Object.fromEntries(Object.entries(byClient).map(([name, r]) => [name, { reads: r.reads, writes: r.writes }])) };
}

/** `sde-operator run` in its own process converging n enclaves; then, unless skipped, its idle cost over IDLE_S. */
async function operatorRun(kind: ClusterKind, n: number): Promise<{ converge: Converge & { peakRssMB: number; rssMB: number; heap: Awaited<ReturnType<typeof scrapeHeap>>; objectsManaged: number }; idle?: Idle; restart?: Restart; server: string }> {
  const { cluster, user, observer } = await freshSite(kind, n, 'operator');
  let op = await startOperatorProcess(cluster.kubeconfigPath, await freePort(), ['--concurrency', String(CONCURRENCY), '--log-level', 'warn']);
  try {
    const port = await op.started;
    await observer.start();
    const enclavesReady = observer.tally('Enclave', isReady);
    const workspacesReady = observer.tally('Workspace', isReady);
    const mark = cluster.auditLog ? auditMark(cluster.auditLog) : 0;
    const cpuBefore = { cluster: cluster.cpuSeconds(), contender: processCpuSeconds(op.pid) };
    const startedAt = Date.now();
    const start = performance.now();
    await createFleet(user, observer, n, fleetFor(kind));
    const ok = await observer.until(() => enclavesReady.count === n && workspacesReady.count === 2 * n, CONVERGE_TIMEOUT_MS);
    const ms = performance.now() - start;
    const cpuS = { contender: round(processCpuSeconds(op.pid) - cpuBefore.contender, 2), cluster: cpuBetween(cpuBefore.cluster, cluster.cpuSeconds()) };
    if (!ok) throw new Error(`operator: expected ${n} enclaves and ${2 * n} workspaces Ready; saw ${enclavesReady.count} and ${workspacesReady.count}`);
    const ownCount = await scrapeRequests(port);
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    const objectsManaged = [...metrics.matchAll(/^sde_objects_managed\{[^}]*\} (\d+)/gm)].reduce((total, m) => total + Number(m[1]), 0);
    const memory = processMemoryMB(op.pid);
    const heap = await scrapeHeap(port);
    const { audit, clients } = await auditOf(cluster, mark, 'sde-operator');
    const converge = { n, ms: round(ms, 0), ...(audit?.lastCreatedAtMs ? { appliedMs: audit.lastCreatedAtMs - startedAt } : {}), ...(audit ? { audit, clients } : {}), ownCount, cpuS, peakRssMB: round(memory.peakMB), rssMB: round(memory.rssMB), heap, objectsManaged };
    const idle = SKIP.has('idle') ? undefined : await idleCost(cluster, port, op.pid, n);
    let restart: Restart | undefined;
    if (!SKIP.has('restart')) ({ restart, operator: op } = await restartCost(cluster, op, n));
    return { converge, ...(idle ? { idle } : {}), ...(restart ? { restart } : {}), server: cluster.server };
  } finally {
    await observer.stop();
    await op.kill('SIGTERM');
    await cluster.stop();
  }
}

/** A new operator process's start on a converged site (an upgrade, a rescheduled pod). */
interface Restart { n: number; msToSettled: number; peakRssMB: number; firstPeakRssMB: number; heap: Awaited<ReturnType<typeof scrapeHeap>>; rssMB: number; writes: number; reads: number; requests: Record<string, number>; operatorCpuS: number; source: 'audit log' | '/metrics' }

/**
 * Stops the operator and starts a new one on the converged site, as an upgrade does: every cache
 * lists all it holds again. Until its request counters stand still: its peak RSS (the restart's
 * high-water mark, where a running operator's relists also land) and what it wrote (0 expected);
 * and the first process's peak over its converge, idle phase and relists.
 * Returns the new process, which the caller stops.
 */
async function restartCost(cluster: BenchCluster, op: OperatorProcess, n: number): Promise<{ restart: Restart; operator: OperatorProcess }> {
  const firstPeakRssMB = round(processMemoryMB(op.pid).peakMB);
  await op.kill('SIGTERM');
  const mark = cluster.auditLog ? auditMark(cluster.auditLog) : 0;
  const start = performance.now();
  const next = await startOperatorProcess(cluster.kubeconfigPath, await freePort(), ['--concurrency', String(CONCURRENCY), '--log-level', 'warn']);
  const port = await next.started;
  await settled(port);
  const msToSettled = round(performance.now() - start - 2_000, 0);
  const memory = processMemoryMB(next.pid);
  const heap = await scrapeHeap(port);
  const operatorCpuS = round(processCpuSeconds(next.pid), 2);
  let counts: { writes: number; reads: number; requests: Record<string, number>; source: Restart['source'] };
  if (cluster.auditLog) {
    const operator = (await requestsSince(cluster.auditLog, mark))['sde-operator'] ?? emptyRequests();
    counts = { writes: operator.writes, reads: operator.reads, requests: operator.byRequest, source: 'audit log' };
  } else {
    const requests = await scrapeRequests(port);
    counts = { ...readsAndWrites(requests), requests, source: '/metrics' };
  }
  const restart = { n, msToSettled, peakRssMB: round(memory.peakMB), firstPeakRssMB, rssMB: round(memory.rssMB), heap, operatorCpuS, ...counts };
  log(`restart  N=${n}: settled in ${restart.msToSettled} ms, peak RSS ${restart.peakRssMB} MB (now ${restart.rssMB}, heap ${JSON.stringify(heap)}; the first process peaked at ${firstPeakRssMB} MB), ${restart.writes} writes, ${restart.reads} reads (${restart.source}: ${JSON.stringify(restart.requests)}), operator CPU ${operatorCpuS} s`);
  return { restart, operator: next };
}

/** Writes and reads among an operator's /metrics request counts by verb (where there is no audit log). */
function readsAndWrites(byVerb: Record<string, number>): { writes: number; reads: number } {
  return { writes: WRITE_VERBS.reduce((total, verb) => total + (byVerb[verb] ?? 0), 0), reads: (byVerb.list ?? 0) + (byVerb.get ?? 0) + (byVerb.watch ?? 0) };
}

/** The operator's requests at steady state. */
interface Idle { n: number; seconds: number; writes: number; readsPerMinute: number; requests: Record<string, number>; source: 'audit log' | '/metrics'; operatorCpuS: number; clusterCpuS: Record<string, number> }

/** Resolves once the operator's request counters have not moved for 2 s. */
async function settled(port: number): Promise<void> {
  let last = JSON.stringify(await scrapeRequests(port));
  for (;;) {
    await new Promise((r) => setTimeout(r, 2_000));
    const now = JSON.stringify(await scrapeRequests(port));
    if (now === last) return;
    last = now;
  }
}

/** After converge: IDLE_S seconds at steady state, as a site runs it (default resync); writes and reads from the audit log where there is one. */
async function idleCost(cluster: BenchCluster, port: number, pid: number, n: number): Promise<Idle> {
  await settled(port);
  const mark = cluster.auditLog ? auditMark(cluster.auditLog) : 0;
  const before = await scrapeRequests(port);
  const cpuBefore = { operator: processCpuSeconds(pid), cluster: cluster.cpuSeconds() };
  const start = performance.now();
  await new Promise((r) => setTimeout(r, IDLE_S * 1000));
  const minutes = (performance.now() - start) / 60_000;
  const cpu = { operatorCpuS: round(processCpuSeconds(pid) - cpuBefore.operator, 2), clusterCpuS: cpuBetween(cpuBefore.cluster, cluster.cpuSeconds()) };
  let idle: Idle;
  if (cluster.auditLog) {
    const operator = (await requestsSince(cluster.auditLog, mark))['sde-operator'] ?? emptyRequests();
    idle = { n, seconds: IDLE_S, writes: operator.writes, readsPerMinute: round(operator.reads / minutes), requests: operator.byRequest, source: 'audit log', ...cpu };
  } else {
    const after = await scrapeRequests(port);
    const delta: Record<string, number> = {};
    for (const verb of new Set([...Object.keys(before), ...Object.keys(after)])) delta[verb] = (after[verb] ?? 0) - (before[verb] ?? 0);
    const { writes, reads } = readsAndWrites(delta);
    idle = { n, seconds: IDLE_S, writes, readsPerMinute: round(reads / minutes), requests: delta, source: '/metrics', ...cpu };
  }
  log(`idle     N=${n}: ${idle.writes} writes, ${idle.readsPerMinute} reads/min over ${IDLE_S} s (${idle.source}: ${JSON.stringify(idle.requests)}); operator CPU ${idle.operatorCpuS} s, cluster CPU ${JSON.stringify(idle.clusterCpuS)}`);
  return idle;
}

/** The floor: the same children, rendered per object and server-side applied by a client with FLOOR_WORKERS requests in flight, no operator. */
async function floorRun(kind: ClusterKind, n: number): Promise<Converge> {
  const { cluster, user, observer } = await freshSite(kind, n, 'floor');
  try {
    const floor = new KubeClient(cluster.kubeConfig, { userAgent: AGENT.floor });
    await observer.start();
    const setsReady = observer.tally('StatefulSet', (s) => ((s as { status?: { readyReplicas?: number } }).status?.readyReplicas ?? 0) >= 1);
    const slot = limiter(FLOOR_WORKERS);
    const enclaves = new Map<string, ReturnType<typeof enclaveSchema.parse>>();
    let lastApplied = 0;
    // The floor's client shares this process with the user and the observer, which the operator run
    // has too; so its CPU here includes them (an upper bound for the floor's own).
    const mark = cluster.auditLog ? auditMark(cluster.auditLog) : 0;
    const cpuBefore = { cluster: cluster.cpuSeconds(), contender: benchCpuSeconds() };
    const start = performance.now();
    await createFleet(
      user,
      observer,
      n,
      fleetFor(kind),
      async (stored) => {
        const e = enclaveSchema.parse(stored);
        enclaves.set(e.metadata.name, e);
        await slot(() => applyAll(floor, renderEnclave(e, FLEET_SITE, { accessActive: true })));
        lastApplied = performance.now();
      },
      async (stored) => {
        const w = workspaceSchema.parse(stored);
        const e = enclaves.get((w.metadata.namespace ?? '').replace(/^sde-/, ''))!;
        await slot(() => applyAll(floor, renderWorkspace(w, e, FLEET_SITE, { accessActive: true })));
        lastApplied = performance.now();
      },
    );
    const ok = await observer.until(() => setsReady.count === 2 * n, CONVERGE_TIMEOUT_MS);
    const ms = performance.now() - start;
    const cpuS = { contender: round(benchCpuSeconds() - cpuBefore.contender, 2), cluster: cpuBetween(cpuBefore.cluster, cluster.cpuSeconds()) };
    if (!ok) throw new Error(`floor: expected ${2 * n} ready StatefulSets; saw ${setsReady.count}`);
    return { n, ms: round(ms, 0), appliedMs: round(lastApplied - start, 0), ownCount: Object.fromEntries(floor.requests), cpuS, ...(await auditOf(cluster, mark, AGENT.floor)) };
  } finally {
    await observer.stop();
    await cluster.stop();
  }
}

function kubectl(kubeconfig: string, args: string[], input?: string): string {
  const run = spawnSync(KUBECTL, ['--kubeconfig', kubeconfig, ...args], { input, encoding: 'utf8', maxBuffer: 1 << 30 });
  if (run.status !== 0) throw new Error(`kubectl ${args.join(' ')} failed: ${run.stderr.slice(0, 2_000)}`);
  return run.stdout;
}

function render(files: string[]): string {
  const run = spawnSync(NODE, [BUNDLE, 'render', '--site-config', SITE_FILE, '--active', '-f', ...files], { encoding: 'utf8', maxBuffer: 1 << 30 });
  if (run.status !== 0) throw new Error(`sde-operator render failed: ${run.stderr}`);
  return run.stdout;
}

/** What a user without the operator would do: kubectl apply the resources, `sde-operator render` them (with their uids) and pipe that to `kubectl apply --server-side`. */
async function kubectlRun(kind: ClusterKind, n: number): Promise<Converge> {
  const { cluster, observer } = await freshSite(kind, n, 'kubectl');
  const dir = mkdtempSync(join(tmpdir(), 'bench-kubectl-'));
  try {
    await observer.start();
    const setsReady = observer.tally('StatefulSet', (s) => ((s as { status?: { readyReplicas?: number } }).status?.readyReplicas ?? 0) >= 1);
    const docs = (objects: readonly unknown[]): string => objects.map((o) => stringify(o)).join('---\n');
    const kc = cluster.kubeconfigPath;
    const mark = cluster.auditLog ? auditMark(cluster.auditLog) : 0;
    const cpuBefore = { cluster: cluster.cpuSeconds(), contender: childrenCpuSeconds() };
    const start = performance.now();
    kubectl(kc, ['apply', '--server-side', '-f', '-'], docs(range(n).map((i) => fleetEnclave(i))));
    const enclavesFile = join(dir, 'enclaves.yaml');
    writeFileSync(enclavesFile, docs((JSON.parse(kubectl(kc, ['get', 'enclaves', '-o', 'json'])) as { items: unknown[] }).items));
    const enclaveChildren = render([enclavesFile]);
    kubectl(kc, ['apply', '--server-side', '-f', '-'], enclaveChildren);
    kubectl(kc, ['apply', '--server-side', '-f', '-'], docs(range(n).flatMap((i) => fleetWorkspaces(i, fleetFor(kind)))));
    const workspacesFile = join(dir, 'workspaces.yaml');
    writeFileSync(workspacesFile, docs((JSON.parse(kubectl(kc, ['get', 'workspaces', '-A', '-o', 'json'])) as { items: unknown[] }).items));
    // A workspace renders with its enclave; only what the first apply did not hold goes again (the
    // PV binder owns a dataset volume's claimRef by now, and applying it again would conflict).
    const applied = new Set(enclaveChildren.split(/^---$/m).map((d) => d.trim()));
    kubectl(kc, ['apply', '--server-side', '-f', '-'], render([enclavesFile, workspacesFile]).split(/^---$/m).filter((d) => !applied.has(d.trim())).join('---\n'));
    const appliedMs = performance.now() - start;
    const ok = await observer.until(() => setsReady.count === 2 * n, CONVERGE_TIMEOUT_MS);
    const ms = performance.now() - start;
    // kubectl and `sde-operator render` ran as children, waited for: their CPU is the children's.
    const cpuS = { contender: round(childrenCpuSeconds() - cpuBefore.contender, 2), cluster: cpuBetween(cpuBefore.cluster, cluster.cpuSeconds()) };
    if (!ok) throw new Error(`kubectl: expected ${2 * n} ready StatefulSets; saw ${setsReady.count}`);
    return { n, ms: round(ms, 0), appliedMs: round(appliedMs, 0), cpuS, ...(await auditOf(cluster, mark, 'kubectl')) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await observer.stop();
    await cluster.stop();
  }
}

/** Who carries out an expiry: the operator, or the floor (the same writes by a 16-way client, operator stopped). */
type ExpiryContender = 'operator' | 'floor';

/**
 * Expiry latency, as a site runs it (`sde-operator run` with the default resync): n enclaves
 * converge, all expiring in the same second (BENCH_EXPIRY_LEAD_S ahead: time to converge and
 * settle first). Per enclave, seen by an outside watcher, from expiresAt until its member
 * RoleBindings are gone (bindings), until both StatefulSets are at 0 replicas (stopped), and
 * until its status says Expired and both Workspaces' Suspended (reported).
 *
 * The floor runs on the same converged fleet with the operator stopped before expiresAt: at
 * expiresAt a client with FLOOR_WORKERS requests in flight makes the writes expiry needs and no
 * more (per enclave a deletecollection of its member bindings and a server-side apply of each
 * StatefulSet at 0 replicas; then a status patch of each Enclave and Workspace), which is what
 * this server can do on this machine.
 */
async function expiryRun(kind: ClusterKind, n: number, contender: ExpiryContender) {
  const leadMs = Number(process.env.BENCH_EXPIRY_LEAD_S ?? (kind === 'devcluster' ? 150 : 240)) * 1000;
  const { cluster, user } = await freshSite(kind, n, `expiry-${contender}`);
  const op = await startOperatorProcess(cluster.kubeconfigPath, await freePort(), ['--concurrency', process.env.BENCH_EXPIRY_CONCURRENCY ?? String(CONCURRENCY), '--log-level', 'warn']);
  const observer = new SiteObserver(cluster.kubeConfig, ['Enclave', 'Workspace', 'Namespace', 'StatefulSet', 'RoleBinding'], AGENT.observer);
  let operatorRunning = true;
  try {
    const port = await op.started;
    await observer.start();
    const enclavesReady = observer.tally('Enclave', isReady);
    const workspacesReady = observer.tally('Workspace', isReady);
    const expiresAtMs = Math.ceil((Date.now() + leadMs) / 1000) * 1000;
    const expiresAt = new Date(expiresAtMs).toISOString().replace('.000Z', 'Z');
    const userSlot = limiter(USER_WORKERS);
    await Promise.all(range(n).map(async (i) => {
      await userSlot(() => user.apply(fleetEnclave(i, { expiresAt }), { fieldManager: 'bench-user', force: true }));
      await observer.whenExists('Namespace', `sde-${enclaveName(i)}`);
      for (const ws of fleetWorkspaces(i, fleetFor(kind))) await userSlot(() => user.apply(ws, { fieldManager: 'bench-user', force: true }));
    }));
    if (!(await observer.until(() => enclavesReady.count === n && workspacesReady.count === 2 * n, CONVERGE_TIMEOUT_MS))) throw new Error('expiry: fleet did not converge');
    await settled(port);
    if (contender === 'floor') {
      await op.kill('SIGTERM');
      operatorRunning = false;
    }
    if (Date.now() > expiresAtMs - 2_000) throw new Error(`expiry: the fleet took too long to converge; expiresAt passed before measuring (raise BENCH_EXPIRY_LEAD_S from ${leadMs / 1000})`);

    const names = range(n).map((i) => enclaveName(i));
    const bindingsGone = (name: string): boolean => observer.cache('RoleBinding').list({ namespace: `sde-${name}` }).every((b) => b.metadata?.labels?.['app.kubernetes.io/managed-by'] === undefined);
    const stopped = (name: string): boolean => {
      const sets = observer.cache('StatefulSet').list({ namespace: `sde-${name}` });
      return sets.length > 0 && sets.every((s) => (s as { spec?: { replicas?: number } }).spec?.replicas === 0);
    };
    const phase = (o: KubernetesObject | undefined): string | undefined => (o as { status?: { phase?: string } } | undefined)?.status?.phase;
    const reported = (name: string): boolean => {
      const workspaces = observer.cache('Workspace').list({ namespace: `sde-${name}` });
      return phase(observer.cache('Enclave').get(name)) === 'Expired' && workspaces.length === 2 && workspaces.every((w) => phase(w) === 'Suspended');
    };
    const milestones = { bindings: bindingsGone, stopped, reported } as const;
    // Checked per event, for the namespace it touched only (checking all of them on every event
    // cost the observer enough CPU to delay its own timestamps on a 2-core machine).
    const at = { bindings: new Map<string, number>(), stopped: new Map<string, number>(), reported: new Map<string, number>() };
    const pending = { bindings: new Set(names), stopped: new Set(names), reported: new Set(names) };
    const cpuNow = () => ({ cluster: cluster.cpuSeconds(), contender: contender === 'operator' ? processCpuSeconds(op.pid) : benchCpuSeconds() });
    let cpuAtExpiry = cpuNow();
    let markAtExpiry = 0;
    const atExpiry = setTimeout(() => {
      cpuAtExpiry = cpuNow();
      if (cluster.auditLog) markAtExpiry = auditMark(cluster.auditLog);
      if (contender === 'floor') void floorExpiry(new KubeClient(cluster.kubeConfig, { userAgent: AGENT.floor }), observer, names);
    }, expiresAtMs - Date.now());
    const done = await new Promise<boolean>((resolve) => {
      const see = (name: string | undefined): void => {
        if (name === undefined || Date.now() < expiresAtMs) return;
        for (const milestone of ['bindings', 'stopped', 'reported'] as const) {
          if (pending[milestone].has(name) && milestones[milestone](name)) {
            pending[milestone].delete(name);
            at[milestone].set(name, Date.now() - expiresAtMs);
          }
        }
        if (Object.values(pending).every((p) => p.size === 0)) finish(true);
      };
      const unsubscribe = (['RoleBinding', 'StatefulSet', 'Enclave', 'Workspace'] as const).map((k) => observer.cache(k).subscribe((event) => {
        const o = event.object.metadata;
        see(k === 'Enclave' ? o?.name : o?.namespace?.startsWith('sde-') ? o.namespace.slice(4) : undefined);
      }));
      const timer = setTimeout(() => finish(false), expiresAtMs - Date.now() + 120_000);
      function finish(complete: boolean): void {
        clearTimeout(timer);
        for (const u of unsubscribe) u();
        resolve(complete);
      }
    });
    clearTimeout(atExpiry);
    const cpuAtEnd = cpuNow();
    const client = contender === 'operator' ? 'sde-operator' : AGENT.floor;
    const requests = cluster.auditLog ? (await requestsSince(cluster.auditLog, markAtExpiry))[client]?.byRequest : contender === 'operator' ? await scrapeRequests(port) : undefined;
    const stats = (values: number[]) => ({ count: values.length, minMs: Math.min(...values), p50Ms: percentile(values, 50), p99Ms: percentile(values, 99), maxMs: Math.max(...values) });
    // Revoked: bindings gone and workspaces stopped, whichever came last.
    const revoked = names.filter((name) => at.bindings.has(name) && at.stopped.has(name)).map((name) => Math.max(at.bindings.get(name)!, at.stopped.get(name)!));
    const expiry = {
      contender,
      n,
      expiresAt,
      complete: done,
      bindings: stats([...at.bindings.values()]),
      stopped: stats([...at.stopped.values()]),
      revoked: stats(revoked),
      reported: stats([...at.reported.values()]),
      requests: requests ?? {},
      cpuS: { contender: round(cpuAtEnd.contender - cpuAtExpiry.contender, 2), cluster: cpuBetween(cpuAtExpiry.cluster, cpuAtEnd.cluster) },
    };
    const line = (s: ReturnType<typeof stats>): string => `p50 ${s.p50Ms} ms, p99 ${s.p99Ms} ms, max ${s.maxMs} ms (${s.count})`;
    log(`expiry   ${contender} N=${n} expiring at ${expiresAt}: bindings gone ${line(expiry.bindings)}; workspaces stopped ${line(expiry.stopped)}; revoked ${line(expiry.revoked)}; statuses ${line(expiry.reported)}; requests ${JSON.stringify(expiry.requests)}; CPU s ${JSON.stringify(expiry.cpuS)}`);
    return expiry;
  } finally {
    await observer.stop();
    if (operatorRunning) await op.kill('SIGTERM');
    await cluster.stop();
  }
}

/**
 * The floor's expiry: the fewest writes that carry it out, FLOOR_WORKERS at once. First every
 * revocation (each enclave's member bindings in one deletecollection, each StatefulSet applied at
 * 0 replicas), then every status (phase and the AccessActive condition), as the operator orders them.
 */
async function floorExpiry(floor: KubeClient, observer: SiteObserver, names: readonly string[]): Promise<void> {
  const slot = limiter(FLOOR_WORKERS);
  const enclaves = new Map(names.map((name) => [name, enclaveSchema.parse(observer.cache('Enclave').get(name))]));
  const workspaces = new Map(names.map((name) => [name, observer.cache('Workspace').list({ namespace: `sde-${name}` }).map((w) => workspaceSchema.parse(w))]));
  await Promise.all(names.flatMap((name) => [
    slot(() => floor.deleteCollection(Owned.RoleBinding, `sde-${name}`, selectorString(enclaveChildrenSelector(name)))),
    ...workspaces.get(name)!.map((w) => slot(() => applyAll(floor, renderWorkspace(w, enclaves.get(name)!, FLEET_SITE, { accessActive: false }).filter((o) => o.kind === 'StatefulSet')))),
  ]));
  const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  const condition = { type: 'AccessActive', status: 'False', reason: 'Expired', message: 'access ended', lastTransitionTime: now };
  await Promise.all(names.flatMap((name) => [
    slot(() => floor.patchStatus(SdeKinds.Enclave, name, undefined, { phase: 'Expired', conditions: [condition] })),
    ...workspaces.get(name)!.map((w) => slot(() => floor.patchStatus(SdeKinds.Workspace, w.metadata.name, w.metadata.namespace, { phase: 'Suspended', conditions: [condition] }))),
  ]));
}

/** Render cost of this fleet's enclave + two workspaces, per enclave. */
function renderCost(n: number): number {
  const inputs = range(n).map((i) => ({
    e: enclaveSchema.parse({ ...fleetEnclave(i), metadata: { name: enclaveName(i), uid: `uid-${i}` } }),
    ws: fleetWorkspaces(i).map((w, k) => workspaceSchema.parse({ ...w, metadata: { ...w.metadata, uid: `uid-${i}-${k}` } })),
  }));
  for (const { e, ws } of inputs.slice(0, 50)) for (const w of ws) renderWorkspace(w, e, FLEET_SITE, { accessActive: renderEnclave(e, FLEET_SITE, { accessActive: true }).length > 0 });
  const start = performance.now();
  for (const { e, ws } of inputs) {
    renderEnclave(e, FLEET_SITE, { accessActive: true });
    for (const w of ws) renderWorkspace(w, e, FLEET_SITE, { accessActive: true });
  }
  return (performance.now() - start) / n;
}

/** Where a cluster's results go: bench/results/operator.json (devcluster) or operator-real.json. */
const resultsFile = (kind: ClusterKind): URL => new URL(`bench/results/${kind === 'devcluster' ? 'operator' : `operator-${kind}`}.json`, ROOT);

/** What the results file held before this run. */
interface Previous { converge?: { n: number }[]; idle?: Idle[]; restart?: Restart[]; expiry?: unknown; machine?: unknown }

/**
 * Writes the results so far (after each size, so a run cut short keeps what it measured). What
 * this run did not measure (a size, an idle or restart phase, the expiry) is kept from the file as it was
 * before the run; each such row says where it came from (that run's machine, commit and date).
 */
function save(kind: ClusterKind, previous: Previous, results: Record<string, unknown>, converge: Record<string, unknown>[], idle: Idle[], restart: Restart[]): void {
  mkdirSync(new URL('bench/results/', ROOT), { recursive: true });
  const kept = <T extends { n: number }>(rows: T[] | undefined, measured: readonly { n: number }[]): (T & { from: unknown })[] => (rows ?? []).filter((r) => !measured.some((m) => m.n === r.n)).map((r) => ({ from: previous.machine, ...r }));
  const written = {
    ...results,
    converge: [...kept(previous.converge, converge as { n: number }[]), ...converge].sort((a, b) => (a as { n: number }).n - (b as { n: number }).n),
    idle: [...kept(previous.idle, idle), ...idle].sort((a, b) => a.n - b.n),
    restart: [...kept(previous.restart, restart), ...restart].sort((a, b) => a.n - b.n),
    ...(results.expiry === undefined && previous.expiry !== undefined ? { expiry: { from: previous.machine, ...(previous.expiry as object) } } : {}),
  };
  writeFileSync(resultsFile(kind), `${JSON.stringify(written, null, 2)}\n`);
  log(`wrote ${resultsFile(kind).pathname}`);
}

/** The API server's CPU in a run: kube-apiserver with etcd on a real cluster, the devcluster process otherwise. */
const apiServerCpu = (cluster: Record<string, number>): number => round((cluster['kube-apiserver'] ?? 0) + (cluster.etcd ?? 0) + (cluster.devcluster ?? 0), 2);

// The image's bundle runs `sde-operator run` and `sde-operator render`, as a site runs them.
const BUNDLE = await buildOperator();
const renderMs = renderCost(500);
log(`render: ${round(renderMs, 3)} ms per enclave (enclave + 2 workspaces)`);
const commit = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT.pathname, encoding: 'utf8' }).stdout.trim();

for (const kind of CLUSTERS) {
  const previous: Previous = existsSync(resultsFile(kind)) ? (JSON.parse(readFileSync(resultsFile(kind), 'utf8')) as Previous) : {};
  const results: Record<string, unknown> = {
    machine: {
      nproc: cpus().length,
      cpu: cpus()[0]?.model,
      memoryGB: round(totalmem() / 2 ** 30),
      node: process.version,
      date: new Date().toISOString(),
      commit,
      cpusAllowed: { apiServer: process.env.BENCH_CLUSTER_CPUS ?? 'all', benchAndOperator: /^Cpus_allowed_list:\s*(.+)$/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? 'unknown' },
      ...(kind === 'real' ? { standInNodes: Object.fromEntries(SIZES.map((n) => [n, realNodes(2 * n)])) } : {}),
    },
    cluster: kind,
    method: {
      operator: `sde-operator run (the image's bundle, dist/sde-operator.mjs) as a child process (--concurrency ${CONCURRENCY}); from the first Enclave create to every Enclave and Workspace Ready=True; requests from the API server's audit log by User-Agent where there is one, and its /metrics; memory from /proc/<pid>/status (VmHWM, VmRSS)`,
      floor: `the same children rendered by constructs and server-side applied with applyAll through a KubeClient (${FLOOR_WORKERS} at once), no status writes; the same user creates the CRs; until every StatefulSet has a ready replica (appliedMs: until its last apply returned)`,
      kubectl: 'kubectl apply --server-side of the CRs, kubectl get -o json for their uids, `sde-operator render --active` piped to kubectl apply --server-side; until every StatefulSet has a ready replica (appliedMs: until the last kubectl returned)',
      idle: `after converge, ${IDLE_S} s at steady state with the default resync`,
      restart: 'after idle, the operator stopped (SIGTERM) and a new one started on the converged site, until its request counters stood still for 2 s: its peak RSS and requests',
    },
    render: { msPerEnclave: round(renderMs, 3), objects: 'enclave + 2 workspaces' },
  };
  const converge: Record<string, unknown>[] = [];
  const idle: Idle[] = [];
  const restart: Restart[] = [];
  for (const n of SIZES) {
    const op = await operatorRun(kind, n);
    results.server = op.server;
    const o = op.converge;
    log(`operator N=${n} on ${op.server}: ${o.ms} ms (${round(o.ms / n, 2)} ms/enclave; last object created at ${o.appliedMs ?? '?'} ms), audit ${o.audit ? `${o.audit.reads} reads, ${o.audit.writes} writes (${round(o.audit.writes / n)}/enclave), ${o.audit.created} created` : 'n/a'}, peak RSS ${o.peakRssMB} MB (now ${o.rssMB}, heap ${JSON.stringify(o.heap)}), ${o.objectsManaged} objects managed, CPU s: operator ${o.cpuS.contender}, cluster ${JSON.stringify(o.cpuS.cluster)}`);
    if (op.idle) idle.push(op.idle);
    if (op.restart) restart.push(op.restart);
    if (SKIP.has('floor')) {
      // Without the floor there is no side-by-side row: the operator's figures are only logged (and its restart kept).
      log('floor: skipped (BENCH_SKIP); no converge row for this size');
      save(kind, previous, results, converge, idle, restart);
      continue;
    }
    const floor = await floorRun(kind, n);
    log(`floor    N=${n}: ${floor.ms} ms (${round(floor.ms / n, 2)} ms/enclave; applied in ${floor.appliedMs} ms), audit ${floor.audit ? `${floor.audit.reads} reads, ${floor.audit.writes} writes (${round(floor.audit.writes / n)}/enclave), ${floor.audit.created} created` : 'n/a'}, CPU s: floor + user + observer ${floor.cpuS.contender}, cluster ${JSON.stringify(floor.cpuS.cluster)}`);
    let kube: Converge | undefined;
    if (SKIP.has('kubectl')) log('kubectl: skipped (BENCH_SKIP)');
    else if (n > kubectlMax(kind)) log(`kubectl: skipped at N=${n} (above BENCH_KUBECTL_MAX=${kubectlMax(kind)}; kubectl applies one object at a time)`);
    else if (!existsSync(KUBECTL)) log(`kubectl: skipped, ${KUBECTL} not found`);
    else {
      kube = await kubectlRun(kind, n);
      log(`kubectl  N=${n}: ${kube.ms} ms (${round(kube.ms / n, 2)} ms/enclave; applied in ${kube.appliedMs} ms), audit ${kube.audit ? `${kube.audit.reads} reads, ${kube.audit.writes} writes, ${kube.audit.created} created` : 'n/a'}, CPU s: kubectl + render ${kube.cpuS.contender}, cluster ${JSON.stringify(kube.cpuS.cluster)}`);
    }
    const row = {
      n,
      workspaces: 2 * n,
      operatorMs: o.ms,
      floorMs: floor.ms,
      kubectlMs: kube?.ms ?? null,
      operatorOverFloor: round(o.ms / floor.ms, 2),
      operatorOverKubectl: kube ? round(o.ms / kube.ms, 2) : null,
      operatorMsPerEnclave: round(o.ms / n, 2),
      applied: { operatorMs: o.appliedMs ?? null, floorMs: floor.appliedMs ?? null, kubectlMs: kube?.appliedMs ?? null },
      audit: { operator: o.audit ?? null, floor: floor.audit ?? null, kubectl: kube?.audit ?? null },
      auditWritesPerEnclave: { operator: o.audit ? round(o.audit.writes / n) : null, floor: floor.audit ? round(floor.audit.writes / n) : null, kubectl: kube?.audit ? round(kube.audit.writes / n) : null },
      clients: { operator: o.clients ?? null, floor: floor.clients ?? null, kubectl: kube?.clients ?? null },
      ownCount: { operator: o.ownCount, floor: floor.ownCount },
      operatorPeakRssMB: o.peakRssMB,
      operatorRssMB: o.rssMB,
      operatorHeap: o.heap,
      objectsManaged: o.objectsManaged,
      cpuSeconds: { operator: o.cpuS, floor: floor.cpuS, kubectl: kube?.cpuS ?? null },
      apiServerCpuS: { operator: apiServerCpu(o.cpuS.cluster), floor: apiServerCpu(floor.cpuS.cluster), kubectl: kube ? apiServerCpu(kube.cpuS.cluster) : null },
      clusterCpuS: { operator: sum(o.cpuS.cluster), floor: sum(floor.cpuS.cluster), kubectl: kube ? sum(kube.cpuS.cluster) : null },
    };
    converge.push(row);
    save(kind, previous, results, converge, idle, restart);
    log(`ratios   N=${n}: operator/floor ${row.operatorOverFloor}, operator/kubectl ${row.operatorOverKubectl ?? 'n/a'}, API server CPU s (operator / floor / kubectl runs) ${row.apiServerCpuS.operator} / ${row.apiServerCpuS.floor} / ${row.apiServerCpuS.kubectl ?? 'n/a'}`);
  }
  if (converge.length >= 2) {
    const first = converge[0] as { n: number; operatorMs: number };
    const last = converge[converge.length - 1] as typeof first;
    results.scaling = {
      msPerEnclaveFirstToLast: [round(first.operatorMs / first.n, 2), round(last.operatorMs / last.n, 2)],
      idleReadsPerMinute: idle.map((i) => [i.n, i.readsPerMinute]),
    };
  }
  if (!SKIP.has('expiry') && EXPIRING > 0) {
    const operator = await expiryRun(kind, EXPIRING, 'operator');
    const floor = SKIP.has('expiry-floor') ? undefined : await expiryRun(kind, EXPIRING, 'floor');
    const ratio = (m: 'bindings' | 'stopped' | 'revoked' | 'reported') => (floor ? round(operator[m].p99Ms / floor[m].p99Ms, 2) : null);
    results.expiry = { operator, floor: floor ?? null, operatorOverFloorP99: { bindings: ratio('bindings'), stopped: ratio('stopped'), revoked: ratio('revoked'), reported: ratio('reported') } };
    log(`expiry   operator/floor at p99: ${JSON.stringify((results.expiry as { operatorOverFloorP99: unknown }).operatorOverFloorP99)}`);
  }

  save(kind, previous, results, converge, idle, restart);
}
