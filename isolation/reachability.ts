// Which pod can reach which destination, computed from NetworkPolicies with Kubernetes
// semantics: a pod is isolated in a direction iff some policy with that policy type selects it;
// then only the union of the selecting policies' rules is allowed. A connection between two pods
// needs both the source's egress and the destination's ingress to allow it.
import { cidrContains } from '../api/cidr.ts';
import type { NetworkPolicyObject, PolicyPeer, PolicyPort } from './policy-types.ts';
import { labelSelectorMatches } from '../api/selectors.ts';

/** A namespace and its labels (kubernetes.io/metadata.name is implied). */
export interface NamespaceModel {
  name: string;
  labels: Record<string, string>;
}

/** A pod: where it runs, its labels and its address. */
export interface PodModel {
  namespace: string;
  name: string;
  labels: Record<string, string>;
  ip: string;
}

/** The cluster as far as reachability cares. */
export interface ClusterModel {
  namespaces: NamespaceModel[];
  pods: PodModel[];
  policies: NetworkPolicyObject[];
}

/** A place traffic can go to or come from: a pod, or an address outside the cluster's pods. */
export type Endpoint = { pod: PodModel } | { ip: string };

/** A destination port and protocol. */
export interface Probe {
  port: number;
  protocol: 'TCP' | 'UDP';
}

/** One allowed connection. */
export interface Flow {
  from: Endpoint;
  to: Endpoint;
  port: number;
  protocol: 'TCP' | 'UDP';
}

function policyTypes(p: NetworkPolicyObject): ('Ingress' | 'Egress')[] {
  if (p.spec.policyTypes !== undefined && p.spec.policyTypes.length > 0) return p.spec.policyTypes;
  // As the API server defaults it: Ingress always, Egress when the policy has egress rules.
  return p.spec.egress !== undefined && p.spec.egress.length > 0 ? ['Ingress', 'Egress'] : ['Ingress'];
}

function namespaceLabels(model: ClusterModel, name: string): Record<string, string> {
  const ns = model.namespaces.find((n) => n.name === name);
  return { ...(ns?.labels ?? {}), 'kubernetes.io/metadata.name': name };
}

function portMatches(ports: PolicyPort[] | undefined, probe: Probe): boolean {
  if (ports === undefined || ports.length === 0) return true;
  return ports.some((p) => {
    if ((p.protocol ?? 'TCP') !== probe.protocol) return false;
    if (p.port === undefined) return true;
    // Named ports resolve against container ports; the renderer never writes them, so they match nothing here.
    if (typeof p.port === 'string') return false;
    return probe.port >= p.port && probe.port <= (p.endPort ?? p.port);
  });
}

function ipInBlock(ip: string, block: NonNullable<PolicyPeer['ipBlock']>): boolean {
  return cidrContains(block.cidr, `${ip}/32`) && !(block.except ?? []).some((e) => cidrContains(e, `${ip}/32`));
}

function peerMatches(model: ClusterModel, policyNamespace: string, peer: PolicyPeer, other: Endpoint): boolean {
  if (peer.ipBlock !== undefined) {
    const ip = 'pod' in other ? other.pod.ip : other.ip;
    return ipInBlock(ip, peer.ipBlock);
  }
  if (!('pod' in other)) return false;
  const pod = other.pod;
  if (peer.namespaceSelector === undefined && pod.namespace !== policyNamespace) return false;
  if (peer.namespaceSelector !== undefined && !labelSelectorMatches(peer.namespaceSelector, namespaceLabels(model, pod.namespace))) return false;
  return labelSelectorMatches(peer.podSelector, pod.labels);
}

function selecting(model: ClusterModel, pod: PodModel, type: 'Ingress' | 'Egress'): NetworkPolicyObject[] {
  return model.policies.filter((p) => (p.metadata.namespace ?? '') === pod.namespace && policyTypes(p).includes(type) && labelSelectorMatches(p.spec.podSelector, pod.labels));
}

/** True when the pod's egress policies let it open a connection to the destination on the probe's port. */
export function egressAllowed(model: ClusterModel, from: PodModel, to: Endpoint, probe: Probe): boolean {
  const policies = selecting(model, from, 'Egress');
  if (policies.length === 0) return true;
  return policies.some((p) =>
    (p.spec.egress ?? []).some((rule) => portMatches(rule.ports, probe) && (rule.to === undefined || rule.to.length === 0 || rule.to.some((peer) => peerMatches(model, from.namespace, peer, to)))),
  );
}

/** True when the pod's ingress policies admit a connection from the source on the probe's port. */
export function ingressAllowed(model: ClusterModel, to: PodModel, from: Endpoint, probe: Probe): boolean {
  const policies = selecting(model, to, 'Ingress');
  if (policies.length === 0) return true;
  return policies.some((p) =>
    (p.spec.ingress ?? []).some((rule) => portMatches(rule.ports, probe) && (rule.from === undefined || rule.from.length === 0 || rule.from.some((peer) => peerMatches(model, to.namespace, peer, from)))),
  );
}

/** True when traffic from `from` to `to` on the probe's port is allowed: egress at a source pod and ingress at a destination pod. */
export function canConnect(model: ClusterModel, from: Endpoint, to: Endpoint, probe: Probe): boolean {
  if ('pod' in from && !egressAllowed(model, from.pod, to, probe)) return false;
  if ('pod' in to && !ingressAllowed(model, to.pod, from, probe)) return false;
  return true;
}

/**
 * Every allowed connection from each source to each destination on each probe (a pod never
 * counts as connecting to itself). The isolation report is built on this.
 */
export function reachability(model: ClusterModel, sources: Endpoint[], destinations: Endpoint[], probes: Probe[]): Flow[] {
  const flows: Flow[] = [];
  for (const from of sources) {
    for (const to of destinations) {
      if ('pod' in from && 'pod' in to && from.pod === to.pod) continue;
      for (const probe of probes) if (canConnect(model, from, to, probe)) flows.push({ from, to, port: probe.port, protocol: probe.protocol });
    }
  }
  return flows;
}
