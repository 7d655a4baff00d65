// What the simulated components share: the store, one cache per watched resource type (so each
// store event is copied once, not once per component), the event recorder and error reporting.
import { BUILTINS } from '../store/builtins.ts';
import type { Store } from '../store/store.ts';
import type { KubeObject } from '../store/types.ts';
import { byController, ObjectCache } from './cache.ts';
import { EventRecorder } from './events.ts';
import { podNodeName } from './pods.ts';
import type { ErrorReporter } from './queue.ts';

/** The caches of every resource type the simulation reads. */
export interface SimCaches {
  nodes: ObjectCache;
  pods: ObjectCache;
  persistentvolumeclaims: ObjectCache;
  persistentvolumes: ObjectCache;
  replicasets: ObjectCache;
  deployments: ObjectCache;
  statefulsets: ObjectCache;
  jobs: ObjectCache;
}

/** Shared by every simulated component. */
export interface SimContext {
  store: Store;
  caches: SimCaches;
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

/** Creates the caches with their indexes; the caller registers handlers, then starts them. */
export function createContext(store: Store, report: ErrorReporter, recordEvents: boolean): SimContext {
  const cache = (rt: (typeof BUILTINS)[keyof typeof BUILTINS]) => new ObjectCache(store, rt);
  const caches: SimCaches = {
    nodes: cache(BUILTINS.nodes),
    pods: cache(BUILTINS.pods),
    persistentvolumeclaims: cache(BUILTINS.persistentvolumeclaims),
    persistentvolumes: cache(BUILTINS.persistentvolumes),
    replicasets: cache(BUILTINS.replicasets),
    deployments: cache(BUILTINS.deployments),
    statefulsets: cache(BUILTINS.statefulsets),
    jobs: cache(BUILTINS.jobs),
  };
  caches.pods.addIndex(BY_NODE, (pod) => {
    const node = podNodeName(pod);
    return node === undefined ? [] : [node];
  });
  for (const owned of [caches.pods, caches.replicasets]) {
    owned.addIndex(BY_CONTROLLER, byController);
    owned.addIndex(ORPHANS, (object) => (byController(object).length === 0 ? [object.metadata.namespace ?? 'default'] : []));
  }
  caches.persistentvolumes.addIndex(BY_CLAIM, claimOf);
  caches.persistentvolumes.addIndex(BY_FREE_CLASS, freeClassOf);
  return { store, caches, events: new EventRecorder(store, recordEvents), report };
}
