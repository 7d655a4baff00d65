// What a render returns: plain Kubernetes objects, synthesised in memory by a cdk8s App.
import { ApiObject, App, Chart } from 'cdk8s';
import type { Construct } from 'constructs';
import { API_VERSION } from '../api/meta.ts';

/** An owner reference as Kubernetes stores it in metadata.ownerReferences. */
export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller: boolean;
  blockOwnerDeletion: boolean;
}

/** Object metadata as the renderer writes it. */
export interface KubeMetadata {
  name: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: OwnerReference[];
  [key: string]: unknown;
}

/** One rendered Kubernetes object: plain JSON with apiVersion, kind and metadata. */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: KubeMetadata;
  [key: string]: unknown;
}

/** Options every render takes: whether members have access now (the caller reads the clock, not the renderer). */
export interface RenderOptions {
  accessActive: boolean;
}

/** A custom resource that can own children: its kind, name and (once stored) uid. */
export interface Owner {
  kind: string;
  metadata: { name: string; uid?: unknown };
}

/** The controller owner reference to a stored sde.london custom resource; none before it has a uid. */
export function ownerReferences(owner: Owner): OwnerReference[] | undefined {
  const uid = owner.metadata.uid;
  if (typeof uid !== 'string' || uid === '') return undefined;
  return [{ apiVersion: API_VERSION, kind: owner.kind, name: owner.metadata.name, uid, controller: true, blockOwnerDeletion: true }];
}

/**
 * An object as the API server stores it where cdk8s-plus writes a zero value the server drops: a
 * Service's empty `externalIPs` (a non-pointer omitempty field; sent anyway, it makes every apply
 * a write once the second has changed, as measured on kube-apiserver 1.23).
 */
function asStored(object: KubeObject): KubeObject {
  const spec = object.spec as { externalIPs?: unknown[] } | undefined;
  if (object.kind !== 'Service' || spec?.externalIPs === undefined || spec.externalIPs.length > 0) return object;
  const { externalIPs: _dropped, ...rest } = spec;
  return { ...object, spec: rest };
}

/**
 * Builds the constructs into a fresh cdk8s chart and returns its objects in the order they were
 * built. The order they reach a server in is the applier's (the operator runtime's apply ranks).
 */
export function synthesize(build: (chart: Construct) => void): KubeObject[] {
  const app = new App();
  const chart = new Chart(app, 'sde', { disableResourceNameHashes: true });
  build(chart);
  return (chart.toJson() as KubeObject[]).map(asStored);
}

function sortedKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortedKeys);
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value).sort()) {
    const v = (value as Record<string, unknown>)[key];
    if (v !== undefined && v !== null) out[key] = sortedKeys(v);
  }
  return out;
}

/**
 * An ApiObject built from plain JSON that holds no cdk8s tokens. Its synthesis skips token
 * resolution (which copies the key path at every leaf and dominated render time for pod specs)
 * and produces what ApiObject would: apiVersion, kind, metadata first, other keys sorted, no nulls.
 * JSON patches do not apply to it: it is built complete, so it needs none.
 */
export class PlainApiObject extends ApiObject {
  readonly #body: Record<string, unknown>;
  constructor(scope: Construct, id: string, object: KubeObject) {
    const { apiVersion, kind, metadata, ...body } = object;
    super(scope, id, { apiVersion, kind, metadata });
    this.#body = body;
  }

  override toJson(): KubeObject {
    return { apiVersion: this.apiVersion, kind: this.kind, metadata: sortedKeys(this.metadata.toJson()) as KubeMetadata, ...(sortedKeys(this.#body) as object) };
  }
}
