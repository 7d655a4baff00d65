// Child processes for benchmarks and chaos runs: a devcluster, an `sde-operator run`; started,
// sampled (/proc) and killed by pid.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { createInterface } from 'node:readline';
import { KubeConfig } from '@kubernetes/client-node';
import type { DevClusterOptions } from '../../devcluster/index.ts';
import { ROOT } from './fleet.ts';
import { runtimeEnv, runtimeNodeFlags } from '../../constructs/install/operator.ts';
import { parseInstallOptions } from '../../constructs/install/options.ts';
import { BUNDLE, buildBundle } from '../../scripts/build.ts';
import { KubeClient } from '../../operator/runtime/index.ts';

const NODE = new URL('node_modules/.bin/node', ROOT).pathname;

let bundle: { outfile: string; built: Promise<string> } | undefined;

/**
 * Builds the bundle the image runs (`npm run build`), once per process, to `outfile` (default
 * dist/sde-operator.mjs; tests running side by side give each their own). {@link startOperatorProcess}
 * runs what this built, so a benchmark never measures a stale bundle.
 */
export function buildOperator(outfile: string = BUNDLE): Promise<string> {
  bundle ??= { outfile, built: buildBundle(outfile) };
  if (bundle.outfile !== outfile) throw new Error(`expected one bundle per process; it was built to ${bundle.outfile}, not ${outfile}`);
  return bundle.built;
}

/** A devcluster running in a child process. */
export interface ClusterProcess {
  url: string;
  kubeconfigPath: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/**
 * Starts `bench/lib/devcluster-worker.ts` with `options` (and BENCH_CLUSTER_NODE_FLAGS, e.g.
 * `--cpu-prof`); resolves once it serves. BENCH_CLUSTER_CPUS (a `taskset` CPU list, Linux only)
 * keeps the API server on those CPUs, e.g. `BENCH_CLUSTER_CPUS=0 taskset -c 1 npm run bench` gives
 * it a core of its own and everything else the other.
 */
export async function startClusterProcess(options: DevClusterOptions): Promise<ClusterProcess> {
  const execArgv = (process.env.BENCH_CLUSTER_NODE_FLAGS ?? '').split(' ').filter(Boolean);
  const command = [NODE, ...execArgv, new URL('bench/lib/devcluster-worker.ts', ROOT).pathname, JSON.stringify(options)];
  const cpus = process.env.BENCH_CLUSTER_CPUS;
  // taskset execs the command, so the child's pid stays the API server's (CPU time is read by pid).
  const [file, ...args] = cpus ? ['taskset', '-c', cpus, ...command] : command;
  const child = spawn(file!, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout! });
  const first = await new Promise<string>((resolve, reject) => {
    lines.once('line', resolve);
    child.once('exit', (code) => reject(new Error(`expected the devcluster worker to print its address; it exited with ${code}`)));
  });
  const { url, kubeconfigPath } = JSON.parse(first) as { url: string; kubeconfigPath: string };
  return {
    url,
    kubeconfigPath,
    child,
    async stop() {
      child.kill('SIGTERM');
      await exited(child);
    },
  };
}

/** An `sde-operator run` process. */
export interface OperatorProcess {
  child: ChildProcess;
  pid: number;
  /** Resolves with the health/metrics port once /readyz answers 200. */
  started: Promise<number>;
  /** Log lines (JSON) seen so far. */
  logs: Record<string, unknown>[];
  kill(signal?: NodeJS.Signals): Promise<void>;
}

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * Starts `sde-operator run` for the UCLH example site against `kubeconfigPath` on `port`;
 * `started` resolves once its /readyz answers 200 (caches synced). It runs as a site runs it: the
 * image's bundle (from {@link buildOperator}) with the Deployment's node flags, NODE_OPTIONS and
 * MALLOC_ARENA_MAX (constructs/install).
 */
export async function startOperatorProcess(kubeconfigPath: string, port: number, extraArgs: string[] = []): Promise<OperatorProcess> {
  if (bundle === undefined) throw new Error('expected buildOperator() to have been called first');
  // The operator's namespace, where it keeps the data use register, exists as in an installation;
  // created by a client of its own, so the operator's request counts stay its own.
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(kubeconfigPath);
  const { namespace } = parseInstallOptions();
  await new KubeClient(kubeConfig, { userAgent: 'sde-bench' }).apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } }, { fieldManager: 'sde-bench', force: true });
  // Side-by-side replicas and runs each get a free port for the register.
  const args = [await bundle.built, 'run', '--site', 'uclh', '--site-config', new URL('examples/site-uclh.yaml', ROOT).pathname, '--kubeconfig', kubeconfigPath, '--port', String(port), '--namespace', namespace, '--register-port', '0', ...extraArgs];
  // The node flags and environment the Deployment gives the operator, so figures match production;
  // BENCH_OPERATOR_NODE_FLAGS adds flags for an experiment (e.g. `--cpu-prof`).
  const { heap } = parseInstallOptions();
  const env = { ...process.env, ...runtimeEnv(heap) };
  const execArgv = [...runtimeNodeFlags(heap), ...(process.env.BENCH_OPERATOR_NODE_FLAGS ?? '').split(' ').filter(Boolean)];
  const child = spawn(NODE, [...execArgv, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env });
  const logs: Record<string, unknown>[] = [];
  const started = new Promise<number>((resolve, reject) => {
    child.once('exit', (code, signal) => reject(new Error(`operator exited (${code ?? signal}) before it was ready`)));
    const probe = (): void => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      fetch(`http://127.0.0.1:${port}/readyz`)
        .then((r) => (r.status === 200 ? resolve(port) : setTimeout(probe, 50)))
        .catch(() => setTimeout(probe, 50));
    };
    probe();
  });
  started.catch(() => undefined);
  for (const stream of [child.stdout!, child.stderr!]) {
    createInterface({ input: stream }).on('line', (line) => {
      try {
        const entry = JSON.parse(line) as Record<string, unknown>;
        logs.push(entry);
      } catch {
        logs.push({ msg: line });
      }
    });
  }
  return {
    child,
    pid: child.pid ?? -1,
    started,
    logs,
    async kill(signal: NodeJS.Signals = 'SIGKILL') {
      child.kill(signal);
      await exited(child);
    },
  };
}

/** Peak and current resident memory of a live process in MB, from /proc/<pid>/status (VmHWM, VmRSS). */
export function processMemoryMB(pid: number): { peakMB: number; rssMB: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0);
  return { peakMB: kb('VmHWM') / 1024, rssMB: kb('VmRSS') / 1024 };
}

/** CPU time (user + system) a live process has used so far, in seconds, from /proc/<pid>/stat. */
export function processCpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces) start at state; utime and stime are the 12th and 13th of those.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** CPU time (user + system) of this process's children that have exited and been waited for, in seconds (`kubectl` runs, for example). */
export function childrenCpuSeconds(): number {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[13]) + Number(fields[14])) / 100;
}

/** `sde_api_requests_total` from an operator's /metrics, summed by verb. */
export async function scrapeRequests(port: number): Promise<Record<string, number>> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const byVerb: Record<string, number> = {};
  for (const match of text.matchAll(/^sde_api_requests_total\{([^}]*)\} (\d+(?:\.\d+)?)/gm)) {
    const verb = /verb="([^"]+)"/.exec(match[1] ?? '')?.[1] ?? 'unknown';
    byVerb[verb] = (byVerb[verb] ?? 0) + Number(match[2]);
  }
  return byVerb;
}

/** Where an operator's memory is, from its /metrics (Node's own gauges), in MB: V8's heap committed and live, and memory outside it (buffers). */
export async function scrapeHeap(port: number): Promise<{ heapTotalMB: number; heapUsedMB: number; externalMB: number }> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const gauge = (name: string): number => Math.round((Number(new RegExp(`^${name} (\\S+)`, 'm').exec(text)?.[1] ?? Number.NaN) / 2 ** 20) * 10) / 10;
  return { heapTotalMB: gauge('nodejs_heap_size_total_bytes'), heapUsedMB: gauge('nodejs_heap_size_used_bytes'), externalMB: gauge('nodejs_external_memory_bytes') };
}
