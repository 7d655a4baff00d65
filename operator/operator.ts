// The operator as one unit: a manager with the Enclave, Workspace and FederatedJob controllers,
// the isolation monitor's access checks (and probes, when the site has them) and, when asked, the public data use register and the admission webhooks. Used by `sde-operator run`, the demo and the tests.
import type { KubeConfig } from '@kubernetes/client-node';
import type { SiteConfig } from '../api/siteconfig.ts';
import { enclaveController } from './enclave/reconciler.ts';
import { federatedJobController } from './federatedjob/reconciler.ts';
import { OPERATOR_IDENTITY } from './identity.ts';
import { addRegister } from './data-use-register/index.ts';
import type { RegisterOptions } from './data-use-register/index.ts';
import { Manager } from './runtime/index.ts';
import type { Logger, ManagerOptions } from './runtime/index.ts';
import { addAdmissionWebhook } from './webhook/index.ts';
import type { WebhookOptions } from './webhook/index.ts';
import { workspaceController } from './workspace/reconciler.ts';
import { accessMonitorController, subjectAccessReviews } from './isolation/access-monitor.ts';
import { isolationProbeController } from './isolation/probe.ts';
import { IsolationStore } from './isolation/store.ts';
import { SdeKinds } from './kinds.ts';
import type { IsolationFinding } from '../isolation/findings.ts';
import { Gauge } from 'prom-client';

/** How to run the operator for one site. */
export interface OperatorOptions {
  site: SiteConfig;
  kubeConfig?: KubeConfig;
  logger?: Logger;
  /** Port of the health and metrics server; 0 picks a free one; false turns it off. */
  port?: number | false;
  host?: string;
  /** Keys reconciled at once per controller; default {@link DEFAULT_CONCURRENCY}. */
  concurrency?: number;
  leaderElection?: ManagerOptions['leaderElection'];
  watch?: ManagerOptions['watch'];
  /** The clock the reconcilers read; tests move it. */
  now?: () => Date;
  /** The public data use register: where its records are kept and where it is served; none when omitted. */
  register?: RegisterOptions;
  /** The admission webhooks (authors act for themselves, the access record only grows); none when omitted. */
  webhook?: WebhookOptions;
}

/**
 * Keys each controller reconciles at once. A reconcile mostly waits on API round trips. On
 * Kubernetes 1.23's own control plane, 1,000 enclaves created all their objects in 228 s with 8,
 * 189 s with 16 and 166 s with 32 (with the four apply ranks; peak RSS 173-176 MB each, the
 * operator's CPU lower, not higher); 64 was no faster than 32 (233.5 against 235.6 s, the mean
 * reconcile doubled: the API server is the limit). On the local Kubernetes, 8 rather than 4 took
 * the 200-enclave expiry from p99 2.3-2.5 s to 2.16 s.
 */
export const DEFAULT_CONCURRENCY = 32;

/** Builds (does not start) the operator for a site: `await op.start()`, later `await op.stop()`. */
export function createOperator(options: OperatorOptions): Manager {
  const manager = new Manager({
    ...OPERATOR_IDENTITY,
    ...(options.kubeConfig ? { kubeConfig: options.kubeConfig } : {}),
    ...(options.logger ? { logger: options.logger } : {}),
    health: options.port === false ? false : { port: options.port ?? 8080, ...(options.host ? { host: options.host } : {}) },
    ...(options.leaderElection ? { leaderElection: options.leaderElection } : {}),
    ...(options.watch ? { watch: options.watch } : {}),
  });
  const common = { site: options.site, ...(options.now ? { now: options.now } : {}) };
  const concurrency = options.concurrency ?? DEFAULT_CONCURRENCY;
  const onRender = (controller: string) => (result: 'rendered' | 'reused') => manager.metrics.renders.inc({ controller, result });
  const isolation = new IsolationStore();
  const enclaves = manager.add({ ...enclaveController({ ...common, onExpiringCount: (n) => manager.metrics.enclavesExpiring.set(n), onRender: onRender('enclave'), isolation, onFindings: findingsMetric(manager) }), concurrency });
  // The checks made apart from the Enclave's reconcile tell it when what they found changes.
  isolation.onChange((enclave, check) => check !== 'network' && enclaves.enqueue(enclave));
  manager.add(accessMonitorController({ ...common, store: isolation, ask: subjectAccessReviews(manager.client), enclaveKeys: () => manager.cacheFor(SdeKinds.Enclave).list().map((o) => o.metadata?.name ?? '') }));
  // Probe Jobs only where the site's network enforces policies (and names a probe image).
  if (options.site.isolation.probes) manager.add({ ...isolationProbeController({ ...common, store: isolation }), concurrency });
  manager.add({ ...workspaceController({ ...common, onRender: onRender('workspace') }, manager), concurrency });
  manager.add({ ...federatedJobController(common, manager), concurrency });

  if (options.register) addRegister(manager, options.site, options.register, options.now);
  if (options.webhook) addAdmissionWebhook(manager, options.site, options.webhook);
  return manager;
}

/** `sde_isolation_findings{enclave,kind}`: what the isolation checks found in each enclave, by kind (0 when nothing). */
function findingsMetric(manager: Manager): (enclave: string, findings: readonly IsolationFinding[]) => void {
  const gauge = new Gauge({ name: 'sde_isolation_findings', help: 'Paths and permissions beyond an enclave\'s spec that the isolation monitor found, by kind.', labelNames: ['enclave', 'kind'], registers: [manager.metrics.registry] });
  const kinds = new Map<string, Set<string>>();
  return (enclave, findings) => {
    const counts = new Map<string, number>();
    for (const f of findings) counts.set(f.kind, (counts.get(f.kind) ?? 0) + 1);
    for (const kind of kinds.get(enclave) ?? []) if (!counts.has(kind)) gauge.remove({ enclave, kind });
    for (const [kind, n] of counts) gauge.set({ enclave, kind }, n);
    kinds.set(enclave, new Set(counts.keys()));
  };
}
