// Who may do what in an enclave: the workload ServiceAccount, one Role per member role and one
// RoleBinding per member. No role reads Secrets, execs into pods, creates pods directly or
// writes a volume claim.
import * as kplus from 'cdk8s-plus-27';
import type { Construct } from 'constructs';
import type { V1PolicyRule } from '@kubernetes/client-node';
import { enclaveNamespace, MEMBER_ROLES } from '../api/enclave.ts';
import type { Enclave, Member, MemberRole } from '../api/enclave.ts';
import { GROUP } from '../api/meta.ts';
import { enclaveChildLabels } from './labels.ts';
import { memberName } from '../api/names.ts';
import type { OwnerReference } from './objects.ts';
import { PlainApiObject } from './objects.ts';

/** The ServiceAccount every enclave workload runs as; it holds no token and no permissions. */
export const WORKLOAD_SERVICE_ACCOUNT = 'workload';

const READ = ['get', 'list', 'watch'];
const MANAGE = ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'];

const researcher: V1PolicyRule[] = [
  { apiGroups: [GROUP], resources: ['workspaces', 'federatedjobs'], verbs: MANAGE },
  { apiGroups: [GROUP], resources: ['workspaces/status', 'federatedjobs/status'], verbs: READ },
  { apiGroups: [''], resources: ['pods', 'pods/log'], verbs: READ },
];
const observe: V1PolicyRule[] = [
  { apiGroups: [''], resources: ['events', 'resourcequotas'], verbs: READ },
  { apiGroups: ['events.k8s.io'], resources: ['events'], verbs: READ },
];

/** The rules of each member role's Role; a table so the tests can prove none grants Secrets, exec or pod creation. */
export const ROLE_RULES: Readonly<Record<MemberRole, V1PolicyRule[]>> = {
  researcher,
  lead: [...researcher, ...observe],
  // Claims are the operator's: a member who could make one could bind any unclaimed volume
  // (another project's data) by volumeName and mount it read-write as a home.
  'data-manager': [...researcher, { apiGroups: [''], resources: ['persistentvolumeclaims'], verbs: READ }],
  'output-checker': [
    { apiGroups: [GROUP], resources: ['workspaces', 'federatedjobs', 'workspaces/status', 'federatedjobs/status'], verbs: READ },
    { apiGroups: [''], resources: ['pods', 'pods/log'], verbs: READ },
  ],
};

/** The Role granted to members with `role`. */
export function roleName(role: MemberRole): string {
  return `sde-${role}`;
}

/** The RoleBinding of one member: stable per (role, user or group), distinct for users and groups. */
export function roleBindingName(member: Member): string {
  const subject = member.user !== undefined ? `user:${member.user}` : `group:${member.group ?? ''}`;
  return memberName(`member-${member.role}`, subject);
}

/**
 * Renders the workload ServiceAccount (no token mounted), the four member Roles and, only while
 * access is active, one RoleBinding per member (user or group).
 */
export function addEnclaveAccess(scope: Construct, enclave: Enclave, accessActive: boolean, ownerReferences: OwnerReference[] | undefined): void {
  const namespace = enclaveNamespace(enclave.metadata.name);
  const labels = enclaveChildLabels(enclave, 'rbac');
  new kplus.ServiceAccount(scope, 'workload-sa', {
    metadata: { name: WORKLOAD_SERVICE_ACCOUNT, namespace, labels, ownerReferences },
    automountToken: false,
  });
  for (const role of MEMBER_ROLES) {
    new PlainApiObject(scope, `role-${role}`, {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata: { name: roleName(role), namespace, labels, ownerReferences },
      rules: ROLE_RULES[role],
    });
  }
  if (!accessActive) return;
  const seen = new Set<string>();
  for (const member of enclave.spec.members) {
    const name = roleBindingName(member);
    if (seen.has(name)) continue;
    seen.add(name);
    const subject = member.user !== undefined
      ? { kind: 'User', name: member.user, apiGroup: 'rbac.authorization.k8s.io' }
      : { kind: 'Group', name: member.group, apiGroup: 'rbac.authorization.k8s.io' };
    new PlainApiObject(scope, `binding-${name}`, {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name, namespace, labels, ownerReferences },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: roleName(member.role) },
      subjects: [subject],
    });
  }
}
