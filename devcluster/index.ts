// The devcluster: an in-memory Kubernetes API server on loopback, with (by default) a simulated
// trust site behind it. Not a production API server: for development, the demo and tests.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { ApiServer } from './apiserver/server.ts';
import { FaultInjector } from './apiserver/faults.ts';
import type { TokenIdentity } from './auth/identity.ts';
import { createStore } from './create-store.ts';
import type { CustomResourceRegistry } from './crd/registry.ts';
import { startSimulation } from './sim/index.ts';
import type { NodeSpec, Simulation } from './sim/index.ts';
import type { ScoringStrategy } from './sim/predicates.ts';
import { DEFAULT_EVENT_TTL_MS, EventExpiry } from './store/event-expiry.ts';
import { FilePersistence } from './store/persistence.ts';
import type { ClusterStore } from './store/cluster-store.ts';

export { FaultInjector } from './apiserver/faults.ts';
export type { RequestFaults } from './apiserver/faults.ts';
export type { TokenIdentity } from './auth/identity.ts';
export { readTokenFile } from './auth/identity.ts';
export { ClusterStore } from './store/cluster-store.ts';
export { BUILTINS } from './store/builtins.ts';
export { ApiError } from './store/errors.ts';
export type { KubeObject, ResourceType, StoreEvent } from './store/types.ts';

/** How to start a devcluster. */
export interface DevClusterOptions {
  /** Port on 127.0.0.1; 0 or absent picks a free one. */
  port?: number;
  /** Where to write the kubeconfig; absent: a temporary file removed on stop. */
  kubeconfigPath?: string;
  /** Nodes of the simulated cluster (default: two DGX A100 and two CPU nodes). */
  nodes?: NodeSpec[];
  /** Persist objects to this JSON file and reload them on start. */
  dataFile?: string;
  /** Run the simulated nodes, scheduler, kubelet and controllers (default true). */
  simulate?: boolean;
  /** How long simulated Job pods run before succeeding (ms). */
  jobRunMillis?: number;
  /** How the simulated scheduler scores nodes: spread (LeastAllocated, the default) or bin-pack (MostAllocated). */
  scoring?: ScoringStrategy;
  /** Whether the simulated components record Events (Scheduled, SuccessfulCreate...; default true). */
  events?: boolean;
  /** Bearer tokens; when set, requests must authenticate and RBAC decides. */
  tokens?: TokenIdentity[];
  /** The token the written kubeconfig uses (default: the first token in group system:masters). */
  kubeconfigToken?: string;
  /** Watch history kept for resuming watches (default 50,000 changes). */
  historySize?: number;
  /** Interval between bookmarks on watches that allow them; default none but one 2 s before a watch's timeout, as kube-apiserver 1.23. */
  bookmarkIntervalMs?: number;
  /** Events are deleted this long after their last write, as with the real server's --event-ttl (default 1 h). */
  eventTtlMs?: number;
  /** Append one audit record per request to this file, in kube-apiserver's JSON shape (level Metadata). */
  auditLog?: string;
}

/** A running devcluster. */
export interface DevCluster {
  /** `http://127.0.0.1:<port>`. */
  url: string;
  port: number;
  kubeconfigPath: string;
  store: ClusterStore;
  crds: CustomResourceRegistry;
  faults: FaultInjector;
  /** Present when the simulated cluster runs. */
  simulation?: Simulation;
  /** Stops the simulation and server, saves the data file, and removes a temporary kubeconfig. */
  stop(): Promise<void>;
}

/** A kubeconfig both kubectl and @kubernetes/client-node accept for a plain-HTTP loopback server. */
export function kubeconfigFor(url: string, token?: string): string {
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'devcluster', cluster: { server: url, 'insecure-skip-tls-verify': true } }],
    users: [{ name: 'devcluster-admin', user: token ? { token } : {} }],
    contexts: [{ name: 'devcluster', context: { cluster: 'devcluster', user: 'devcluster-admin', namespace: 'default' } }],
    'current-context': 'devcluster',
    preferences: {},
  });
}

/** Starts the store, (optionally) the simulation, and the HTTP server; resolves once it serves. */
export async function startDevCluster(opts: DevClusterOptions = {}): Promise<DevCluster> {
  const storeOpts: Parameters<typeof createStore>[0] = {};
  if (opts.historySize !== undefined) storeOpts.historySize = opts.historySize;
  const { store, crds, semanticsFor } = createStore(storeOpts);
  if (opts.dataFile) FilePersistence.load(store, opts.dataFile);
  const persistence = opts.dataFile ? new FilePersistence(store, opts.dataFile) : undefined;
  const faults = new FaultInjector(store);
  const eventExpiry = new EventExpiry(store, opts.eventTtlMs ?? DEFAULT_EVENT_TTL_MS);
  let simulation: Simulation | undefined;
  if (opts.simulate !== false) {
    const simOpts: Parameters<typeof startSimulation>[1] = {};
    if (opts.nodes) simOpts.nodes = opts.nodes;
    if (opts.jobRunMillis !== undefined) simOpts.jobRunMillis = opts.jobRunMillis;
    if (opts.scoring !== undefined) simOpts.scoring = opts.scoring;
    if (opts.events !== undefined) simOpts.events = opts.events;
    simulation = startSimulation(store, simOpts);
  }
  const serverOpts: ConstructorParameters<typeof ApiServer>[4] = {};
  if (opts.port !== undefined) serverOpts.port = opts.port;
  if (opts.tokens) serverOpts.tokens = opts.tokens;
  if (opts.bookmarkIntervalMs !== undefined) serverOpts.bookmarkIntervalMs = opts.bookmarkIntervalMs;
  if (opts.auditLog !== undefined) serverOpts.auditLog = opts.auditLog;
  const server = new ApiServer(store, crds, semanticsFor, faults, serverOpts);
  let url: string;
  try {
    url = await server.listen();
  } catch (err) {
    await simulation?.stop();
    eventExpiry.stop();
    persistence?.close();
    throw err;
  }
  const tempDir = opts.kubeconfigPath ? undefined : mkdtempSync(join(tmpdir(), 'devcluster-'));
  const kubeconfigPath = opts.kubeconfigPath ?? join(tempDir ?? '', 'kubeconfig');
  const token = opts.kubeconfigToken ?? opts.tokens?.find((t) => t.groups?.includes('system:masters'))?.token;
  writeFileSync(kubeconfigPath, kubeconfigFor(url, token), { mode: 0o600 });
  let stopped = false;
  const cluster: DevCluster = {
    url,
    port: Number(new URL(url).port),
    kubeconfigPath,
    store,
    crds,
    faults,
    async stop() {
      if (stopped) return;
      stopped = true;
      await simulation?.stop();
      await server.close();
      eventExpiry.stop();
      persistence?.close();
      if (tempDir) rmSync(tempDir, { recursive: true, force: true });
    },
  };
  if (simulation) cluster.simulation = simulation;
  return cluster;
}
