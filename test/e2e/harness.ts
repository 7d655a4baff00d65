// What the end-to-end suite needs of a real cluster: the cluster in KUBECONFIG, the CRDs its
// release accepts, the operator as the `sde-operator run` process a site runs, and the API
// server's audit log (SDE_AUDIT_LOG, set by `npm run test:real`) to count the operator's requests.
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig, type KubernetesObject } from '@kubernetes/client-node';
import { parseKubernetesVersion, type KubernetesVersion } from '../../api/kubernetes-version.ts';
import { API_VERSION } from '../../api/meta.ts';
import { installCustomResourceDefinitions } from '../../operator/crds.ts';
import { SdeKinds } from '../../operator/kinds.ts';
import { KubeClient, Kinds, type ResourceType } from '../../operator/runtime/index.ts';
import { USER_AGENT } from '../../operator/identity.ts';
import { auditMark as readMark, clientOf, isWrite, requestsSince } from '../../bench/lib/audit.ts';

export const kubeconfigPath = process.env.KUBECONFIG;
export const auditLogPath = process.env.SDE_AUDIT_LOG !== undefined && existsSync(process.env.SDE_AUDIT_LOG) ? process.env.SDE_AUDIT_LOG : undefined;
if (!kubeconfigPath) console.warn('test:e2e skipped: set KUBECONFIG to a cluster (`npm run test:real` starts ../shared/kubernetes) to run the end-to-end suite');

const root = new URL('../../', import.meta.url).pathname;
export const SDE = API_VERSION;

/** A live object as the suite reads it. */
export type Live = KubernetesObject & {
  spec?: Record<string, unknown>;
  status?: { phase?: string; conditions?: Array<{ type: string; status: string; reason: string; message: string }>; [key: string]: unknown };
};

/** A client for the cluster in KUBECONFIG, named in the audit log as the suite, not the operator. */
export function connect(kubeconfig: string = kubeconfigPath as string): { client: KubeClient; kubeConfig: KubeConfig } {
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(kubeconfig);
  return { client: new KubeClient(kubeConfig, { userAgent: 'sde-e2e' }), kubeConfig };
}

/** Every kind the suite reads: the API's and the built-in ones. */
export const K = { ...Kinds, ...SdeKinds };

/** Reads one object (raw JSON), or undefined when it does not exist. */
export async function read(client: KubeClient, type: ResourceType, name: string, namespace?: string): Promise<Live | undefined> {
  return (await client.get(type, name, namespace)) as Live | undefined;
}

/** Every object of a kind, in `namespace` or cluster-wide (raw JSON). */
export async function list(client: KubeClient, type: ResourceType, namespace?: string): Promise<Live[]> {
  return (await client.list(type, namespace !== undefined ? { namespace } : {})).items as Live[];
}

/** True when the object reports `Ready=True`. */
export function isReady(object: Live | undefined): boolean {
  return object?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

/** Polls `probe` until it yields a value (not undefined or false); throws naming `what` after `timeoutMs`. */
export async function until<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 120_000, intervalMs = 250): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      lastError = error;
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError ? ` (last error: ${String(lastError)})` : ''}`);
}

/** The server's release. */
export async function serverVersion(client: KubeClient): Promise<KubernetesVersion> {
  return parseKubernetesVersion(await client.serverVersion());
}

/** Installs the CRDs this server's release accepts and waits until each is Established (operator/crds.ts). */
export async function installCrds(client: KubeClient): Promise<void> {
  await installCustomResourceDefinitions(client, 'sde-e2e');
}

// Where the operators' logs go, to read after a failure: beside the control plane's own logs.
const logDir = process.env.SDE_KUBE_DIR ?? mkdtempSync(join(tmpdir(), 'sde-e2e-logs-'));
let started = 0;

/** The operator's own namespace: its leader Lease and the data use register's records live there. */
export const OPERATOR_NAMESPACE = 'sde-system';

/** An `sde-operator run` process for site uclh (examples/site-uclh.yaml), its log lines kept (and written to `logFile`). */
export class OperatorProcess {
  readonly child: ChildProcess;
  readonly lines: Array<Record<string, unknown>> = [];
  readonly exited: Promise<number | null>;
  readonly logFile = join(logDir, `sde-operator-${process.pid}-${++started}.log`);
  #stderr = '';

  private constructor(child: ChildProcess) {
    this.child = child;
    let partial = '';
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      appendFileSync(this.logFile, chunk);
      const parts = (partial + chunk).split('\n');
      partial = parts.pop() ?? '';
      for (const line of parts) {
        try {
          this.lines.push(JSON.parse(line) as Record<string, unknown>);
        } catch {
          this.lines.push({ msg: line });
        }
      }
    });
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      appendFileSync(this.logFile, chunk);
      this.#stderr += chunk;
    });
    this.exited = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
  }

  /**
   * Starts `sde-operator run --site uclh` against KUBECONFIG (or `kubeconfig`) with `extra` flags
   * (free ports for metrics and the register, which it keeps in OPERATOR_NAMESPACE, created first
   * as an installation has it), and waits until it says it started.
   */
  static async start(extra: readonly string[] = [], kubeconfig: string = kubeconfigPath as string): Promise<OperatorProcess> {
    await connect(kubeconfig).client.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: OPERATOR_NAMESPACE } }, { fieldManager: 'sde-e2e', force: true });
    const child = spawn(process.execPath, ['cli/main.ts', 'run', '--site', 'uclh', '--site-config', 'examples/site-uclh.yaml', '--kubeconfig', kubeconfig, '--port', '0', '--namespace', OPERATOR_NAMESPACE, '--register-port', '0', ...extra], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    const operator = new OperatorProcess(child);
    await until('the operator to start', async () => {
      if (child.exitCode !== null) throw new Error(`the operator exited ${child.exitCode}: ${operator.#stderr}${operator.lines.map((l) => JSON.stringify(l)).join('\n')}`);
      return operator.logged('operator started');
    }, 60_000, 100).catch((error: unknown) => {
      child.kill('SIGKILL');
      throw error;
    });
    return operator;
  }

  /** The first log line with this message, if any. */
  logged(message: string): Record<string, unknown> | undefined {
    return this.lines.find((line) => line.msg === message);
  }

  /** Stops the process with `signal` and waits for it to exit. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
    return this.exited;
  }
}

/** A place in the audit log (default SDE_AUDIT_LOG's): requests after it are counted by {@link operatorRequestsSince}. */
export function auditMark(log: string | undefined = auditLogPath): number {
  return log ? readMark(log) : 0;
}

/**
 * The operator's requests in the audit log since `mark`, completed before `until` (default now):
 * writes and reads by "verb resource[/subresource]". Read by the benchmarks' reader, which refuses
 * a log rotated since the mark rather than counting from the wrong file.
 */
export async function operatorRequestsSince(mark: number, until: Date = new Date(), log: string | undefined = auditLogPath): Promise<{ writes: Record<string, number>; reads: Record<string, number>; writeCount: number; readCount: number }> {
  const result = { writes: {} as Record<string, number>, reads: {} as Record<string, number>, writeCount: 0, readCount: 0 };
  if (!log) return result;
  const operator = (await requestsSince(log, mark, { until }))[clientOf(USER_AGENT)];
  for (const [what, count] of Object.entries(operator?.byRequest ?? {})) {
    const [verb = '', resource = ''] = what.split(' ');
    const write = isWrite(verb, resource.split('/')[0]);
    (write ? result.writes : result.reads)[what] = count;
    if (write) result.writeCount += count;
    else result.readCount += count;
  }
  return result;
}
