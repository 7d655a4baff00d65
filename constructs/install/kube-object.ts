// The shape every install construct returns: plain Kubernetes objects, ready to serialise.

/** A Kubernetes object as written to a manifest: always named, namespaced when its kind is. */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [field: string]: unknown;
}
