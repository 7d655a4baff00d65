// Kubernetes 1.23's own control plane from ../shared/kubernetes beside this repository (see its
// README): started in a folder with `up`, stopped with `down`. The real-cluster test tier and the
// benchmarks on the real server start it through here.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

/** Where `up` and `down` are: SDE_SHARED_KUBERNETES, or ../shared/kubernetes beside the repository. */
export const SHARED_KUBERNETES = process.env.SDE_SHARED_KUBERNETES ?? join(root, '..', 'shared', 'kubernetes');

/** True when the shared control plane is there to start. */
export function controlPlaneAvailable(): boolean {
  return existsSync(join(SHARED_KUBERNETES, 'up'));
}

/** A control plane started in `dir`: its kubeconfig, its audit log, and the pid of each part. */
export interface ControlPlane {
  dir: string;
  kubeconfig: string;
  auditLog: string;
  /** Process ids by part: etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kubelet. */
  pids: Record<string, number>;
}

/**
 * kube-apiserver rotates its audit log at 100 MB unless told otherwise (its `--audit-log-maxsize`
 * of 0 is the log library's default of 100): a 1,000-enclave benchmark's log passes that, and
 * counting from a mark in the old file then read the new one (0 objects created, in one run).
 * 100 GB is never reached here.
 */
const AUDIT_LOG_FLAGS = '--audit-log-maxsize=102400';

/**
 * Runs `up dir` with `env` added (SDE_KUBE_CPU, SDE_KUBE_PODS, ...), the audit log never rotated
 * ({@link AUDIT_LOG_FLAGS}, before any SDE_KUBE_APISERVER_FLAGS given). Throws with `up`'s output
 * when it fails; stderr goes to this process's.
 */
export function startControlPlane(dir: string, env: Record<string, string> = {}): ControlPlane {
  const up = join(SHARED_KUBERNETES, 'up');
  const given = env.SDE_KUBE_APISERVER_FLAGS ?? process.env.SDE_KUBE_APISERVER_FLAGS ?? '';
  const started = spawnSync(up, [dir], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, ...env, SDE_KUBE_APISERVER_FLAGS: `${AUDIT_LOG_FLAGS} ${given}`.trim() } });
  const kubeconfig = /KUBECONFIG=(\S+)\s*$/.exec(started.stdout ?? '')?.[1];
  if (started.status !== 0 || kubeconfig === undefined) throw new Error(`${up} ${dir} failed (exit ${started.status}): ${started.stdout}`);
  const pids = Object.fromEntries(
    readFileSync(join(dir, 'pids'), 'utf8')
      .split('\n')
      .map((line) => line.trim().split(/\s+/))
      .filter((fields) => fields.length === 2)
      .map(([name, pid]) => [name!, Number(pid)]),
  );
  return { dir, kubeconfig, auditLog: join(dir, 'audit.log'), pids };
}

/** Runs `down dir`; false when it failed (it has said why on stderr). */
export function stopControlPlane(dir: string): boolean {
  const down = join(SHARED_KUBERNETES, 'down');
  const result = spawnSync(down, [dir], { stdio: ['ignore', 'ignore', 'inherit'] });
  if (result.status !== 0) console.error(`${down} ${dir} exited ${result.status}`);
  return result.status === 0;
}
