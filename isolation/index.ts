// The isolation analysis: NetworkPolicy reachability over a model of the cluster, and member
// access asked of the cluster's authorizer; used by the isolation report and its tests.
export { canConnect, egressAllowed, ingressAllowed, reachability } from './reachability.ts';
export type { ClusterModel, Endpoint, Flow, NamespaceModel, PodModel, Probe } from './reachability.ts';
export { namespacesOf, podAddresses, podsOf, policiesOf } from './model.ts';
export type { NetworkPolicyObject } from './policy-types.ts';
export { cidrContains, cidrOverlaps, firstAddress, parseCidr } from '../api/cidr.ts';
export { ACCESS_PROBES, ACCESS_ROWS, askQuestions, attributesOf, enclaveQuestions, expectedAccess, NON_MEMBER, reviewAccess, subjectsOf, summariseAccess } from './access.ts';
export type { AccessAsker, AccessAttributes, AccessProbe, AccessQuestion, AccessReview, AccessRow, AccessSubject, AccessSummary, EnclaveAccess, ReviewOptions } from './access.ts';
export { subjectAccessReviewer } from './authorizer.ts';
export { defaultDenyDrift, networkDrift, podSecurityDrift } from './drift.ts';
export type { NetworkState } from './drift.ts';
export { accessDrift, bindsSubject } from './access-drift.ts';
export type { BindingView } from './access-drift.ts';
export { describeFindings } from './findings.ts';
export type { FindingKind, IsolationConcern, IsolationFinding } from './findings.ts';
export { bindingGrants, rbacCouldAllow, ruleCovers } from './rbac-rules.ts';
export type { BindingWithRole, PolicyRuleView, RulesOf } from './rbac-rules.ts';
