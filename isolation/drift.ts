// Drift of one enclave's network boundary from its spec, judged on the live state: the
// NetworkPolicies in its namespace (the operator's and anyone else's) and the namespace's Pod
// Security labels. A pod's traffic is governed only by the policies of its own namespace, in both
// directions, so those are the ones that can open a path into or out of the enclave. A path
// counts when the live policies allow it and the operator's own policies alone would not.
import { addressAfter, firstAddress } from '../api/cidr.ts';
import type { IsolationFinding } from './findings.ts';
import type { LabelSelector, NetworkPolicyObject, PolicyPeer, PolicyPort } from './policy-types.ts';
import { egressAllowed, ingressAllowed } from './reachability.ts';
import type { ClusterModel, Endpoint, NamespaceModel, PodModel, Probe } from './reachability.ts';

/** The live state of one enclave's network boundary, and what its spec renders. */
export interface NetworkState {
  /** The enclave's namespace as it is live. */
  namespace: NamespaceModel;
  /** The Pod Security labels the namespace must carry. */
  podSecurity: Readonly<Record<string, string>>;
  /** The operator's own policies in the namespace, as rendered. */
  own: readonly NetworkPolicyObject[];
  /** Every other policy live in the namespace: no spec renders them. */
  foreign: readonly NetworkPolicyObject[];
  /** The enclave's pods as its workloads' templates label them (a pod with no labels is added). */
  pods: readonly PodModel[];
  /** An address outside every destination the enclave may reach. */
  canary: string;
}

const ELSEWHERE: NamespaceModel = { name: 'another-namespace', labels: {} };
const ANY_PORT: Probe = { port: 443, protocol: 'TCP' };
const LAST_POD_IP = '10.255.255.254';

/** Findings when the namespace's Pod Security labels are not the ones the spec renders. */
export function podSecurityDrift(namespace: NamespaceModel, expected: Readonly<Record<string, string>>): IsolationFinding[] {
  const wrong = Object.entries(expected).filter(([key, value]) => namespace.labels[key] !== value);
  if (wrong.length === 0) return [];
  const found = wrong.map(([key, value]) => `${key}=${namespace.labels[key] ?? '(none)'}, expected ${value}`).join('; ');
  return [{ concern: 'network', kind: 'PodSecurity', object: `Namespace ${namespace.name}`, path: `Pod Security no longer enforced as the spec says: ${found}` }];
}

/**
 * Paths into or out of the enclave that the live policies open and the operator's own policies
 * alone do not, each naming the foreign policy that opens it. The places tried are the canary, a
 * pod of another namespace, and every peer the foreign policies name.
 */
export function networkDrift(state: NetworkState): IsolationFinding[] {
  const namespace = state.namespace.name;
  const pods = [...state.pods, { namespace, name: 'any pod', labels: {}, ip: '10.255.255.253' }];
  const witnesses = witnessesOf(state.foreign, namespace, state.canary);
  const namespaces = [state.namespace, ELSEWHERE, ...witnesses.namespaces];
  const allPods = [...pods, ...witnesses.endpoints.flatMap((e) => ('pod' in e ? [e.pod] : []))];
  const model = (policies: readonly NetworkPolicyObject[]): ClusterModel => ({ namespaces, pods: allPods, policies: [...policies] });
  const expected = model(state.own);
  const live = model([...state.own, ...state.foreign]);
  const alone = new Map(state.foreign.map((p) => [p, model([...state.own, p])]));
  const findings = new Map<string, IsolationFinding>();
  for (const pod of pods) {
    for (const other of witnesses.endpoints) {
      for (const probe of witnesses.probes) {
        for (const direction of ['egress', 'ingress'] as const) {
          const allowed = (m: ClusterModel): boolean => (direction === 'egress' ? egressAllowed(m, pod, other, probe) : ingressAllowed(m, pod, other, probe));
          if (!allowed(live) || allowed(expected)) continue;
          const blamed = state.foreign.filter((p) => allowed(alone.get(p)!));
          const objects = blamed.length > 0 ? blamed.map((p) => `NetworkPolicy ${namespace}/${p.metadata.name}`) : [`NetworkPolicies ${state.foreign.map((p) => p.metadata.name).join(', ')} in ${namespace}`];
          const path = direction === 'egress' ? `egress from ${podName(pod)} to ${endpointName(other)} ${probe.protocol} ${probe.port}` : `ingress to ${podName(pod)} from ${endpointName(other)} ${probe.protocol} ${probe.port}`;
          // One finding per object and direction: the first path found says enough.
          for (const object of objects) {
            const key = `${object} ${direction}`;
            if (!findings.has(key)) findings.set(key, { concern: 'network', kind: 'NetworkPolicy', object, path });
          }
        }
      }
    }
  }
  return [...findings.values()];
}

/** The finding when the default-deny policy the spec renders is not live. */
export function defaultDenyDrift(namespace: string, name: string, live: readonly string[]): IsolationFinding[] {
  if (live.includes(name)) return [];
  return [{ concern: 'network', kind: 'DefaultDenyMissing', object: `NetworkPolicy ${namespace}/${name}`, path: 'deleted: pods no other policy selects may reach anything and be reached from anywhere' }];
}

/** Places a foreign policy could open a path to or from: its peers made concrete, the canary, a pod elsewhere; and the ports its rules name. */
function witnessesOf(foreign: readonly NetworkPolicyObject[], namespace: string, canary: string): { endpoints: Endpoint[]; namespaces: NamespaceModel[]; probes: Probe[] } {
  const endpoints: Endpoint[] = [{ ip: canary }, { pod: { namespace: ELSEWHERE.name, name: 'a pod of another namespace', labels: {}, ip: LAST_POD_IP } }];
  const namespaces: NamespaceModel[] = [];
  const probes: Probe[] = [ANY_PORT];
  let next = 1;
  const addPorts = (ports: readonly PolicyPort[] | undefined): void => {
    for (const p of ports ?? []) {
      const probe: Probe = { port: typeof p.port === 'number' ? p.port : ANY_PORT.port, protocol: p.protocol === 'UDP' ? 'UDP' : 'TCP' };
      if (!probes.some((q) => q.port === probe.port && q.protocol === probe.protocol)) probes.push(probe);
    }
  };
  const addPeer = (peer: PolicyPeer): void => {
    if (peer.ipBlock !== undefined) {
      endpoints.push({ ip: outsideExcepts(peer.ipBlock.cidr, peer.ipBlock.except ?? []) });
      return;
    }
    const ip = `10.255.254.${next++ % 250}`;
    let podNamespace = namespace;
    if (peer.namespaceSelector !== undefined) {
      podNamespace = `peer-namespace-${next}`;
      namespaces.push({ name: podNamespace, labels: labelsMatching(peer.namespaceSelector) });
    }
    endpoints.push({ pod: { namespace: podNamespace, name: `a pod matching ${selectorText(peer.podSelector)}${peer.namespaceSelector ? ` in namespaces matching ${selectorText(peer.namespaceSelector)}` : ''}`, labels: labelsMatching(peer.podSelector ?? {}), ip } });
  };
  for (const p of foreign) {
    for (const rule of p.spec.egress ?? []) {
      addPorts(rule.ports);
      for (const peer of rule.to ?? []) addPeer(peer);
    }
    for (const rule of p.spec.ingress ?? []) {
      addPorts(rule.ports);
      for (const peer of rule.from ?? []) addPeer(peer);
    }
  }
  return { endpoints, namespaces, probes };
}

/** An address of the block outside its exceptions (the first, or the one after the first exception). */
function outsideExcepts(cidr: string, except: readonly string[]): string {
  const first = firstAddress(cidr);
  if (except.length === 0) return first;
  // The address just past the first exception's block usually lies outside every exception.
  return addressAfter(except[0]!);
}

/** Labels that a selector matches: its matchLabels, and for expressions one value that satisfies each. */
function labelsMatching(selector: LabelSelector): Record<string, string> {
  const labels = { ...(selector.matchLabels ?? {}) };
  for (const e of selector.matchExpressions ?? []) {
    if (e.operator === 'In' && e.values?.[0] !== undefined) labels[e.key] = e.values[0];
    if (e.operator === 'Exists') labels[e.key] = 'x';
    if (e.operator === 'NotIn') labels[e.key] = `not-${(e.values ?? []).join('-')}`;
  }
  return labels;
}

function selectorText(selector: LabelSelector | undefined): string {
  const parts = [
    ...Object.entries(selector?.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`),
    ...(selector?.matchExpressions ?? []).map((e) => `${e.key} ${e.operator}${e.values ? ` (${e.values.join(',')})` : ''}`),
  ];
  return parts.length > 0 ? parts.join(',') : 'anything';
}

function podName(pod: PodModel): string {
  return pod.name === 'any pod' ? 'any pod of the enclave' : `pods of ${pod.name}`;
}

function endpointName(endpoint: Endpoint): string {
  return 'ip' in endpoint ? endpoint.ip : endpoint.pod.name;
}
