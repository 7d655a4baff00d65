// The shapes the devcluster stores and publishes: Kubernetes objects, resource types as REST
// paths name them, and the change events a watch delivers.

/** A Kubernetes object as stored: apiVersion, kind, metadata and any other top-level fields. */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    generateName?: string;
    uid?: string;
    resourceVersion?: string;
    generation?: number;
    creationTimestamp?: string;
    deletionTimestamp?: string;
    deletionGracePeriodSeconds?: number;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    ownerReferences?: OwnerReference[];
    finalizers?: string[];
    managedFields?: unknown[];
    [k: string]: unknown;
  };
  [k: string]: unknown;
}

/** A link from a dependent to its owner; the garbage collector follows it by uid. */
export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

/** A resource type, as the REST path names it: group '' for core. */
export interface ResourceType {
  group: string;
  version: string;
  resource: string;
  kind: string;
  namespaced: boolean;
  /** Lower-case kind, as discovery reports it. */
  singular?: string;
  shortNames?: string[];
  categories?: string[];
  /** True when writes to the main resource ignore status and `/status` writes ignore the rest. */
  statusSubresource?: boolean;
  /** Verbs discovery advertises; defaults to the full read/write set. */
  verbs?: string[];
  /** Other versions served for the same stored objects (CRDs with several versions). */
  versions?: string[];
  /** False for kinds the real server keeps no metadata.generation for (pods, services, claims...). */
  generation?: false;
}

/** What happened to an object. */
export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK';

/** One committed change, as a watch reports it. */
export interface StoreEvent {
  type: WatchEventType;
  resource: ResourceType;
  object: KubeObject;
}
