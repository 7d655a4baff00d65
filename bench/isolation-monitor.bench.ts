// `npm run bench isolation-monitor`: what the isolation monitor costs (issue 19). For each fleet
// size (BENCH_ISOLATION_SIZES, default 50,200; enclaves with members of their own and one small
// workspace each), on the cluster in KUBECONFIG when set (a real one: `../shared/kubernetes/up`)
// or else a devcluster process, with `sde-operator run` as a site runs it:
// - steady state: the operator's reads and writes per minute over BENCH_ISOLATION_IDLE_S (default
//   60), from its request counters, once every enclave reports NetworkIsolated and AccessIsolated
//   True and every workspace is Ready;
// - a full re-evaluation of every enclave's access: a ClusterRoleBinding granting every signed-in
//   user Secrets is created, and every enclave's access is judged again (what RBAC could grant is
//   asked by SubjectAccessReview) until each reports AccessIsolated False; then it is deleted and
//   each is True again. Operator CPU seconds (from /proc), reviews asked, and time;
// - a full re-evaluation of every enclave's network: a foreign egress NetworkPolicy in each
//   namespace, until each reports NetworkIsolated False; then deleted.
// Results: bench/results/isolation-monitor.json.
import { mkdirSync, writeFileSync } from 'node:fs';
import { KubeConfig } from '@kubernetes/client-node';
import type { KubernetesObject } from '@kubernetes/client-node';
import { enclaveName, fleetEnclave, fleetNodes, fleetWorkspaces, ROOT } from './lib/fleet.ts';
import { limiter } from './lib/limit.ts';
import { buildOperator, freePort, processCpuSeconds, processMemoryMB, scrapeRequests, startClusterProcess, startOperatorProcess } from './lib/processes.ts';
import type { ClusterProcess } from './lib/processes.ts';
import { allCustomResourceDefinitions } from '../api/crd.ts';
import { atLeast, parseKubernetesVersion } from '../api/kubernetes-version.ts';
import { KubeClient, Kinds } from '../operator/runtime/index.ts';
import { SdeKinds } from '../operator/kinds.ts';

const SIZES = (process.env.BENCH_ISOLATION_SIZES ?? '50,200').split(',').filter(Boolean).map(Number);
const IDLE_S = Number(process.env.BENCH_ISOLATION_IDLE_S ?? 60);
const RBAC = 'rbac.authorization.k8s.io/v1';
const PREFIX = 'isomon';

type Condition = { type: string; status: string };
const conditionOf = (o: KubernetesObject, type: string): string | undefined => ((o as { status?: { conditions?: Condition[] } }).status?.conditions ?? []).find((c) => c.type === type)?.status;

interface Run {
  server: string;
  enclaves: number;
  workspaces: number;
  convergeS: number;
  idle: { seconds: number; readsPerMinute: number; writes: number; reviews: number };
  access: { cpuS: number; reviews: number; breachedS: number; restoredCpuS: number; restoredReviews: number; restoredS: number };
  network: { cpuS: number; breachedS: number; restoredCpuS: number; restoredS: number };
  peakRssMB: number;
}

async function waitAll(user: KubeClient, n: number, what: string, test: (o: KubernetesObject) => boolean, timeoutMs = 600_000): Promise<number> {
  const start = Date.now();
  let said = start;
  for (;;) {
    const items = (await user.list(SdeKinds.Enclave)).items.filter((o) => o.metadata?.name?.startsWith(`${PREFIX}-`));
    if (items.length === n && items.every(test)) return (Date.now() - start) / 1000;
    if (Date.now() - said > 10_000) {
      said = Date.now();
      console.error(`waiting for ${what}: ${items.filter(test).length} of ${n}`);
    }
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}: ${items.filter(test).length} of ${n}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

async function run(n: number): Promise<Run> {
  const external = process.env.KUBECONFIG;
  let cluster: ClusterProcess | undefined;
  const kubeconfigPath = external ?? (cluster = await startClusterProcess({ nodes: fleetNodes(n), historySize: 400_000 })).kubeconfigPath;
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(kubeconfigPath);
  const user = new KubeClient(kubeConfig, { userAgent: 'sde-bench' });
  const version = await user.serverVersion();
  const server = `${external ? 'KUBECONFIG' : 'devcluster'} ${version.gitVersion ?? ''}`;
  // The CRDs this server accepts (without the fields it does not know).
  const release = parseKubernetesVersion(version);
  for (const { crd } of allCustomResourceDefinitions(atLeast(release, 1, 28) ? {} : { kubernetesVersion: release })) await user.apply(crd as KubernetesObject, { fieldManager: 'sde-bench', force: true });
  await new Promise((resolve) => setTimeout(resolve, 2_000));
  const port = await freePort();
  const operator = await startOperatorProcess(kubeconfigPath, port);
  await operator.started;
  const limit = limiter(8);
  const apply = (o: KubernetesObject): Promise<KubernetesObject> => limit(() => user.apply(o, { fieldManager: 'sde-bench', force: true }));
  try {
    const start = Date.now();
    await Promise.all(Array.from({ length: n }, (_, i) => apply(fleetEnclave(i, { prefix: PREFIX, members: 'own' }))));
    // Workspaces once their namespaces exist: an enclave is NetworkIsolated once its namespace and policies are.
    await waitAll(user, n, 'namespaces', (o) => conditionOf(o, 'NetworkIsolated') === 'True');
    await Promise.all(Array.from({ length: n }, (_, i) => limit(() => user.apply(workspace(i), { fieldManager: 'sde-bench', force: true }))));
    await waitWorkspacesReady(user, n);
    await waitAll(user, n, 'isolation verified', (o) => conditionOf(o, 'NetworkIsolated') === 'True' && conditionOf(o, 'AccessIsolated') === 'True');
    const convergeS = (Date.now() - start) / 1000;

    // Steady state.
    await new Promise((resolve) => setTimeout(resolve, 5_000));
    const before = await scrapeRequests(port);
    await new Promise((resolve) => setTimeout(resolve, IDLE_S * 1000));
    const after = await scrapeRequests(port);
    const delta = (verbs: string[]): number => verbs.reduce((sum, v) => sum + (after[v] ?? 0) - (before[v] ?? 0), 0);
    const idle = { seconds: IDLE_S, readsPerMinute: (delta(['get', 'list', 'watch']) * 60) / IDLE_S, writes: delta(['apply', 'patch', 'patchStatus', 'create', 'update', 'delete', 'deletecollection']), reviews: delta(['review']) };

    // Access: every enclave judged again.
    const role = { apiVersion: RBAC, kind: 'ClusterRole', metadata: { name: `${PREFIX}-secrets` }, rules: [{ apiGroups: [''], resources: ['secrets'], verbs: ['get'] }] } as KubernetesObject;
    const binding = { apiVersion: RBAC, kind: 'ClusterRoleBinding', metadata: { name: `${PREFIX}-secrets` }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: `${PREFIX}-secrets` }, subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: 'system:authenticated' }] } as KubernetesObject;
    await user.apply(role, { fieldManager: 'sde-bench', force: true });
    let cpu = processCpuSeconds(operator.pid);
    let reviews = (await scrapeRequests(port)).review ?? 0;
    await user.apply(binding, { fieldManager: 'sde-bench', force: true });
    const breachedS = await waitAll(user, n, 'AccessIsolated False', (o) => conditionOf(o, 'AccessIsolated') === 'False');
    const access = { cpuS: processCpuSeconds(operator.pid) - cpu, reviews: ((await scrapeRequests(port)).review ?? 0) - reviews, breachedS, restoredCpuS: 0, restoredReviews: 0, restoredS: 0 };
    cpu = processCpuSeconds(operator.pid);
    reviews = (await scrapeRequests(port)).review ?? 0;
    await user.delete(binding);
    access.restoredS = await waitAll(user, n, 'AccessIsolated True', (o) => conditionOf(o, 'AccessIsolated') === 'True');
    access.restoredCpuS = processCpuSeconds(operator.pid) - cpu;
    access.restoredReviews = ((await scrapeRequests(port)).review ?? 0) - reviews;
    await user.delete(role);

    // Network: a foreign egress policy in every namespace.
    const policy = (i: number): KubernetesObject => ({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'open-egress', namespace: `sde-${enclaveName(i, PREFIX)}` }, spec: { podSelector: {}, policyTypes: ['Egress'], egress: [{}] } } as KubernetesObject);
    cpu = processCpuSeconds(operator.pid);
    let begin = Date.now();
    await Promise.all(Array.from({ length: n }, (_, i) => apply(policy(i))));
    await waitAll(user, n, 'NetworkIsolated False', (o) => conditionOf(o, 'NetworkIsolated') === 'False');
    const network = { cpuS: processCpuSeconds(operator.pid) - cpu, breachedS: (Date.now() - begin) / 1000, restoredCpuS: 0, restoredS: 0 };
    cpu = processCpuSeconds(operator.pid);
    begin = Date.now();
    await Promise.all(Array.from({ length: n }, (_, i) => limit(() => user.delete(policy(i)))));
    await waitAll(user, n, 'NetworkIsolated True', (o) => conditionOf(o, 'NetworkIsolated') === 'True');
    network.restoredCpuS = processCpuSeconds(operator.pid) - cpu;
    network.restoredS = (Date.now() - begin) / 1000;
    const peakRssMB = processMemoryMB(operator.pid).peakMB;
    return { server, enclaves: n, workspaces: n, convergeS, idle, access, network, peakRssMB };
  } finally {
    await operator.kill('SIGTERM');
    // A real cluster keeps running: the fleet goes (namespaces with it).
    if (external) await Promise.all(Array.from({ length: n }, (_, i) => limit(() => user.delete({ apiVersion: SdeKinds.Enclave.apiVersion, kind: 'Enclave', metadata: { name: enclaveName(i, PREFIX) } }))));
    await cluster?.stop();
  }
}

console.error('building the bundle');
await buildOperator();
const runs: Run[] = [];
for (const n of SIZES) {
  if (process.env.KUBECONFIG) {
    // A fleet left by an earlier run terminates before the next one starts.
    const user = new KubeClient((() => { const k = new KubeConfig(); k.loadFromFile(process.env.KUBECONFIG!); return k; })(), { userAgent: 'sde-bench' });
    await waitGone(user);
  }
  const r = await run(n);
  runs.push(r);
  console.log(JSON.stringify(r));
}
console.log('\n| enclaves (workspaces) | server | idle reads/min | idle writes | access re-judged: operator CPU s, reviews, s | restored: CPU s, reviews, s | network re-judged: CPU s, s | restored: CPU s, s | peak RSS MB |');
console.log('|---|---|---|---|---|---|---|---|---|');
for (const r of runs) {
  console.log(`| ${r.enclaves} (${r.workspaces}) | ${r.server} | ${r.idle.readsPerMinute.toFixed(1)} | ${r.idle.writes} | ${r.access.cpuS.toFixed(2)}, ${r.access.reviews}, ${r.access.breachedS.toFixed(1)} | ${r.access.restoredCpuS.toFixed(2)}, ${r.access.restoredReviews}, ${r.access.restoredS.toFixed(1)} | ${r.network.cpuS.toFixed(2)}, ${r.network.breachedS.toFixed(1)} | ${r.network.restoredCpuS.toFixed(2)}, ${r.network.restoredS.toFixed(1)} | ${r.peakRssMB.toFixed(0)} |`);
}
mkdirSync(new URL('bench/results/', ROOT), { recursive: true });
writeFileSync(new URL('bench/results/isolation-monitor.json', ROOT), `${JSON.stringify({ at: new Date().toISOString(), runs }, null, 2)}\n`);

async function waitGone(user: KubeClient): Promise<void> {
  for (;;) {
    const left = (await user.list(Kinds.Namespace)).items.filter((o) => o.metadata?.name?.startsWith(`sde-${PREFIX}-`));
    if (left.length === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 1_000));
  }
}

/** The i-th enclave's RStudio workspace, small: one per enclave fits the real control plane's two CPU nodes (110 pods each) at 200 enclaves. */
function workspace(i: number): KubernetesObject {
  return fleetWorkspaces(i, { prefix: PREFIX, members: 'own', workspaceSize: 'small' })[0]!;
}

async function waitWorkspacesReady(user: KubeClient, count: number): Promise<void> {
  const start = Date.now();
  for (;;) {
    const ready = (await user.list(SdeKinds.Workspace)).items.filter((o) => o.metadata?.namespace?.startsWith(`sde-${PREFIX}-`) && conditionOf(o, 'Ready') === 'True');
    if (ready.length >= count) return;
    if (Date.now() - start > 600_000) throw new Error(`timed out waiting for workspaces Ready: ${ready.length} of ${count}`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}
