// A local site for operator tests: the project's devcluster over HTTP, the CRDs installed, the
// operator running against it with the real client, and helpers to apply manifests and wait.
import { readFileSync } from 'node:fs';
import { KubeConfig } from '@kubernetes/client-node';
import type { KubernetesObject } from '@kubernetes/client-node';
import { parse, parseAllDocuments } from 'yaml';
import { siteConfig } from '../../api/siteconfig.ts';
import type { SiteConfig } from '../../api/siteconfig.ts';
import { startDevCluster } from '../../devcluster/index.ts';
import type { DevCluster, DevClusterOptions } from '../../devcluster/index.ts';
import { installCustomResourceDefinitions } from '../../operator/crds.ts';
import { createOperator } from '../../operator/operator.ts';
import type { OperatorOptions } from '../../operator/operator.ts';
import { createLogger, KubeClient } from '../../operator/runtime/index.ts';
import type { Manager } from '../../operator/runtime/index.ts';

export const root = new URL('../../', import.meta.url);
export const exampleSite: SiteConfig = siteConfig.parse(parse(readFileSync(new URL('examples/site-uclh.yaml', root), 'utf8')));

/** The documents of an example manifest, as plain objects. */
export function example(file: string): KubernetesObject[] {
  return parseAllDocuments(readFileSync(new URL(`examples/${file}`, root), 'utf8')).map((d) => d.toJS() as KubernetesObject);
}

/** A site under test: cluster, client, and an operator that can be stopped and started again. */
export interface TestSite {
  cluster: DevCluster;
  client: KubeClient;
  kubeConfig: KubeConfig;
  operator: Manager | undefined;
  startOperator(overrides?: Partial<OperatorOptions>): Promise<Manager>;
  stopOperator(options?: { releaseLease?: boolean }): Promise<void>;
  apply(objects: KubernetesObject[]): Promise<void>;
  get<T = KubernetesObject>(apiVersion: string, kind: string, name: string, namespace?: string): Promise<T | undefined>;
  waitFor<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs?: number): Promise<T>;
  close(): Promise<void>;
}

/** Starts a devcluster with the CRDs applied; the operator starts on `startOperator()`. */
export async function startTestSite(options: { cluster?: DevClusterOptions; site?: SiteConfig } = {}): Promise<TestSite> {
  const cluster = await startDevCluster({ jobRunMillis: 60_000, ...options.cluster });
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(cluster.kubeconfigPath);
  const client = new KubeClient(kubeConfig);
  await installCustomResourceDefinitions(client, 'test-installer');
  const site: TestSite = {
    cluster,
    client,
    kubeConfig,
    operator: undefined,
    async startOperator(overrides = {}) {
      const operator = createOperator({ site: options.site ?? exampleSite, kubeConfig, port: 0, host: '127.0.0.1', logger: createLogger({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }), ...overrides });
      await operator.start();
      site.operator = operator;
      return operator;
    },
    async stopOperator(stopOptions = {}) {
      await site.operator?.stop(stopOptions);
      site.operator = undefined;
    },
    async apply(objects) {
      for (const o of objects) await client.apply(o, { fieldManager: 'test-user', force: true });
    },
    async get<T>(apiVersion: string, kind: string, name: string, namespace?: string) {
      try {
        return (await client.objects.read({ apiVersion, kind, metadata: { name, ...(namespace ? { namespace } : {}) } })) as T;
      } catch (err) {
        if ((err as { code?: number }).code === 404) return undefined;
        throw err;
      }
    },
    async waitFor(what, probe, timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      let last: unknown;
      while (Date.now() < deadline) {
        try {
          const value = await probe();
          if (value !== undefined && value !== false) return value;
        } catch (err) {
          last = err;
        }
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    },
    async close() {
      await site.stopOperator();
      await cluster.stop();
    },
  };
  return site;
}

/** The operator's request counters once they have not moved for a second (the site is idle). */
export async function settled(requests: ReadonlyMap<string, number>): Promise<Map<string, number>> {
  let last = JSON.stringify([...requests]);
  for (;;) {
    await new Promise((r) => setTimeout(r, 1_000));
    const now = JSON.stringify([...requests]);
    if (now === last) return new Map(requests);
    last = now;
  }
}

/** The status condition of `type` on an object read through the API. */
export function conditionOf(object: unknown, type: string): { status: string; reason: string; message: string } | undefined {
  return (object as { status?: { conditions?: { type: string; status: string; reason: string; message: string }[] } } | undefined)?.status?.conditions?.find((c) => c.type === type);
}
