// Which questions the RBAC authorizer could answer yes, read from the bindings and roles in force:
// a question no rule of any binding naming the subject covers is certainly denied by RBAC, so it
// need not be put to the authorizer. The ones that could be allowed are asked (SubjectAccessReview
// stays the verdict); this only spares asking what RBAC cannot grant. Matching follows RBAC's own:
// `*` for verbs, groups and resources, `resource/subresource` and `*/subresource`, resourceNames.
import type { AccessAttributes, AccessSubject } from './access.ts';
import { bindsSubject } from './access-drift.ts';
import type { BindingView } from './access-drift.ts';

/** One rule of a Role or ClusterRole (resource rules; non-resource URLs never match a catalogue question). */
export interface PolicyRuleView {
  verbs: readonly string[];
  apiGroups?: readonly string[];
  resources?: readonly string[];
  resourceNames?: readonly string[];
}

/** A binding with the role it grants. */
export interface BindingWithRole extends BindingView {
  roleRef: { kind: string; name: string };
}

/** The rules of a Role (by namespace and name) or a ClusterRole (by name); undefined when it does not exist. */
export type RulesOf = (kind: 'Role' | 'ClusterRole', name: string, namespace?: string) => readonly PolicyRuleView[] | undefined;

/** Whether one rule covers the request, as RBAC matches it. */
export function ruleCovers(rule: PolicyRuleView, attributes: AccessAttributes): boolean {
  const verb = rule.verbs.includes('*') || rule.verbs.includes(attributes.verb);
  const group = (rule.apiGroups ?? []).includes('*') || (rule.apiGroups ?? []).includes(attributes.group);
  const combined = attributes.subresource ? `${attributes.resource}/${attributes.subresource}` : attributes.resource;
  const resources = rule.resources ?? [];
  const resource = resources.includes('*') || resources.includes(combined) || (attributes.subresource !== undefined && resources.includes(`*/${attributes.subresource}`));
  const names = rule.resourceNames === undefined || rule.resourceNames.length === 0 || (attributes.name !== undefined && rule.resourceNames.includes(attributes.name));
  return verb && group && resource && names;
}

/** Whether a binding's role has a rule covering the request (a binding whose role is missing grants nothing, as in RBAC). */
export function bindingGrants(binding: BindingWithRole, attributes: AccessAttributes, rulesOf: RulesOf): boolean {
  const kind = binding.roleRef.kind === 'Role' ? 'Role' : 'ClusterRole';
  const rules = rulesOf(kind, binding.roleRef.name, kind === 'Role' ? binding.namespace : undefined) ?? [];
  return rules.some((rule) => ruleCovers(rule, attributes));
}

/**
 * Whether RBAC could allow `subject` the request: some binding in force for its namespace (a
 * RoleBinding there, or any ClusterRoleBinding) names the subject and grants a role with a rule
 * covering it.
 */
export function rbacCouldAllow(subject: AccessSubject, attributes: AccessAttributes, bindings: readonly BindingWithRole[], rulesOf: RulesOf): boolean {
  return bindings.some((binding) => (binding.kind === 'ClusterRoleBinding' || binding.namespace === attributes.namespace) && bindsSubject(binding, subject) && bindingGrants(binding, attributes, rulesOf));
}
