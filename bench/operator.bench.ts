// The operator under load, against the floor and against kubectl, on a fresh devcluster per run.
// Sizes come from BENCH_SIZES (default 50,200,1000); BENCH_SKIP may name phases to skip
// (kubectl, idle, expiry). Prints its figures and writes bench/results/operator.json.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, totalmem, tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import type { KubernetesObject } from '@kubernetes/client-node';
import { stringify } from 'yaml';
import { allCustomResourceDefinitions } from '../api/crd.ts';
import { enclave as enclaveSchema } from '../api/enclave.ts';
import { workspace as workspaceSchema } from '../api/workspace.ts';
import { renderEnclave, renderWorkspace } from '../constructs/index.ts';
import { DEFAULT_CONCURRENCY } from '../operator/operator.ts';
import { applyAll, KubeClient, WRITE_VERBS } from '../operator/runtime/index.ts';
import { enclaveName, FLEET_SITE, fleetEnclave, fleetNodes, fleetWorkspaces, isReady, ROOT } from './lib/fleet.ts';
import type { Manifest } from './lib/fleet.ts';
import { limiter, percentile } from './lib/limit.ts';
import { SiteObserver } from './lib/observe.ts';
import { buildOperator, freePort, processCpuSeconds, processMemoryMB, scrapeRequests, startClusterProcess, startOperatorProcess } from './lib/processes.ts';

const SIZES = (process.env.BENCH_SIZES ?? '50,200,1000').split(',').map(Number).filter((n) => n > 0);
const SKIP = new Set((process.env.BENCH_SKIP ?? '').split(',').filter(Boolean));
// The operator's default (`sde-operator run` without --concurrency); BENCH_CONCURRENCY to try others.
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? DEFAULT_CONCURRENCY);
// The operator runs three controllers of CONCURRENCY each; the floor gets as many workers as the
// two that converge a fleet (enclave, workspace).
const FLOOR_WORKERS = 2 * CONCURRENCY;
const USER_WORKERS = 8;
const KUBECTL = '/usr/bin/kubectl';
const KUBECTL_MAX = Number(process.env.BENCH_KUBECTL_MAX ?? 200);
const CONVERGE_TIMEOUT_MS = 15 * 60_000;
// How far ahead the expiring enclaves' expiresAt lies: time to converge, idle and hand over first.
const EXPIRY_LEAD_MS = Number(process.env.BENCH_EXPIRY_LEAD_S ?? 150) * 1000;
const NODE = new URL('node_modules/.bin/node', ROOT).pathname;
const SITE_FILE = new URL('examples/site-uclh.yaml', ROOT).pathname;

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);
const round = (x: number, digits = 1): number => Number(x.toFixed(digits));
const log = (line: string): void => console.log(line);

/** A fresh devcluster in its own process, sized for n enclaves, with the CRDs installed. */
async function freshSite(n: number) {
  const cluster = await startClusterProcess({ nodes: fleetNodes(2 * n), historySize: 400_000 });
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(cluster.kubeconfigPath);
  const user = new KubeClient(kubeConfig);
  for (const { crd } of allCustomResourceDefinitions()) await user.apply(crd as KubernetesObject, { fieldManager: 'bench-installer', force: true });
  return { cluster, kubeConfig, user };
}

/** Creates the fleet as a user would: each Enclave, and its Workspaces once its namespace exists. */
async function createFleet(user: KubeClient, observer: SiteObserver, n: number, onEnclave?: (stored: KubernetesObject) => Promise<void>, onWorkspace?: (stored: KubernetesObject) => Promise<void>): Promise<void> {
  const userSlot = limiter(USER_WORKERS);
  await Promise.all(range(n).map(async (i) => {
    const stored = await userSlot(() => user.apply(fleetEnclave(i), { fieldManager: 'bench-user', force: true }));
    await onEnclave?.(stored);
    await observer.whenExists('Namespace', `sde-${enclaveName(i)}`);
    for (const ws of fleetWorkspaces(i)) {
      const storedWs = await userSlot(() => user.apply(ws, { fieldManager: 'bench-user', force: true }));
      await onWorkspace?.(storedWs);
    }
  }));
}

/** CPU seconds used during a converge: by the API server (devcluster process) and by the operator or the floor's client. */
interface CpuUse { apiServerS: number; clientS: number }

interface OperatorRun { n: number; ms: number; requests: Record<string, number>; requestsPerEnclave: number; peakRssMB: number; rssMB: number; objectsManaged: number; cpu: CpuUse }

const benchCpuSeconds = (): number => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
};

/** `sde-operator run` in its own process converging n enclaves; requests from its /metrics, memory from /proc. */
async function operatorRun(n: number): Promise<OperatorRun> {
  const { cluster, kubeConfig, user } = await freshSite(n);
  const op = await startOperatorProcess(cluster.kubeconfigPath, await freePort(), ['--concurrency', String(CONCURRENCY), '--log-level', 'warn']);
  try {
    const port = await op.started;
    const observer = new SiteObserver(kubeConfig);
    await observer.start();
    const enclavesReady = observer.tally('Enclave', isReady);
    const workspacesReady = observer.tally('Workspace', isReady);
    const cpuBefore = { apiServerS: processCpuSeconds(cluster.child.pid!), clientS: processCpuSeconds(op.pid) };
    const start = performance.now();
    await createFleet(user, observer, n);
    const ok = await observer.until(() => enclavesReady.count === n && workspacesReady.count === 2 * n, CONVERGE_TIMEOUT_MS);
    const ms = performance.now() - start;
    const cpu = { apiServerS: round(processCpuSeconds(cluster.child.pid!) - cpuBefore.apiServerS, 2), clientS: round(processCpuSeconds(op.pid) - cpuBefore.clientS, 2) };
    if (!ok) throw new Error(`operator: expected ${n} enclaves and ${2 * n} workspaces Ready; saw ${enclavesReady.count} and ${workspacesReady.count}`);
    const requests = await scrapeRequests(port);
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    const objectsManaged = [...metrics.matchAll(/^sde_objects_managed\{[^}]*\} (\d+)/gm)].reduce((sum, m) => sum + Number(m[1]), 0);
    const memory = processMemoryMB(op.pid);
    await observer.stop();
    const total = Object.values(requests).reduce((a, b) => a + b, 0);
    return { n, ms: round(ms, 0), requests, requestsPerEnclave: round(total / n), peakRssMB: round(memory.peakMB), rssMB: round(memory.rssMB), objectsManaged, cpu };
  } finally {
    await op.kill('SIGTERM');
    await cluster.stop();
  }
}

/** The floor: the same children, rendered per object and applied with server-side apply through a KubeClient, no operator. */
async function floorRun(n: number): Promise<{ n: number; ms: number; requests: number; requestsPerEnclave: number; cpu: CpuUse }> {
  const { cluster, kubeConfig, user } = await freshSite(n);
  try {
    const floor = new KubeClient(kubeConfig);
    const observer = new SiteObserver(kubeConfig);
    await observer.start();
    const setsReady = observer.tally('StatefulSet', (s) => ((s as { status?: { readyReplicas?: number } }).status?.readyReplicas ?? 0) >= 1);
    const slot = limiter(FLOOR_WORKERS);
    const enclaves = new Map<string, ReturnType<typeof enclaveSchema.parse>>();
    // The floor's client shares this process with the user and the observer, which the operator run
    // has too; so "client" CPU here includes them (an upper bound for the floor's own).
    const cpuBefore = { apiServerS: processCpuSeconds(cluster.child.pid!), clientS: benchCpuSeconds() };
    const start = performance.now();
    await createFleet(
      user,
      observer,
      n,
      async (stored) => {
        const e = enclaveSchema.parse(stored);
        enclaves.set(e.metadata.name, e);
        await slot(() => applyAll(floor, renderEnclave(e, FLEET_SITE, { accessActive: true })));
      },
      async (stored) => {
        const w = workspaceSchema.parse(stored);
        const e = enclaves.get((w.metadata.namespace ?? '').replace(/^sde-/, ''))!;
        await slot(() => applyAll(floor, renderWorkspace(w, e, FLEET_SITE, { accessActive: true })));
      },
    );
    const ok = await observer.until(() => setsReady.count === 2 * n, CONVERGE_TIMEOUT_MS);
    const ms = performance.now() - start;
    const cpu = { apiServerS: round(processCpuSeconds(cluster.child.pid!) - cpuBefore.apiServerS, 2), clientS: round(benchCpuSeconds() - cpuBefore.clientS, 2) };
    if (!ok) throw new Error(`floor: expected ${2 * n} ready StatefulSets; saw ${setsReady.count}`);
    await observer.stop();
    const requests = [...floor.requests.values()].reduce((a, b) => a + b, 0);
    return { n, ms: round(ms, 0), requests, requestsPerEnclave: round(requests / n), cpu };
  } finally {
    await cluster.stop();
  }
}

function kubectl(kubeconfig: string, args: string[], input?: string): string {
  const run = spawnSync(KUBECTL, ['--kubeconfig', kubeconfig, ...args], { input, encoding: 'utf8', maxBuffer: 1 << 30 });
  if (run.status !== 0) throw new Error(`kubectl ${args.join(' ')} failed: ${run.stderr}`);
  return run.stdout;
}

function render(files: string[]): string {
  const run = spawnSync(NODE, [BUNDLE, 'render', '--site-config', SITE_FILE, '--active', '-f', ...files], { encoding: 'utf8', maxBuffer: 1 << 30 });
  if (run.status !== 0) throw new Error(`sde-operator render failed: ${run.stderr}`);
  return run.stdout;
}

/** What a user without the operator would do: kubectl apply the resources, `sde-operator render` them (with their uids) and pipe that to `kubectl apply --server-side`. */
async function kubectlRun(n: number): Promise<{ n: number; ms: number }> {
  const { cluster, kubeConfig } = await freshSite(n);
  const dir = mkdtempSync(join(tmpdir(), 'bench-kubectl-'));
  try {
    const observer = new SiteObserver(kubeConfig);
    await observer.start();
    const setsReady = observer.tally('StatefulSet', (s) => ((s as { status?: { readyReplicas?: number } }).status?.readyReplicas ?? 0) >= 1);
    const docs = (objects: readonly unknown[]): string => objects.map((o) => stringify(o)).join('---\n');
    const kc = cluster.kubeconfigPath;
    const start = performance.now();
    kubectl(kc, ['apply', '--server-side', '-f', '-'], docs(range(n).map((i) => fleetEnclave(i))));
    const enclavesFile = join(dir, 'enclaves.yaml');
    writeFileSync(enclavesFile, docs((JSON.parse(kubectl(kc, ['get', 'enclaves', '-o', 'json'])) as { items: unknown[] }).items));
    kubectl(kc, ['apply', '--server-side', '-f', '-'], render([enclavesFile]));
    kubectl(kc, ['apply', '--server-side', '-f', '-'], docs(range(n).flatMap((i) => fleetWorkspaces(i))));
    const workspacesFile = join(dir, 'workspaces.yaml');
    writeFileSync(workspacesFile, docs((JSON.parse(kubectl(kc, ['get', 'workspaces', '-A', '-o', 'json'])) as { items: unknown[] }).items));
    kubectl(kc, ['apply', '--server-side', '-f', '-'], render([enclavesFile, workspacesFile]));
    const ok = await observer.until(() => setsReady.count === 2 * n, CONVERGE_TIMEOUT_MS);
    const ms = performance.now() - start;
    if (!ok) throw new Error(`kubectl: expected ${2 * n} ready StatefulSets; saw ${setsReady.count}`);
    await observer.stop();
    return { n, ms: round(ms, 0) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await cluster.stop();
  }
}

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

/**
 * Idle cost and expiry latency, as a site runs it: the devcluster and `sde-operator run` in
 * processes of their own (counters from its /metrics). n enclaves converge under an operator
 * with `--resync` of `resyncMs`, and three resync periods pass. Then that operator stops and one
 * with the default resync (10 minutes) takes over, as a site runs it (a relist of every kind
 * every 5 s would land in the expiry second by chance), and `expiring` of the enclaves reach
 * expiresAt in the same second.
 */
async function idleAndExpiry(n: number, expiring: number, resyncMs: number) {
  const { cluster, kubeConfig, user } = await freshSite(n);
  const concurrency = ['--concurrency', process.env.BENCH_EXPIRY_CONCURRENCY ?? String(CONCURRENCY), '--log-level', 'warn'];
  let op = await startOperatorProcess(cluster.kubeconfigPath, await freePort(), [...concurrency, '--resync', String(resyncMs / 1000)]);
  const observer = new SiteObserver(kubeConfig, ['Enclave', 'Workspace', 'Namespace', 'StatefulSet', 'RoleBinding']);
  try {
    let port = await op.started;
    await observer.start();
    const enclavesReady = observer.tally('Enclave', isReady);
    const workspacesReady = observer.tally('Workspace', isReady);
    // Expiry far enough ahead to converge and idle first, all within the same second.
    const expiresAtMs = Math.ceil((Date.now() + EXPIRY_LEAD_MS) / 1000) * 1000;
    const expiresAt = new Date(expiresAtMs).toISOString().replace('.000Z', 'Z');
    const userSlot = limiter(USER_WORKERS);
    await Promise.all(range(n).map(async (i) => {
      const e: Manifest = i < expiring ? fleetEnclave(i, { expiresAt }) : fleetEnclave(i);
      await userSlot(() => user.apply(e, { fieldManager: 'bench-user', force: true }));
      await observer.whenExists('Namespace', `sde-${enclaveName(i)}`);
      for (const ws of fleetWorkspaces(i)) await userSlot(() => user.apply(ws, { fieldManager: 'bench-user', force: true }));
    }));
    if (!(await observer.until(() => enclavesReady.count === n && workspacesReady.count === 2 * n, CONVERGE_TIMEOUT_MS))) throw new Error('idle: fleet did not converge');
    await settled(port);
    const before = await scrapeRequests(port);
    const idleStart = performance.now();
    await new Promise((r) => setTimeout(r, 3 * resyncMs + 500));
    const after = await scrapeRequests(port);
    const idleMinutes = (performance.now() - idleStart) / 60_000;
    const delta: Record<string, number> = {};
    for (const verb of new Set([...Object.keys(before), ...Object.keys(after)])) delta[verb] = (after[verb] ?? 0) - (before[verb] ?? 0);
    const writes = WRITE_VERBS.reduce((sum, verb) => sum + (delta[verb] ?? 0), 0);
    const reads = (delta.list ?? 0) + (delta.get ?? 0) + (delta.watch ?? 0);
    const idle = { resyncMs, periods: 3, writes, readsPerMinute: round(reads / idleMinutes), requests: delta };
    log(`idle: ${n} enclaves, 3 resync periods of ${resyncMs} ms: ${writes} writes, ${idle.readsPerMinute} reads/min (${JSON.stringify(delta)})`);

    // The site's operator: default resync; it lists, finds everything up to date, and settles.
    await op.kill('SIGTERM');
    op = await startOperatorProcess(cluster.kubeconfigPath, await freePort(), concurrency);
    port = await op.started;
    await settled(port);

    // Expiry: per expiring enclave, when its RoleBindings are gone and its StatefulSets are at 0 replicas.
    const expiredAt = new Map<string, number>();
    const names = range(expiring).map((i) => enclaveName(i));
    if (Date.now() > expiresAtMs - 2_000) throw new Error('expiry: the fleet took too long to converge; expiresAt passed before measuring');
    const revoked = (name: string): boolean => {
      const ns = `sde-${name}`;
      const bindings = observer.cache('RoleBinding').list({ namespace: ns }).filter((b) => b.metadata?.labels?.['app.kubernetes.io/managed-by'] !== undefined);
      const sets = observer.cache('StatefulSet').list({ namespace: ns });
      return bindings.length === 0 && sets.length > 0 && sets.every((s) => (s as { spec?: { replicas?: number } }).spec?.replicas === 0);
    };
    const requestsBeforeExpiry = await scrapeRequests(port);
    // Checked per event, for the namespace it touched only (checking all 200 on every event cost
    // the observer enough CPU to delay its own timestamps on a 2-core machine).
    const pending = new Set(names);
    // CPU seconds each process spends from expiresAt until the last enclave is revoked.
    const cpuNow = () => ({ apiServer: processCpuSeconds(cluster.child.pid!), operator: processCpuSeconds(op.pid), observer: benchCpuSeconds() });
    let cpuAtExpiry = cpuNow();
    const cpuTimer = setTimeout(() => (cpuAtExpiry = cpuNow()), expiresAtMs - Date.now());
    let cpuAtEnd = cpuAtExpiry;
    // And when the statuses say so: the Enclave Expired, both Workspaces Suspended (the operator
    // writes every revocation due at once before it reports any).
    const reportedAt = new Map<string, number>();
    const unreported = new Set(names);
    const reported = (name: string): boolean => {
      const phase = (o: KubernetesObject | undefined): string | undefined => (o as { status?: { phase?: string } } | undefined)?.status?.phase;
      const workspaces = observer.cache('Workspace').list({ namespace: `sde-${name}` });
      return phase(observer.cache('Enclave').get(name)) === 'Expired' && workspaces.length === 2 && workspaces.every((w) => phase(w) === 'Suspended');
    };
    const stopReports = (['Enclave', 'Workspace'] as const).map((kind) => observer.cache(kind).subscribe((event) => {
      const name = kind === 'Enclave' ? event.object.metadata?.name : event.object.metadata?.namespace?.slice(4);
      if (name === undefined || !unreported.has(name) || Date.now() < expiresAtMs || !reported(name)) return;
      unreported.delete(name);
      reportedAt.set(name, Date.now() - expiresAtMs);
    }));
    const done = await new Promise<boolean>((resolve) => {
      const check = (ns: string | undefined): void => {
        const name = ns?.startsWith('sde-') ? ns.slice(4) : undefined;
        if (name === undefined || !pending.has(name) || Date.now() < expiresAtMs || !revoked(name)) return;
        pending.delete(name);
        expiredAt.set(name, Date.now() - expiresAtMs);
        if (pending.size === 0) finish(true);
      };
      const unsubscribe = (['RoleBinding', 'StatefulSet'] as const).map((kind) => observer.cache(kind).subscribe((event) => check(event.object.metadata?.namespace)));
      const timer = setTimeout(() => finish(false), expiresAtMs - Date.now() + 60_000);
      function finish(complete: boolean): void {
        cpuAtEnd = cpuNow();
        clearTimeout(timer);
        clearTimeout(cpuTimer);
        for (const u of unsubscribe) u();
        resolve(complete);
      }
    });
    const requestsAfterExpiry = await scrapeRequests(port);
    await observer.until(() => unreported.size === 0, 60_000);
    for (const stop of stopReports) stop();
    const reports = [...reportedAt.values()];
    const expiryRequests: Record<string, number> = {};
    for (const verb of Object.keys(requestsAfterExpiry)) expiryRequests[verb] = (requestsAfterExpiry[verb] ?? 0) - (requestsBeforeExpiry[verb] ?? 0);
    const latencies = [...expiredAt.values()];
    const expiry = { enclaves: expiring, operatorResync: 'default (600 s)', revoked: latencies.length, complete: done, minMs: Math.min(...latencies), p10Ms: percentile(latencies, 10), p50Ms: percentile(latencies, 50), p99Ms: percentile(latencies, 99), maxMs: Math.max(...latencies), reported: { count: reports.length, p50Ms: percentile(reports, 50), p99Ms: percentile(reports, 99), maxMs: Math.max(...reports) }, requests: expiryRequests, cpuS: {
      apiServer: round(cpuAtEnd.apiServer - cpuAtExpiry.apiServer, 2),
      operator: round(cpuAtEnd.operator - cpuAtExpiry.operator, 2),
      benchObserver: round(cpuAtEnd.observer - cpuAtExpiry.observer, 2),
    } };
    log(`expiry: ${expiring} enclaves expiring at ${expiresAt}: min ${expiry.minMs} ms, p10 ${expiry.p10Ms} ms, p50 ${expiry.p50Ms} ms, p99 ${expiry.p99Ms} ms, max ${expiry.maxMs} ms (${latencies.length} revoked); statuses reporting it: p50 ${expiry.reported.p50Ms} ms, p99 ${expiry.reported.p99Ms} ms, max ${expiry.reported.maxMs} ms (${reports.length} reported; requests until then ${JSON.stringify(expiryRequests)}; CPU s until then ${JSON.stringify(expiry.cpuS)})`);
    return { n, idle, expiry };
  } finally {
    await observer.stop();
    await op.kill('SIGTERM');
    await cluster.stop();
  }
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

// The image's bundle runs `sde-operator run` and `sde-operator render`, as a site runs them.
const BUNDLE = await buildOperator();

const results: Record<string, unknown> = {
  machine: {
    nproc: cpus().length,
    cpu: cpus()[0]?.model,
    memoryGB: round(totalmem() / 2 ** 30),
    node: process.version,
    date: new Date().toISOString(),
    // CPUs each side may use: the API server's (BENCH_CLUSTER_CPUS), and this process's, which the operator inherits.
    cpusAllowed: { apiServer: process.env.BENCH_CLUSTER_CPUS ?? 'all', benchAndOperator: /^Cpus_allowed_list:\s*(.+)$/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? 'unknown' },
  },
  method: {
    operator: `sde-operator run (the image's bundle, dist/sde-operator.mjs) as a child process (--concurrency ${CONCURRENCY}), devcluster in another child process; from the first Enclave create to every Enclave and Workspace Ready=True; requests from its /metrics (sde_api_requests_total), memory from /proc/<pid>/status (VmHWM, VmRSS)`,
    floor: `the same children rendered by constructs and server-side applied with applyAll through a KubeClient (${FLOOR_WORKERS} at once), no status writes; the same user creates the CRs; until every StatefulSet has a ready replica`,
    kubectl: 'kubectl apply --server-side of the CRs, kubectl get -o json for their uids, `sde-operator render --active` piped to kubectl apply --server-side; until every StatefulSet has a ready replica',
  },
};
const converge: Record<string, unknown>[] = [];
results.converge = converge;

const renderMs = renderCost(500);
results.render = { msPerEnclave: round(renderMs, 3), objects: 'enclave + 2 workspaces' };
log(`render: ${round(renderMs, 3)} ms per enclave (enclave + 2 workspaces)`);

for (const n of SIZES) {
  const floor = await floorRun(n);
  log(`floor    N=${n}: ${floor.ms} ms (${round(floor.ms / n, 2)} ms/enclave), ${floor.requestsPerEnclave} requests/enclave, CPU s: API server ${floor.cpu.apiServerS}, floor client + user + observer ${floor.cpu.clientS}`);
  const op = await operatorRun(n);
  log(`operator N=${n}: ${op.ms} ms (${round(op.ms / n, 2)} ms/enclave), ${op.requestsPerEnclave} requests/enclave ${JSON.stringify(op.requests)}, peak RSS ${op.peakRssMB} MB, RSS ${op.rssMB} MB, ${op.objectsManaged} objects managed, CPU s: API server ${op.cpu.apiServerS}, operator ${op.cpu.clientS}`);
  let kube: { n: number; ms: number } | undefined;
  if (SKIP.has('kubectl')) log('kubectl: skipped (BENCH_SKIP)');
  else if (n > KUBECTL_MAX) log(`kubectl: skipped at N=${n} (above BENCH_KUBECTL_MAX=${KUBECTL_MAX}; kubectl applies one object at a time)`);
  else if (!existsSync(KUBECTL)) log(`kubectl: skipped, ${KUBECTL} not found`);
  else {
    kube = await kubectlRun(n);
    log(`kubectl  N=${n}: ${kube.ms} ms (${round(kube.ms / n, 2)} ms/enclave)`);
  }
  const row = {
    n,
    workspaces: 2 * n,
    operatorMs: op.ms,
    floorMs: floor.ms,
    kubectlMs: kube?.ms ?? null,
    operatorOverFloor: round(op.ms / floor.ms, 2),
    operatorOverKubectl: kube ? round(op.ms / kube.ms, 2) : null,
    operatorMsPerEnclave: round(op.ms / n, 2),
    operatorRequestsPerEnclave: op.requestsPerEnclave,
    floorRequestsPerEnclave: floor.requestsPerEnclave,
    operatorRequests: op.requests,
    operatorPeakRssMB: op.peakRssMB,
    operatorRssMB: op.rssMB,
    objectsManaged: op.objectsManaged,
    cpuSeconds: { floor: floor.cpu, operator: op.cpu },
    // The API server runs on one Node thread, and the floor keeps that thread nearly always busy
    // (it is the floor's bottleneck). With the API server on a core of its own (BENCH_CLUSTER_CPUS),
    // this ratio is the extra work the operator asks of it (watches, status patches, Events). On
    // shared cores it also counts the slowdown the operator's own CPU causes the API server.
    apiServerCpuOperatorOverFloor: round(op.cpu.apiServerS / floor.cpu.apiServerS, 2),
  };
  converge.push(row);
  log(`ratios N=${n}: operator/floor ${row.operatorOverFloor}, operator/kubectl ${row.operatorOverKubectl ?? 'n/a'}, API server CPU operator/floor ${row.apiServerCpuOperatorOverFloor}`);
}

if (converge.length >= 2) {
  const first = converge[0] as { n: number; operatorMs: number; operatorRssMB: number; objectsManaged: number; operatorRequestsPerEnclave: number };
  const last = converge[converge.length - 1] as typeof first;
  results.scaling = {
    msPerEnclaveFirstToLast: [round(first.operatorMs / first.n, 2), round(last.operatorMs / last.n, 2)],
    requestsPerEnclaveFirstToLast: [first.operatorRequestsPerEnclave, last.operatorRequestsPerEnclave],
    rssGrowthMBPer1000Objects: round(((last.operatorRssMB - first.operatorRssMB) / Math.max(1, last.objectsManaged - first.objectsManaged)) * 1000, 1),
  };
}

if (!SKIP.has('idle')) {
  const idleN = Number(process.env.BENCH_IDLE_N ?? 200);
  const expiring = SKIP.has('expiry') ? 0 : Math.min(idleN, 200);
  results.idleAndExpiry = await idleAndExpiry(idleN, expiring, 5_000);
}

mkdirSync(new URL('bench/results/', ROOT), { recursive: true });
const out = new URL('bench/results/operator.json', ROOT);
const previous = existsSync(out) ? (JSON.parse(readFileSync(out, 'utf8')) as Record<string, unknown>) : {};
writeFileSync(out, `${JSON.stringify({ ...previous, ...results }, null, 2)}\n`);
log(`wrote ${out.pathname}`);
