// Chaos drivers shared by the CI fault tests (small fleets) and `npm run chaos` (large ones).
import { KubeConfig } from '@kubernetes/client-node';
import type { KubernetesObject } from '@kubernetes/client-node';
import { startDevCluster } from '../../devcluster/index.ts';
import type { DevCluster, DevClusterOptions } from '../../devcluster/index.ts';
import { installCustomResourceDefinitions } from '../../operator/crds.ts';
import { findCondition, KubeClient, type Condition } from '../../operator/runtime/index.ts';
import { enclaveName, fleetEnclave, fleetNodes, fleetWorkspaces, isReady } from './fleet.ts';
import type { FleetOptions } from './fleet.ts';
import { limiter } from './limit.ts';
import { SiteObserver } from './observe.ts';
import { freePort, startOperatorProcess } from './processes.ts';
import type { OperatorProcess } from './processes.ts';

/** A seeded pseudo-random source (mulberry32), so a failing chaos run can be replayed from its seed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** An in-process devcluster sized for `n` enclaves with the CRDs installed, a user client and an observer. */
export async function chaosSite(n: number, options: DevClusterOptions = {}) {
  const cluster = await startDevCluster({ nodes: fleetNodes(2 * n), ...options });
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(cluster.kubeconfigPath);
  const user = new KubeClient(kubeConfig);
  await installCustomResourceDefinitions(user, 'chaos-installer');
  const observer = new SiteObserver(kubeConfig);
  await observer.start();
  return { cluster, kubeConfig, user, observer };
}

/**
 * Creates `n` enclaves and, once each namespace exists, its two workspaces, retrying requests the
 * API server refuses for a moment (chaos may be on); resolves when every create was accepted.
 */
export async function createFleet(user: KubeClient, observer: SiteObserver, n: number, prefix = 'chaos', members: FleetOptions['members'] = 'shared'): Promise<void> {
  const slot = limiter(8);
  const persist = async (object: KubernetesObject): Promise<void> => {
    for (let attempt = 0; ; attempt++) {
      try {
        await slot(() => user.apply(object, { fieldManager: 'chaos-user', force: true }));
        return;
      } catch (error) {
        if (attempt >= 50) throw error;
        await new Promise((r) => setTimeout(r, 100 + 50 * attempt));
      }
    }
  };
  await Promise.all(Array.from({ length: n }, async (_, i) => {
    await persist(fleetEnclave(i, { prefix, members }));
    await observer.whenExists('Namespace', `sde-${enclaveName(i, prefix)}`);
    for (const ws of fleetWorkspaces(i, { prefix, members })) await persist(ws);
  }));
}

/** Live counts of Ready enclaves and workspaces. */
export function readiness(observer: SiteObserver) {
  const enclaves = observer.tally('Enclave', isReady);
  const workspaces = observer.tally('Workspace', isReady);
  return {
    enclaves,
    workspaces,
    all: (n: number) => enclaves.count === n && workspaces.count === 2 * n,
    /** Enclaves and workspaces not Ready, each with its Ready condition's reason and message: what a failed converge names. */
    notReady(): string[] {
      return (['Enclave', 'Workspace'] as const).flatMap((kind) =>
        observer.list(kind).filter((o) => !isReady(o)).map((o) => {
          const condition = findCondition((o as { status?: { conditions?: Condition[] } }).status?.conditions, 'Ready');
          return `${kind} ${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}: ${condition ? `${condition.reason}: ${condition.message}` : 'no Ready condition'}`;
        }),
      );
    },
    close() {
      enclaves.close();
      workspaces.close();
    },
  };
}

/** What a kill-and-restart run went through. */
export interface KillRun {
  kills: number;
  /** Ready enclaves at each kill. */
  readyAtKill: number[];
  /** Milliseconds from the first create to all Ready. */
  convergeMs: number;
  /** Whether every enclave and workspace became Ready. */
  converged: boolean;
}

/**
 * Converges `n` enclaves while SIGKILLing the `sde-operator run` process `kills` times at random
 * moments (50..`maxDelayMs` ms after it became ready), restarting it each time.
 */
export async function convergeUnderKills(cluster: DevCluster, user: KubeClient, observer: SiteObserver, options: { n: number; kills: number; random: () => number; maxDelayMs: number; timeoutMs: number; prefix?: string }): Promise<KillRun> {
  const ready = readiness(observer);
  const readyAtKill: number[] = [];
  let operator: OperatorProcess = await startOperatorProcess(cluster.kubeconfigPath, await freePort(), ['--log-level', 'error']);
  const start = performance.now();
  const creating = createFleet(user, observer, options.n, options.prefix);
  try {
    for (let k = 0; k < options.kills; k++) {
      await operator.started;
      await new Promise((r) => setTimeout(r, 50 + options.random() * options.maxDelayMs));
      readyAtKill.push(ready.enclaves.count);
      await operator.kill('SIGKILL');
      operator = await startOperatorProcess(cluster.kubeconfigPath, await freePort(), ['--log-level', 'error']);
    }
    await creating;
    const converged = await observer.until(() => ready.all(options.n), options.timeoutMs);
    return { kills: options.kills, readyAtKill, convergeMs: Math.round(performance.now() - start), converged };
  } finally {
    ready.close();
    await operator.kill('SIGKILL');
  }
}
