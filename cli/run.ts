// `sde-operator run`: the operator process for one site.
import { Command, InvalidArgumentError } from 'commander';
import { siteConfig } from '../api/siteconfig.ts';
import type { SiteConfig } from '../api/siteconfig.ts';
import { API_VERSION } from '../api/meta.ts';
import { USER_AGENT } from '../operator/identity.ts';
import { createOperator, DEFAULT_CONCURRENCY } from '../operator/operator.ts';
import { REGISTER_LISTENER, REGISTER_PORT } from '../operator/data-use-register/index.ts';
import { createLogger, KubeClient, loadKubeConfig } from '../operator/runtime/index.ts';
import { requireSupportedServer, UnsupportedKubernetesError } from '../operator/server-version.ts';
import { WEBHOOK_LISTENER, WEBHOOK_PORT } from '../operator/webhook/index.ts';
import { loadSiteConfig } from '../operator/site-config.ts';

interface RunFlags {
  site: string;
  siteConfig?: string;
  kubeconfig?: string;
  port: number;
  namespace: string;
  registerPort: number;
  webhookCertDir?: string;
  webhookPort: number;
  serviceAccount?: string;
  trustedGroup: string[];
  concurrency: number;
  leaderElect: boolean;
  leaseNamespace: string;
  leaseDuration: number;
  resync: number;
  logLevel: string;
}

function integer(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`expected a whole number, found "${value}"`);
  return n;
}

/** The site config for `--site`: from the file when given (its site must match), else the defaults. */
function siteFor(flags: RunFlags): SiteConfig {
  const site = flags.siteConfig ? loadSiteConfig(flags.siteConfig) : siteConfig.parse({ apiVersion: API_VERSION, kind: 'SiteConfig', site: flags.site });
  if (site.site !== flags.site) throw new Error(`expected --site ${flags.site} to match the site configuration's site, but it says "${site.site}"`);
  return site;
}

/**
 * Lease timing derived from its duration, as client-go's defaults relate them (15 s / 10 s / 2 s):
 * a leader gives up after two thirds of the lease without a renewal, well before a standby may
 * take over, so two replicas never act at once whatever duration is chosen.
 */
export function leaderTiming(namespace: string, leaseDurationSeconds: number): { namespace: string; leaseDurationSeconds: number; renewDeadlineMs: number; retryPeriodMs: number } {
  const leaseMs = Math.max(1, leaseDurationSeconds) * 1000;
  return { namespace, leaseDurationSeconds: Math.max(1, leaseDurationSeconds), renewDeadlineMs: Math.round((leaseMs * 2) / 3), retryPeriodMs: Math.max(100, Math.round(leaseMs / 7.5)) };
}

/** `run --site SITE`: reconciles this site's enclaves until SIGTERM/SIGINT, then shuts down gracefully. */
export function runCommand(): Command {
  return new Command('run')
    .description('run the operator for one site (in a pod it uses the in-cluster config)')
    .requiredOption('--site <name>', 'the site (trust) this operator acts for')
    .option('--site-config <file>', 'SiteConfig YAML (the defaults for --site when omitted)')
    .option('--kubeconfig <file>', 'kubeconfig file (default: KUBECONFIG, in-cluster, ~/.kube/config)')
    .option('--port <n>', 'port of /healthz, /readyz and /metrics', integer, 8080)
    .option('--namespace <ns>', 'the namespace the operator runs in; the data use register is kept there', 'sde-system')
    .option('--register-port <n>', 'port of the public data use register (/, /register.csv, /register.json); 0 picks a free one', integer, REGISTER_PORT)
    .option('--webhook-cert-dir <dir>', 'serve the admission webhooks over TLS with tls.crt and tls.key from this folder (none without it)')
    .option('--webhook-port <n>', 'port of the admission webhooks; 0 picks a free one', integer, WEBHOOK_PORT)
    .option('--service-account <user>', 'the user the operator itself authenticates as, which admission lets act for any member (default: its service account in --namespace)')
    .option('--trusted-group <group...>', 'groups whose users admission lets act for any member (platform engineers), besides system:masters and kube-system\'s controllers', [])
    .option('--concurrency <n>', 'keys reconciled at once per controller', integer, DEFAULT_CONCURRENCY)
    .option('--leader-elect', 'run with leader election (one active replica, standbys wait)', false)
    .option('--lease-namespace <ns>', 'namespace of the leader Lease', 'sde-system')
    .option('--lease-duration <seconds>', 'leader lease duration', integer, 15)
    .option('--resync <seconds>', 'full relist of every watched kind this often, to catch a missed event (0: never)', integer, 600)
    .option('--log-level <level>', 'trace, debug, info, warn or error', 'info')
    .action(async (flags: RunFlags) => {
      const logger = createLogger({ level: flags.logLevel });
      try {
        const kubeConfig = loadKubeConfig(flags.kubeconfig ? { kubeconfigPath: flags.kubeconfig } : {});
        const site = siteFor(flags);
        const server = await requireSupportedServer(new KubeClient(kubeConfig, { userAgent: USER_AGENT }));
        logger.info({ kubernetes: `${server.major}.${server.minor}` }, 'API server version supported');
        const operator = createOperator({
          site,
          kubeConfig,
          logger,
          port: flags.port,
          register: { namespace: flags.namespace, port: flags.registerPort },
          ...(flags.webhookCertDir
            ? { webhook: { certDir: flags.webhookCertDir, port: flags.webhookPort, trusted: { operatorUser: flags.serviceAccount ?? `system:serviceaccount:${flags.namespace}:sde-operator`, groups: flags.trustedGroup } } }
            : {}),
          concurrency: Math.max(1, flags.concurrency),
          ...(flags.leaderElect ? { leaderElection: leaderTiming(flags.leaseNamespace, flags.leaseDuration) } : {}),
          watch: { resyncMs: flags.resync * 1000 },
        });
        operator.handleSignals();
        await operator.start();
        logger.info({ site: flags.site, port: operator.port, registerPort: operator.portOf(REGISTER_LISTENER), webhookPort: operator.portOf(WEBHOOK_LISTENER) }, 'operator started');
        await operator.done;
      } catch (err) {
        // A refusal to start is one plain line a person reads, not a log record with a stack.
        if (err instanceof UnsupportedKubernetesError) console.error(`sde-operator: ${err.message}`);
        else logger.error({ err }, (err as Error).message);
        process.exitCode = 1;
      }
    });
}
