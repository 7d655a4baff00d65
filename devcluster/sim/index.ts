// The simulated cluster, in the spirit of kwok: nodes, a scheduler, a kubelet per node and the
// workload controllers, all in-process against the devcluster's store.
import pino from 'pino';
import { defaultStorageClass } from '../admission/default-storage-class.ts';
import { storageProtection } from '../admission/storage-protection.ts';
import { BUILTINS } from '../store/builtins.ts';
import { ApiError } from '../store/errors.ts';
import type { ClusterStore } from '../store/cluster-store.ts';
import { createContext, type SimInformers } from './context.ts';
import { Kubelet } from './kubelet.ts';
import { DEFAULT_SITE_NODES, NODE_LEASE_NAMESPACE, nodeLease, nodeObject, type NodeSpec } from './nodes.ts';
import type { ScoringStrategy } from './predicates.ts';
import type { ErrorReporter } from './sync-queue.ts';
import { DeploymentController } from './deployment.ts';
import { JobController } from './job.ts';
import { ReplicaSetController } from './replicaset.ts';
import { Scheduler } from './scheduler.ts';
import { StatefulSetController } from './statefulset.ts';
import { StorageProtection } from './storage-protection.ts';
import { VolumeBinder } from './volumes.ts';

export { DEFAULT_SITE_NODES, loadNodeSpecs, parseNodeSpecs, siteNodes, InvalidNodesFileError, type NodeSpec } from './nodes.ts';
export { FAIL_ANNOTATION, RUN_SECONDS_ANNOTATION } from './kubelet.ts';

/** How the simulated cluster behaves. */
export interface SimulationOptions {
  /** The nodes to register (default: DEFAULT_SITE_NODES, a trust site of two DGX A100 and two CPU nodes). */
  nodes?: readonly NodeSpec[];
  /** How long a Job's pod runs before it succeeds, in ms (default 1000); the run-seconds annotation overrides it. */
  jobRunMillis?: number;
  /** Spread pods (LeastAllocated, kube-scheduler's default) or bin-pack them (MostAllocated). */
  scoring?: ScoringStrategy;
  /** Record Events (Scheduled, FailedScheduling, SuccessfulCreate...) as the real components do (default true). */
  events?: boolean;
  /** Told about unexpected controller failures (default: a pino logger on stderr at warn level). */
  onError?: ErrorReporter;
}

/** A running simulation. */
export interface Simulation {
  /** Holds every kubelet: bound pods stay Pending and running pods never finish until resumeKubelet(). */
  pauseKubelet(): void;
  /** Lets the kubelets catch up. */
  resumeKubelet(): void;
  /** Holds the volume binder and provisioner: new claims stay Pending until resumeVolumes(). */
  pauseVolumes(): void;
  /** Binds and provisions the claims that waited. */
  resumeVolumes(): void;
  /** Stops every component and clears every timer; the store keeps its objects. */
  stop(): Promise<void>;
}

/**
 * Registers the nodes (those already in the store are kept as they are) and starts the scheduler,
 * kubelet and controllers. Everything is driven by store subscriptions; nothing polls.
 */
export function startSimulation(store: ClusterStore, opts: SimulationOptions = {}): Simulation {
  const report = opts.onError ?? defaultReporter();
  const ctx = createContext(store, report, opts.events ?? true);
  registerNodes(store, opts.nodes ?? DEFAULT_SITE_NODES);
  const scheduler = new Scheduler(ctx, opts.scoring ?? 'LeastAllocated');
  const kubelet = new Kubelet(ctx, opts.jobRunMillis ?? 1000);
  const volumes = new VolumeBinder(ctx);
  const controllers = [
    scheduler, kubelet, volumes, new ReplicaSetController(ctx), new DeploymentController(ctx),
    new StatefulSetController(ctx), new JobController(ctx), new StorageProtection(ctx),
  ];
  const withoutPlugins = [store.use(defaultStorageClass()), store.use(storageProtection())];
  const informers = Object.values(ctx.informers) as SimInformers[keyof SimInformers][];
  for (const informer of informers) informer.start();
  return {
    pauseKubelet: () => kubelet.pause(),
    resumeKubelet: () => kubelet.resume(),
    pauseVolumes: () => volumes.pause(),
    resumeVolumes: () => volumes.resume(),
    stop: async () => {
      for (const remove of withoutPlugins) remove();
      for (const informer of informers) informer.stop();
      for (const controller of controllers) controller.stop();
    },
  };
}

/** Creates each node (Ready) and its heartbeat Lease in kube-node-lease, unless already there. */
function registerNodes(store: ClusterStore, nodes: readonly NodeSpec[]): void {
  nodes.forEach((spec, index) => {
    ignoreExisting(() => {
      if (store.peek(BUILTINS.nodes, undefined, spec.name) !== undefined) return;
      const node = nodeObject(spec, index);
      const created = store.create(BUILTINS.nodes, node, { fieldManager: 'kubelet' });
      if (created.status === undefined) store.update(BUILTINS.nodes, { ...created, status: node.status }, { subresource: 'status', fieldManager: 'kubelet' });
    });
    ignoreExisting(() => {
      const node = store.peek(BUILTINS.nodes, undefined, spec.name);
      if (node === undefined || store.peek(BUILTINS.leases, NODE_LEASE_NAMESPACE, spec.name) !== undefined) return;
      store.create(BUILTINS.leases, nodeLease(node), { fieldManager: 'kubelet' });
    });
  });
}

function ignoreExisting(create: () => void): void {
  try {
    create();
  } catch (error) {
    if (!(error instanceof ApiError && (error.code === 409 || error.code === 404))) throw error;
  }
}

/** Logs to stderr through pino, created on the first failure so a quiet simulation opens nothing. */
function defaultReporter(): ErrorReporter {
  let log: pino.Logger | undefined;
  return (controller, key, error) => {
    log ??= pino({ name: 'devcluster-sim', level: 'warn' }, pino.destination({ dest: 2, sync: true }));
    log.warn({ controller, key, err: error }, 'reconcile failed; retrying with backoff');
  };
}
