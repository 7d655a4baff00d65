// What the admission webhooks decide (Five Safes "safe people"): authors act for themselves, who
// submitted a federated job and who changed an enclave's access come from the request, and the
// access record only grows. Pure: a request, the enclave and the site in, a decision out.
import { accessChangeProblems } from '../../api/access.ts';
import { enclaveSpec } from '../../api/enclave.ts';
import type { Enclave } from '../../api/enclave.ts';
import { ACCESS_CHANGED_BY, SUBMITTED_BY } from '../../api/labels.ts';
import type { SiteConfig } from '../../api/siteconfig.ts';
import { AUTO_WORKSPACE_PREFIX } from '../../api/membership.ts';
import { jsonEqual } from '../runtime/index.ts';
import { ALLOW, deny, setAnnotation } from './review.ts';
import type { AdmissionRequest, Decision, UserInfo } from './review.ts';

/**
 * Who acts for anyone: cluster administrators (`system:masters`), Kubernetes' own controllers
 * (`system:serviceaccounts:kube-system` or `system:kube-controller-manager`: the garbage collector
 * and namespace controller delete what an enclave held), the operator itself (auto-provisioned workspaces), and the groups a site
 * names for its platform engineers.
 */
export interface Trusted {
  operatorUser: string;
  groups: readonly string[];
}

const ALWAYS_TRUSTED_GROUPS = ['system:masters', 'system:serviceaccounts:kube-system'];
// The controller manager's own user, when it runs without --use-service-account-credentials.
const ALWAYS_TRUSTED_USERS = ['system:kube-controller-manager'];

function isTrusted(user: UserInfo, trusted: Trusted): boolean {
  if (user.username === trusted.operatorUser || ALWAYS_TRUSTED_USERS.includes(user.username ?? '')) return true;
  return (user.groups ?? []).some((group) => ALWAYS_TRUSTED_GROUPS.includes(group) || trusted.groups.includes(group));
}

/** True when `user` holds the lead role in `enclave`: as a named user, or through a group the request or the site names. */
function isLead(user: UserInfo, enclave: Enclave | undefined, site: SiteConfig): boolean {
  const name = user.username ?? '';
  return (enclave?.spec.members ?? []).some((member) => {
    if (member.role !== 'lead') return false;
    if (member.user !== undefined) return member.user === name;
    const group = member.group ?? '';
    return (user.groups ?? []).includes(group) || (site.groups?.[group] ?? []).includes(name);
  });
}

const spec = (object: Record<string, unknown> | null | undefined): Record<string, unknown> => (object?.spec ?? {}) as Record<string, unknown>;
const annotation = (object: Record<string, unknown> | null | undefined, key: string): string | undefined => (object?.metadata as { annotations?: Record<string, string> } | undefined)?.annotations?.[key];
const VERBS = { CREATE: 'create', UPDATE: 'change', DELETE: 'delete', CONNECT: 'connect to' } as const;

/**
 * A Workspace is created, changed or deleted only by the member its `spec.owner` names (before
 * and after a change, so none is handed to or taken from another), or by a lead of its enclave
 * for any member; `auto-` names are the operator's (a member's auto-provisioned workspace).
 */
export function workspaceAuthorship(request: AdmissionRequest, enclave: Enclave | undefined, site: SiteConfig, trusted: Trusted): Decision {
  const user = request.userInfo;
  if (isTrusted(user, trusted)) return ALLOW;
  const name = request.name ?? (request.object?.metadata as { name?: string } | undefined)?.name ?? '';
  if (request.operation === 'CREATE' && name.startsWith(AUTO_WORKSPACE_PREFIX)) {
    return deny(`metadata.name: expected a name not starting with "${AUTO_WORKSPACE_PREFIX}", which the operator gives the workspaces it provisions for members; found "${name}"`);
  }
  const owners = new Set<string>();
  if (request.operation !== 'CREATE') owners.add(String(spec(request.oldObject).owner ?? ''));
  if (request.operation !== 'DELETE') owners.add(String(spec(request.object).owner ?? ''));
  for (const owner of owners) {
    if (owner === user.username || isLead(user, enclave, site)) continue;
    return deny(`spec.owner: ${user.username ?? 'this user'} may ${VERBS[request.operation]} only their own Workspaces (a lead of the enclave may for any member); found one owned by "${owner}"`);
  }
  return ALLOW;
}

/**
 * A FederatedJob is changed or deleted only by whoever submitted it (as recorded at admission) or
 * by a lead of its enclave. Creating one is RBAC's to allow; the submitter is then recorded.
 */
export function federatedJobAuthorship(request: AdmissionRequest, enclave: Enclave | undefined, site: SiteConfig, trusted: Trusted): Decision {
  const user = request.userInfo;
  if (request.operation === 'CREATE' || isTrusted(user, trusted)) return ALLOW;
  const submitter = annotation(request.oldObject, SUBMITTED_BY);
  if ((submitter !== undefined && submitter === user.username) || isLead(user, enclave, site)) return ALLOW;
  return deny(`metadata.annotations.${SUBMITTED_BY}: ${user.username ?? 'this user'} may ${VERBS[request.operation]} only the federated jobs they submitted (a lead of the enclave may any); this one was submitted by ${submitter ?? 'someone not recorded'}`);
}

/**
 * Records who submitted a FederatedJob from the request, whatever the request says: on create
 * the requesting user; on a change, the submitter as recorded before (absent stays absent).
 */
export function recordSubmitter(request: AdmissionRequest): Decision {
  if (!request.object) return ALLOW;
  const submitter = request.operation === 'CREATE' ? request.userInfo.username : annotation(request.oldObject, SUBMITTED_BY);
  return { allowed: true, patch: setAnnotation(request.object, SUBMITTED_BY, submitter) };
}

/**
 * Records who last changed an Enclave's access period from the request: the requesting user on
 * create and on any change of `spec.access`; otherwise the name recorded before, so nobody can
 * write another name there.
 */
export function recordAccessChange(request: AdmissionRequest): Decision {
  if (!request.object) return ALLOW;
  const changed = request.operation === 'CREATE' || !jsonEqual(spec(request.oldObject).access, spec(request.object).access);
  const by = changed ? request.userInfo.username : annotation(request.oldObject, ACCESS_CHANGED_BY);
  return { allowed: true, patch: setAnnotation(request.object, ACCESS_CHANGED_BY, by) };
}

/**
 * The access record only grows: `validFrom` and `expiresAt` are fixed once set, and extensions
 * are appended, never removed or edited, each ending later than the end before it. A spec that
 * does not parse is left to the schema.
 */
export function accessRecordKept(request: AdmissionRequest): Decision {
  if (request.operation !== 'UPDATE') return ALLOW;
  const before = enclaveSpec.shape.access.safeParse(spec(request.oldObject).access);
  const after = enclaveSpec.shape.access.safeParse(spec(request.object).access);
  if (!before.success || !after.success) return ALLOW;
  const problems = accessChangeProblems(before.data, after.data);
  return problems.length === 0 ? ALLOW : deny(problems.map((p) => `${p.field}: ${p.message}`).join('; '));
}
