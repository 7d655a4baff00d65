// Building a cluster model from rendered objects: one representative pod per workload template,
// so the analysis sees exactly the labels the renderer gives pods.
import type { KubeObject } from '../constructs/objects.ts';
import type { NetworkPolicyObject } from './policy-types.ts';
import type { NamespaceModel, PodModel } from './reachability.ts';

const WORKLOAD_KINDS = ['StatefulSet', 'Deployment', 'Job', 'DaemonSet', 'ReplicaSet'];

/** The namespaces among rendered objects, with their labels. */
export function namespacesOf(objects: readonly KubeObject[]): NamespaceModel[] {
  return objects.filter((o) => o.kind === 'Namespace').map((o) => ({ name: o.metadata.name, labels: { ...(o.metadata.labels ?? {}) } }));
}

/** The NetworkPolicies among rendered objects. */
export function policiesOf(objects: readonly KubeObject[]): NetworkPolicyObject[] {
  return objects.filter((o) => o.kind === 'NetworkPolicy') as unknown as NetworkPolicyObject[];
}

/**
 * One pod per workload (StatefulSet, Deployment, Job, ...), labelled as its pod template, in the
 * workload's namespace; `nextIp` hands out addresses from the cluster's pod network.
 */
export function podsOf(objects: readonly KubeObject[], nextIp: () => string): PodModel[] {
  return objects
    .filter((o) => WORKLOAD_KINDS.includes(o.kind))
    .map((o) => {
      const template = (o.spec as { template?: { metadata?: { labels?: Record<string, string> } } } | undefined)?.template;
      return { namespace: o.metadata.namespace ?? 'default', name: `${o.kind.toLowerCase()}/${o.metadata.name}`, labels: { ...(template?.metadata?.labels ?? {}) }, ip: nextIp() };
    });
}

/** A generator of pod addresses from 10.244.0.0/16, as a cluster's pod network commonly is. */
export function podAddresses(): () => string {
  let n = 0;
  return () => {
    n += 1;
    return `10.244.${Math.floor(n / 256) % 256}.${n % 256}`;
  };
}
