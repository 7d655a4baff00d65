// `sde-operator devcluster`: runs the local Kubernetes (API server plus simulated trust site) until
// SIGINT/SIGTERM, printing one `ready` line with the URL and writing a kubeconfig.
import { resolve } from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { readTokenFile } from './auth/identity.ts';
import { startDevCluster } from './index.ts';
import type { DevClusterOptions } from './index.ts';
import { loadNodeSpecs } from './sim/index.ts';

function nonNegativeNumber(flag: string): (v: string) => number {
  return (v) => {
    const n = Number(v);
    if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError(`${flag} expects a non-negative number, found ${JSON.stringify(v)}`);
    return n;
  };
}

interface DevclusterFlags {
  port: number;
  kubeconfig: string;
  data?: string;
  nodes?: string;
  jobRunSeconds?: number;
  authTokens?: string;
  simulate: boolean;
  auditLog?: string;
}

/** The `devcluster` subcommand; resolves only after a signal has stopped the cluster cleanly. */
export function devclusterCommand(): Command {
  return new Command('devcluster')
    .description('run a local in-memory Kubernetes API server with simulated DGX A100 and CPU nodes (for development and tests, not production)')
    .option('--port <n>', 'port on 127.0.0.1 (0 picks a free one)', nonNegativeNumber('--port'), 0)
    .option('--kubeconfig <file>', 'where to write the kubeconfig', 'devcluster.kubeconfig')
    .option('--data <file>', 'persist objects to this JSON file and reload them on start')
    .option('--nodes <file>', 'YAML or JSON list of simulated nodes (default: two DGX A100 and two CPU nodes)')
    .option('--job-run-seconds <n>', 'how long simulated Job pods run before succeeding', nonNegativeNumber('--job-run-seconds'))
    .option('--auth-tokens <file>', 'bearer tokens (CSV token,user,uid,"groups" or JSON [{token,user,groups}]); enables RBAC')
    .option('--no-simulate', 'serve the API only: no nodes, scheduler, kubelet or controllers')
    .option('--audit-log <file>', 'append one audit record per request to this file (kube-apiserver\'s JSON shape, level Metadata)')
    .action(async (flags: DevclusterFlags) => {
      const opts: DevClusterOptions = { port: flags.port, kubeconfigPath: resolve(flags.kubeconfig), simulate: flags.simulate };
      if (flags.data) opts.dataFile = resolve(flags.data);
      if (flags.nodes) opts.nodes = await loadNodeSpecs(flags.nodes);
      if (flags.jobRunSeconds !== undefined) opts.jobRunMillis = flags.jobRunSeconds * 1000;
      if (flags.authTokens) opts.tokens = readTokenFile(flags.authTokens);
      if (flags.auditLog) opts.auditLog = resolve(flags.auditLog);
      const cluster = await startDevCluster(opts);
      console.log(`devcluster ready at ${cluster.url} (kubeconfig: ${cluster.kubeconfigPath})`);
      await new Promise<void>((done) => {
        const stop = (): void => {
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
          void cluster.stop().then(done);
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      });
    });
}
