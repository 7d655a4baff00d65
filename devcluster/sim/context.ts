// What the simulated components share: the store, one informer per watched resource type (so each
// store event is handled once, not once per component), the event recorder and error reporting.
import { BUILTINS } from '../store/builtins.ts';
import type { ClusterStore } from '../store/cluster-store.ts';
import type { KubeObject } from '../store/types.ts';
import { byController, Informer } from './informer.ts';
import { EventRecorder } from './events.ts';
import { podNodeName } from './pods.ts';
import type { ErrorReporter } from './sync-queue.ts';

/** The informers of every resource type the simulation reads. */
export interface SimInformers {
  nodes: Informer;
  pods: Informer;
  persistentvolumeclaims: Informer;
  persistentvolumes: Informer;
  replicasets: Informer;
  deployments: Informer;
  statefulsets: Informer;
  jobs: Informer;
}

/** Shared by every simulated component. */
export interface SimContext {
  store: ClusterStore;
  informers: SimInformers;
  events: EventRecorder;
  report: ErrorReporter;
}

/** Index name: pods by `spec.nodeName`. */
export const BY_NODE = 'node';
/** Index name: objects by their controlling owner's uid. */
export const BY_CONTROLLER = 'controller';
/** Index name: PersistentVolumes by the `namespace/name` of the claim they are bound or pre-bound to. */
export const BY_CLAIM = 'claim';

function claimOf(pv: KubeObject): readonly string[] {
  const ref = (pv.spec as { claimRef?: { namespace?: string; name?: string } } | undefined)?.claimRef;
  return ref?.name ? [`${ref.namespace ?? 'default'}/${ref.name}`] : [];
}

/** Index name: objects without a controlling owner, by namespace (what controllers may adopt). */
export const ORPHANS = 'orphans';

/** Index name: free (Available, unclaimed) PersistentVolumes by storage class ('' for none). */
export const BY_FREE_CLASS = 'free-class';

function freeClassOf(pv: KubeObject): readonly string[] {
  const free = (pv.status as { phase?: string } | undefined)?.phase === 'Available'
    && (pv.spec as { claimRef?: unknown } | undefined)?.claimRef === undefined;
  return free ? [(pv.spec as { storageClassName?: string } | undefined)?.storageClassName ?? ''] : [];
}

/** Creates the informers with their indexes; the caller registers handlers, then starts them. */
export function createContext(store: ClusterStore, report: ErrorReporter, recordEvents: boolean): SimContext {
  const informer = (rt: (typeof BUILTINS)[keyof typeof BUILTINS]) => new Informer(store, rt);
  const informers: SimInformers = {
    nodes: informer(BUILTINS.nodes),
    pods: informer(BUILTINS.pods),
    persistentvolumeclaims: informer(BUILTINS.persistentvolumeclaims),
    persistentvolumes: informer(BUILTINS.persistentvolumes),
    replicasets: informer(BUILTINS.replicasets),
    deployments: informer(BUILTINS.deployments),
    statefulsets: informer(BUILTINS.statefulsets),
    jobs: informer(BUILTINS.jobs),
  };
  informers.pods.addIndex(BY_NODE, (pod) => {
    const node = podNodeName(pod);
    return node === undefined ? [] : [node];
  });
  for (const owned of [informers.pods, informers.replicasets]) {
    owned.addIndex(BY_CONTROLLER, byController);
    owned.addIndex(ORPHANS, (object) => (byController(object).length === 0 ? [object.metadata.namespace ?? 'default'] : []));
  }
  informers.persistentvolumes.addIndex(BY_CLAIM, claimOf);
  informers.persistentvolumes.addIndex(BY_FREE_CLASS, freeClassOf);
  return { store, informers, events: new EventRecorder(store, recordEvents), report };
}
