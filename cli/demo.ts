// `sde-operator demo` (`npm start`): the whole thing on one machine. Starts the local Kubernetes,
// installs the CRDs, runs the operator for the example site, applies examples/, shows resources
// becoming Ready, then adds a researcher to the enclave and shows their workspace appear.
import { mkdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import type { KubernetesObject } from '@kubernetes/client-node';
import { Command } from 'commander';
import { parseAllDocuments } from 'yaml';
import { startDevCluster } from '../devcluster/index.ts';
import { installCustomResourceDefinitions } from '../operator/crds.ts';
import { SdeKinds } from '../operator/kinds.ts';
import { createOperator } from '../operator/operator.ts';
import { REGISTER_LISTENER } from '../operator/data-use-register/index.ts';
import { createLogger, KubeClient } from '../operator/runtime/index.ts';
import { loadSiteConfig } from '../operator/site-config.ts';

type Sde = KubernetesObject & { spec?: Record<string, unknown>; status?: { phase?: string; conditions?: { type: string; status: string; reason: string; message: string }[]; node?: string; namespace?: string } };

const MANIFESTS = ['enclave-cardiac-mri.yaml', 'workspace-jupyter-gpu.yaml', 'workspace-rstudio.yaml', 'federatedjob-nvflare.yaml'];
const NEW_MEMBER = 'a.khan@ucl.ac.uk';
const OPERATOR_NAMESPACE = 'sde-system';

function documents(file: string): Sde[] {
  return parseAllDocuments(readFileSync(file, 'utf8')).map((d) => d.toJS() as Sde);
}

/** One row per sde.london object: what `kubectl get sde` would show, plus why it is not ready. */
function rows(objects: Sde[]): string[][] {
  return objects.map((o) => {
    const ready = o.status?.conditions?.find((c) => c.type === 'Ready');
    const detail = ready?.status === 'True' ? (o.status?.node ? `on ${o.status.node}` : (o.status?.namespace ?? '')) : (ready?.message ?? 'waiting for the operator');
    return [`${o.kind?.toLowerCase()}/${o.metadata?.name}`, o.metadata?.namespace ?? '', o.status?.phase ?? '-', ready?.status ?? '-', detail.slice(0, 70)];
  });
}

function table(data: string[][]): string {
  const header = ['NAME', 'NAMESPACE', 'PHASE', 'READY', 'DETAIL'];
  const all = [header, ...data];
  const widths = header.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
  return all.map((r) => r.map((c, i) => c.padEnd(widths[i] ?? 0)).join('   ').trimEnd()).join('\n');
}

/** `demo`: runs until Ctrl-C (or, with --exit-when-ready, until the researcher's workspace is Ready). */
export function demoCommand(): Command {
  return new Command('demo')
    .description('run the local Kubernetes, the operator and the examples on this machine, and show them become Ready')
    .option('--port <n>', 'API server port (0: any free port)', '0')
    .option('--dir <dir>', 'where to write the kubeconfig', '.devcluster')
    .option('--exit-when-ready', 'stop once everything is Ready (for scripts and tests)', false)
    .action(async (opts: { port: string; dir: string; exitWhenReady: boolean }) => {
      mkdirSync(opts.dir, { recursive: true });
      const kubeconfigPath = resolve(opts.dir, 'kubeconfig');
      const cluster = await startDevCluster({ port: Number(opts.port), kubeconfigPath });
      const kubeConfig = new KubeConfig();
      kubeConfig.loadFromFile(kubeconfigPath);
      const client = new KubeClient(kubeConfig);
      await installCustomResourceDefinitions(client, 'sde-demo');
      const site = loadSiteConfig('examples/site-uclh.yaml');
      // The operator's own namespace, where it keeps the data use register, as an installation has it.
      await client.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: OPERATOR_NAMESPACE } }, { fieldManager: 'sde-demo', force: true });
      const operator = createOperator({ site, kubeConfig, port: 0, host: '127.0.0.1', register: { namespace: OPERATOR_NAMESPACE, port: 0, host: '127.0.0.1' }, logger: createLogger({ level: 'warn' }) });
      await operator.start();
      const register = `http://127.0.0.1:${operator.portOf(REGISTER_LISTENER)}/`;
      console.log(`local Kubernetes ready at ${cluster.url} (simulated site: 2 × DGX A100, 2 CPU nodes)`);
      console.log(`operator for site ${site.site} running; data use register at ${register}, metrics at http://127.0.0.1:${operator.port}/metrics`);

      const apply = async (objects: Sde[]): Promise<void> => {
        for (const o of objects) await client.apply(o, { fieldManager: 'sde-demo', force: true });
      };
      const read = (): Sde[] => [SdeKinds.Enclave, SdeKinds.Workspace, SdeKinds.FederatedJob].flatMap((t) => operator.cacheFor(t).list() as Sde[]);
      const allReady = (): boolean => read().every((o) => o.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
      let shown = '';
      const show = (): void => {
        const objects = read();
        if (objects.length === 0) return;
        const text = table(rows(objects));
        if (text === shown) return;
        shown = text;
        console.log(`\n${new Date().toISOString().slice(11, 19)}\n${text}`);
      };
      const until = async (what: string, done: () => boolean): Promise<void> => {
        const deadline = Date.now() + 60_000;
        while (!done()) {
          show();
          if (Date.now() > deadline) throw new Error(`expected ${what} within 60 s; see the table above`);
          await new Promise((r) => setTimeout(r, 250));
        }
        show();
      };

      try {
        const [enclaveFile, ...rest] = MANIFESTS.map((m) => `examples/${m}`);
        const enclave = documents(enclaveFile as string)[0] as Sde;
        await apply([enclave]);
        console.log(`\napplied examples/enclave-cardiac-mri.yaml`);
        await until('the enclave to be Ready', () => allReady() && read().length > 0);
        await apply(rest.flatMap(documents));
        console.log(`\napplied ${rest.join(', ')}`);
        await until('every resource to be Ready', allReady);

        console.log(`\nadding researcher ${NEW_MEMBER} to the enclave, with auto-provisioned JupyterLab workspaces`);
        const spec = structuredClone(enclave.spec ?? {});
        (spec.members as unknown[]).push({ user: NEW_MEMBER, role: 'researcher' });
        spec.workspaces = { ...(spec.workspaces as object), autoProvision: { tool: 'jupyterlab' } };
        await apply([{ ...enclave, spec }]);
        await until(`a Ready workspace for ${NEW_MEMBER}`, () => read().some((o) => o.kind === 'Workspace' && o.spec?.owner === NEW_MEMBER) && allReady());
        console.log(`\n${NEW_MEMBER} has a ready workspace without asking for one.`);
      } catch (err) {
        console.error(`demo failed: ${(err as Error).message}`);
        process.exitCode = 1;
      }

      const stop = async (): Promise<void> => {
        await operator.stop();
        await cluster.stop();
      };
      if (opts.exitWhenReady || process.exitCode === 1) {
        await stop();
        return;
      }
      console.log(`\nTry it: kubectl --kubeconfig ${kubeconfigPath} get sde`);
      console.log(`        kubectl --kubeconfig ${kubeconfigPath} -n sde-cardiac-mri get pods,networkpolicies,resourcequota`);
      console.log(`        curl ${register}register.csv`);
      console.log('Running until Ctrl-C; changes show up here as they happen.');
      const timer = setInterval(show, 500);
      await new Promise<void>((done) => {
        const onSignal = (): void => {
          clearInterval(timer);
          void stop().then(done);
        };
        process.once('SIGINT', onSignal);
        process.once('SIGTERM', onSignal);
      });
    });
}
