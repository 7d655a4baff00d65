// The cluster a benchmark runs against, fresh for each run:
// - `devcluster`: this project's local Kubernetes in a process of its own;
// - `real`: Kubernetes 1.23's own control plane from ../shared/kubernetes (`up` in a new folder,
//   `down` after), sized for the fleet, with its audit log.
// The CRDs the server's release accepts are installed before the run.
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { installCustomResourceDefinitions } from '../../operator/crds.ts';
import { KubeClient } from '../../operator/runtime/index.ts';
import { controlPlaneAvailable, startControlPlane, stopControlPlane } from '../../scripts/control-plane.ts';
import { fleetNodes } from './fleet.ts';
import { processCpuSeconds, startClusterProcess } from './processes.ts';

export type ClusterKind = 'devcluster' | 'real';

/** A cluster a benchmark runs against. */
export interface BenchCluster {
  kind: ClusterKind;
  /** Which server it is, for the results: kind and the server's gitVersion. */
  server: string;
  kubeconfigPath: string;
  kubeConfig: KubeConfig;
  /** The API server's audit log, when there is one to read. */
  auditLog?: string;
  /** CPU seconds used so far by each process of the cluster this machine runs (kube-apiserver, etcd, ...). */
  cpuSeconds(): Record<string, number>;
  stop(): Promise<void>;
}

/** The clusters BENCH_CLUSTER names: a comma-separated list of devcluster (the default) and real. */
export function benchClusters(): ClusterKind[] {
  const named = (process.env.BENCH_CLUSTER ?? 'devcluster').split(',').filter(Boolean);
  for (const kind of named) {
    if (kind !== 'devcluster' && kind !== 'real') throw new Error(`BENCH_CLUSTER: expected devcluster or real (each contender gets a fresh cluster, which a cluster in KUBECONFIG cannot give); got ${JSON.stringify(kind)}`);
    if (kind === 'real' && !controlPlaneAvailable()) throw new Error('BENCH_CLUSTER=real: expected ../shared/kubernetes beside the repository (or SDE_SHARED_KUBERNETES)');
  }
  return named as ClusterKind[];
}

/** Pods per stand-in CPU node of the real control plane (64 CPUs, 256 Gi each). */
const PODS_PER_NODE = 550;

/** The stand-in nodes the real control plane needs for `pods` small workspaces (100m, 256 Mi). */
export function realNodes(pods: number): { cpuNodes: number; podsPerNode: number } {
  return { cpuNodes: Math.max(2, Math.ceil((pods * 1.1) / PODS_PER_NODE)), podsPerNode: PODS_PER_NODE };
}

/**
 * Starts a fresh cluster with room for `pods` workspace pods, CRDs installed. A real one's audit
 * log is kept as BENCH_KEEP_AUDIT/<label>.audit.log when that folder is named (for reading a run
 * again), else removed with the cluster.
 */
export async function startBenchCluster(kind: ClusterKind, pods: number, label = 'run'): Promise<BenchCluster> {
  let cluster: Omit<BenchCluster, 'server' | 'kubeConfig'>;
  if (kind === 'devcluster') {
    const child = await startClusterProcess({ nodes: fleetNodes(pods), historySize: 400_000 });
    const pid = child.child.pid!;
    cluster = { kind, kubeconfigPath: child.kubeconfigPath, cpuSeconds: () => ({ devcluster: processCpuSeconds(pid) }), stop: () => child.stop() };
  } else {
    const dir = mkdtempSync(join(tmpdir(), 'sde-bench-kube-'));
    const { cpuNodes, podsPerNode } = realNodes(pods);
    try {
      const plane = startControlPlane(dir, { SDE_KUBE_CPU: String(cpuNodes), SDE_KUBE_PODS: String(podsPerNode) });
      cluster = {
        kind,
        kubeconfigPath: plane.kubeconfig,
        auditLog: plane.auditLog,
        cpuSeconds: () => Object.fromEntries(Object.entries(plane.pids).map(([name, pid]) => [name, processCpuSeconds(pid)])),
        async stop() {
          const keep = process.env.BENCH_KEEP_AUDIT;
          if (keep) {
            mkdirSync(keep, { recursive: true });
            copyFileSync(plane.auditLog, join(keep, `${label}.audit.log`));
          }
          if (stopControlPlane(dir)) rmSync(dir, { recursive: true, force: true });
        },
      };
    } catch (error) {
      stopControlPlane(dir);
      throw error;
    }
  }
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(cluster.kubeconfigPath);
  const installer = new KubeClient(kubeConfig, { userAgent: 'sde-bench-installer' });
  const version = await installCustomResourceDefinitions(installer, 'sde-bench-installer');
  return { ...cluster, server: `${kind} ${version.gitVersion ?? ''}`.trim(), kubeConfig };
}

/** CPU seconds each process used between two readings of {@link BenchCluster.cpuSeconds}. */
export function cpuBetween(before: Record<string, number>, after: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.keys(after).map((name) => [name, Number(((after[name] ?? 0) - (before[name] ?? 0)).toFixed(2))]));
}
