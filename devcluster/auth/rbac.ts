// RBAC authorization over the store's Roles, ClusterRoles and bindings: users, groups and service
// accounts as subjects, verbs, API groups, resources and subresources (`pods/log`), resourceNames,
// and non-resource URLs. `system:masters` may do anything, as on a real cluster.
import { BUILTINS } from '../store/builtins.ts';
import type { ClusterStore } from '../store/cluster-store.ts';
import type { KubeObject } from '../store/types.ts';
import type { UserInfo } from './identity.ts';

/** What a request wants to do, as RBAC sees it. */
export interface Attributes {
  verb: string;
  resourceRequest: boolean;
  apiGroup?: string;
  resource?: string;
  subresource?: string;
  namespace?: string;
  name?: string;
  path?: string;
}

interface PolicyRule {
  verbs?: string[];
  apiGroups?: string[];
  resources?: string[];
  resourceNames?: string[];
  nonResourceURLs?: string[];
}

interface Subject {
  kind: string;
  name: string;
  namespace?: string;
}

/** An authorization decision with the reason the real authorizer would give. */
export interface Decision {
  allowed: boolean;
  reason: string;
}

function subjectMatches(s: Subject, user: UserInfo, bindingNs: string | undefined): boolean {
  if (s.kind === 'User') return s.name === user.username;
  if (s.kind === 'Group') return user.groups.includes(s.name);
  if (s.kind === 'ServiceAccount') return user.username === `system:serviceaccount:${s.namespace ?? bindingNs ?? ''}:${s.name}`;
  return false;
}

function has(list: string[] | undefined, v: string): boolean {
  return list !== undefined && (list.includes('*') || list.includes(v));
}

function ruleAllows(rule: PolicyRule, a: Attributes): boolean {
  if (!has(rule.verbs, a.verb)) return false;
  if (!a.resourceRequest) {
    const path = a.path ?? '';
    return (rule.nonResourceURLs ?? []).some((u) => u === '*' || u === path || (u.endsWith('*') && path.startsWith(u.slice(0, -1))));
  }
  if (!has(rule.apiGroups, a.apiGroup ?? '')) return false;
  const full = a.subresource ? `${a.resource}/${a.subresource}` : (a.resource ?? '');
  const resources = rule.resources ?? [];
  const resourceOk = resources.includes('*') || resources.includes(full) || (a.subresource !== undefined && resources.includes(`*/${a.subresource}`));
  if (!resourceOk) return false;
  if (rule.resourceNames && rule.resourceNames.length > 0) return a.name !== undefined && rule.resourceNames.includes(a.name);
  return true;
}

function rulesOf(store: ClusterStore, roleRef: { kind?: string; name?: string } | undefined, ns: string | undefined): PolicyRule[] {
  if (!roleRef?.name) return [];
  const role: KubeObject | undefined =
    roleRef.kind === 'ClusterRole' ? store.peek(BUILTINS.clusterroles, undefined, roleRef.name) : store.peek(BUILTINS.roles, ns, roleRef.name);
  return ((role?.rules as PolicyRule[] | undefined) ?? []);
}

function describe(user: UserInfo, a: Attributes): string {
  if (!a.resourceRequest) return `User "${user.username}" cannot ${a.verb} path "${a.path ?? ''}"`;
  const res = a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
  const scope = a.namespace ? `in the namespace "${a.namespace}"` : 'at the cluster scope';
  return `User "${user.username}" cannot ${a.verb} resource "${res}" in API group "${a.apiGroup ?? ''}" ${scope}`;
}

/** Decides a request against the RBAC objects in the store. */
export function authorize(store: ClusterStore, user: UserInfo, a: Attributes): Decision {
  if (user.groups.includes('system:masters')) return { allowed: true, reason: 'member of system:masters' };
  for (const crb of store.scan(BUILTINS.clusterrolebindings, {})) {
    const subjects = (crb.subjects as Subject[] | undefined) ?? [];
    if (!subjects.some((s) => subjectMatches(s, user, undefined))) continue;
    if (rulesOf(store, crb.roleRef as { kind?: string; name?: string }, undefined).some((r) => ruleAllows(r, a))) {
      return { allowed: true, reason: `RBAC: allowed by ClusterRoleBinding "${crb.metadata.name}"` };
    }
  }
  if (a.namespace) {
    for (const rb of store.scan(BUILTINS.rolebindings, { namespace: a.namespace })) {
      const subjects = (rb.subjects as Subject[] | undefined) ?? [];
      if (!subjects.some((s) => subjectMatches(s, user, a.namespace))) continue;
      if (rulesOf(store, rb.roleRef as { kind?: string; name?: string }, a.namespace).some((r) => ruleAllows(r, a))) {
        return { allowed: true, reason: `RBAC: allowed by RoleBinding "${rb.metadata.name}/${a.namespace}"` };
      }
    }
  }
  return { allowed: false, reason: describe(user, a) };
}

/** The message of a 403 for a denied request. */
export function forbiddenMessage(user: UserInfo, a: Attributes): string {
  const res = a.subresource ? `${a.resource}/${a.subresource}` : (a.resource ?? '');
  const qualified = a.apiGroup ? `${res}.${a.apiGroup}` : res;
  const subject = a.name ? `${qualified} "${a.name}"` : qualified;
  return a.resourceRequest ? `${subject} is forbidden: ${describe(user, a)}` : `forbidden: ${describe(user, a)}`;
}
