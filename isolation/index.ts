// The isolation analysis: NetworkPolicy reachability over a model of the cluster, reused by the isolation report.
export { canConnect, egressAllowed, ingressAllowed, reachability } from './reachability.ts';
export type { ClusterModel, Endpoint, Flow, NamespaceModel, PodModel, Probe } from './reachability.ts';
export { namespacesOf, podAddresses, podsOf, policiesOf } from './model.ts';
export type { NetworkPolicyObject } from './policy-types.ts';
export { cidrContains, cidrOverlaps, firstAddress, parseCidr } from './cidr.ts';
