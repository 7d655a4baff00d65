// The RBAC side of isolation: what each member of each enclave may do, asked of the cluster's own
// authorizer (SubjectAccessReview, as `kubectl auth can-i --as` asks it), and compared with what
// the enclaves' specs name. The expectation is written here from the meaning of the member roles
// in the API (api/enclave.ts), not read from the Roles the constructs render, so a Role that grants
// too much or too little shows up as a difference.
import { accessActive } from '../api/access.ts';
import { enclaveNamespace, MEMBER_ROLES, WORKSPACE_ROLES } from '../api/enclave.ts';
import type { EnclaveSpec, MemberRole } from '../api/enclave.ts';
import { GROUP } from '../api/meta.ts';

/** What a request would do, as SubjectAccessReview's resourceAttributes spell it (no namespace: cluster scope). */
export interface AccessAttributes {
  verb: string;
  group: string;
  resource: string;
  subresource?: string;
  name?: string;
  namespace?: string;
}

/** Who is asking, as the authenticator would report them. */
export interface AccessSubject {
  /** How the report names them, unique in a report: `lead j.patel@ucl.ac.uk of iso-0001`, `non-member`. */
  label: string;
  user: string;
  groups: string[];
  /** The member role and the enclave it is held in; absent for subjects no spec names. */
  role?: MemberRole;
  enclave?: string;
  /** Whether the enclave's access is active, so its members' roles are in force. */
  active?: boolean;
}

/** One question of the catalogue, in a member's own enclave namespace or at cluster scope. */
export interface AccessProbe {
  /** The row of the report it counts towards. */
  row: string;
  verb: string;
  group: string;
  resource: string;
  subresource?: string;
  /** Cluster-scoped (`own`: named after the subject's own enclave or its namespace). */
  cluster?: 'any' | 'own';
  /** The member roles the API gives this in their own enclave's namespace; none elsewhere. */
  roles: readonly MemberRole[];
}

/** The question put to the authorizer and its answer, with what the specs say it should be. */
export interface AccessReview {
  subject: AccessSubject;
  attributes: AccessAttributes;
  row: string;
  expected: boolean;
  allowed: boolean;
}

/** Asks the cluster whether `subject` may do `attributes`. */
export type AccessAsker = (subject: AccessSubject, attributes: AccessAttributes) => Promise<boolean>;

const NOBODY: readonly MemberRole[] = [];
const CORE = '';

/** Rows of the report, in the order printed. */
export const ACCESS_ROWS = [
  'read workspaces, federated jobs, their status, pods and logs',
  'create, change and delete workspaces and federated jobs',
  'read events and the quota',
  'see volume claims (PersistentVolumeClaims); no member writes one',
  'write a workspace or job status',
  'create or delete pods; exec, attach, port-forward, debug',
  'read Secrets or ConfigMaps',
  'change NetworkPolicies, the quota or limits',
  'grant access: RoleBindings, bind, escalate, tokens, impersonate',
  'change workloads directly: StatefulSets, Deployments, Jobs, Services',
  'cluster scope: Enclaves (their own too), Namespaces, volumes, nodes, lists across namespaces',
] as const;
const [READ, RUN, OBSERVE, CLAIMS, STATUS, PODS, SECRETS, NETWORK, GRANT, WORKLOADS, CLUSTER] = ACCESS_ROWS;

const probe = (row: string, verb: string, group: string, resource: string, roles: readonly MemberRole[], extra: Partial<AccessProbe> = {}): AccessProbe => ({ row, verb, group, resource, roles, ...extra });

/**
 * The catalogue: every question asked of every member. The roles' meaning (api/enclave.ts):
 * researcher runs workspaces and federated jobs; lead, in addition, reads events and quotas;
 * data-manager, in addition, sees the enclave's volume claims (claims are the operator's alone:
 * no member creates, changes or deletes one); output-checker is read-only.
 */
export const ACCESS_PROBES: readonly AccessProbe[] = [
  ...['get', 'list', 'watch'].flatMap((verb) => [probe(READ, verb, GROUP, 'workspaces', MEMBER_ROLES), probe(READ, verb, GROUP, 'federatedjobs', MEMBER_ROLES)]),
  probe(READ, 'get', GROUP, 'workspaces', MEMBER_ROLES, { subresource: 'status' }),
  probe(READ, 'get', GROUP, 'federatedjobs', MEMBER_ROLES, { subresource: 'status' }),
  probe(READ, 'get', CORE, 'pods', MEMBER_ROLES),
  probe(READ, 'list', CORE, 'pods', MEMBER_ROLES),
  probe(READ, 'get', CORE, 'pods', MEMBER_ROLES, { subresource: 'log' }),
  ...['create', 'update', 'patch', 'delete'].flatMap((verb) => [probe(RUN, verb, GROUP, 'workspaces', WORKSPACE_ROLES), probe(RUN, verb, GROUP, 'federatedjobs', WORKSPACE_ROLES)]),
  probe(OBSERVE, 'list', CORE, 'events', ['lead']),
  probe(OBSERVE, 'list', 'events.k8s.io', 'events', ['lead']),
  probe(OBSERVE, 'get', CORE, 'resourcequotas', ['lead']),
  ...['get', 'list'].map((verb) => probe(CLAIMS, verb, CORE, 'persistentvolumeclaims', ['data-manager'])),
  ...['create', 'update', 'patch', 'delete'].map((verb) => probe(CLAIMS, verb, CORE, 'persistentvolumeclaims', NOBODY)),
  ...['update', 'patch'].flatMap((verb) => [probe(STATUS, verb, GROUP, 'workspaces', NOBODY, { subresource: 'status' }), probe(STATUS, verb, GROUP, 'federatedjobs', NOBODY, { subresource: 'status' })]),
  probe(PODS, 'create', CORE, 'pods', NOBODY),
  probe(PODS, 'delete', CORE, 'pods', NOBODY),
  probe(PODS, 'create', CORE, 'pods', NOBODY, { subresource: 'exec' }),
  probe(PODS, 'get', CORE, 'pods', NOBODY, { subresource: 'exec' }),
  probe(PODS, 'create', CORE, 'pods', NOBODY, { subresource: 'attach' }),
  probe(PODS, 'create', CORE, 'pods', NOBODY, { subresource: 'portforward' }),
  probe(PODS, 'patch', CORE, 'pods', NOBODY, { subresource: 'ephemeralcontainers' }),
  probe(SECRETS, 'get', CORE, 'secrets', NOBODY),
  probe(SECRETS, 'list', CORE, 'secrets', NOBODY),
  probe(SECRETS, 'get', CORE, 'configmaps', NOBODY),
  ...['create', 'patch', 'delete'].map((verb) => probe(NETWORK, verb, 'networking.k8s.io', 'networkpolicies', NOBODY)),
  probe(NETWORK, 'update', CORE, 'resourcequotas', NOBODY),
  probe(NETWORK, 'patch', CORE, 'limitranges', NOBODY),
  probe(GRANT, 'create', 'rbac.authorization.k8s.io', 'rolebindings', NOBODY),
  probe(GRANT, 'patch', 'rbac.authorization.k8s.io', 'roles', NOBODY),
  probe(GRANT, 'bind', 'rbac.authorization.k8s.io', 'roles', NOBODY),
  probe(GRANT, 'escalate', 'rbac.authorization.k8s.io', 'roles', NOBODY),
  probe(GRANT, 'create', CORE, 'serviceaccounts', NOBODY, { subresource: 'token' }),
  probe(GRANT, 'impersonate', CORE, 'serviceaccounts', NOBODY),
  probe(WORKLOADS, 'patch', 'apps', 'statefulsets', NOBODY),
  probe(WORKLOADS, 'create', 'apps', 'deployments', NOBODY),
  probe(WORKLOADS, 'create', 'batch', 'jobs', NOBODY),
  probe(WORKLOADS, 'create', CORE, 'services', NOBODY),
  probe(WORKLOADS, 'delete', CORE, 'services', NOBODY),
  ...['get', 'update', 'patch', 'delete'].map((verb) => probe(CLUSTER, verb, GROUP, 'enclaves', NOBODY, { cluster: 'own' })),
  probe(CLUSTER, 'delete', CORE, 'namespaces', NOBODY, { cluster: 'own' }),
  probe(CLUSTER, 'list', CORE, 'persistentvolumes', NOBODY, { cluster: 'any' }),
  probe(CLUSTER, 'delete', CORE, 'persistentvolumes', NOBODY, { cluster: 'any' }),
  probe(CLUSTER, 'list', CORE, 'nodes', NOBODY, { cluster: 'any' }),
  probe(CLUSTER, 'list', GROUP, 'workspaces', NOBODY, { cluster: 'any' }),
  probe(CLUSTER, 'list', CORE, 'pods', NOBODY, { cluster: 'any' }),
  probe(CLUSTER, 'create', 'rbac.authorization.k8s.io', 'clusterrolebindings', NOBODY, { cluster: 'any' }),
  probe(CLUSTER, 'impersonate', CORE, 'users', NOBODY, { cluster: 'any' }),
];

/** Probes asked in every other enclave's namespace, not only the sampled ones: the widest grants. */
export const EVERYWHERE_PROBES: readonly AccessProbe[] = ACCESS_PROBES.filter((p) => p.cluster === undefined && p.verb === 'list' && (p.resource === 'workspaces' || p.resource === 'pods'));

/** An enclave as the report reads it: its name and the spec's members and access period. */
export interface EnclaveAccess {
  name: string;
  spec: Pick<EnclaveSpec, 'members' | 'access'>;
}

/**
 * The subjects an enclave's spec names, and its workload ServiceAccount: a user member as
 * herself, a group member as a user who belongs to that group only (as `--as-group` would).
 */
export function subjectsOf(enclave: EnclaveAccess, now: Date): AccessSubject[] {
  const active = accessActive(enclave.spec.access, now);
  const members = enclave.spec.members.map((m): AccessSubject => m.user !== undefined
    ? { label: `${m.role} ${m.user} of ${enclave.name}`, user: m.user, groups: ['system:authenticated'], role: m.role, enclave: enclave.name, active }
    : { label: `${m.role} group ${m.group} of ${enclave.name}`, user: `a-member-of:${m.group}`, groups: [m.group ?? '', 'system:authenticated'], role: m.role, enclave: enclave.name, active });
  const namespace = enclaveNamespace(enclave.name);
  const workload: AccessSubject = { label: `workload ServiceAccount of ${enclave.name}`, user: `system:serviceaccount:${namespace}:workload`, groups: ['system:serviceaccounts', `system:serviceaccounts:${namespace}`, 'system:authenticated'], enclave: enclave.name };
  return [...members, workload];
}

/** A subject no spec names: an authenticated user of the site. */
export const NON_MEMBER: AccessSubject = { label: 'non-member', user: 'visitor@sde.example', groups: ['system:authenticated'] };

/** What the specs allow: a member's role, in its own enclave's namespace, while access is active; nothing else. */
export function expectedAccess(subject: AccessSubject, p: AccessProbe, namespace: string | undefined): boolean {
  if (subject.role === undefined || subject.enclave === undefined || subject.active !== true) return false;
  return p.cluster === undefined && namespace === enclaveNamespace(subject.enclave) && p.roles.includes(subject.role);
}

/** The request a probe of the catalogue makes for `subject`, in `namespace` (none: cluster scope). */
export function attributesOf(p: AccessProbe, namespace: string | undefined, subject: AccessSubject): AccessAttributes {
  const attributes: AccessAttributes = { verb: p.verb, group: p.group, resource: p.resource };
  if (p.subresource !== undefined) attributes.subresource = p.subresource;
  if (p.cluster === 'own' && subject.enclave !== undefined) attributes.name = p.resource === 'namespaces' ? enclaveNamespace(subject.enclave) : subject.enclave;
  if (p.cluster === undefined && namespace !== undefined) attributes.namespace = namespace;
  return attributes;
}

/** Options of {@link reviewAccess}. */
export interface ReviewOptions {
  /** Other enclaves' namespaces each subject is asked the whole catalogue in (the next ones, wrapping round); default 3. */
  neighbours?: number;
  /** Reviews in flight at once; default 16. */
  concurrency?: number;
  now?: Date;
}

/**
 * Asks the cluster the whole catalogue for every subject the enclaves name, the workload
 * ServiceAccounts and a non-member: in the subject's own namespace, in `neighbours` other
 * enclaves' namespaces, at cluster scope, and {@link EVERYWHERE_PROBES} in every enclave namespace.
 */
export async function reviewAccess(enclaves: readonly EnclaveAccess[], ask: AccessAsker, options: ReviewOptions = {}): Promise<AccessReview[]> {
  const now = options.now ?? new Date();
  const neighbours = Math.min(options.neighbours ?? 3, Math.max(enclaves.length - 1, 0));
  const namespaces = enclaves.map((e) => enclaveNamespace(e.name));
  const questions: AccessQuestion[] = [];
  const askAll = (subject: AccessSubject, home: number | undefined): void => {
    const sampled = home === undefined ? namespaces.slice(0, neighbours + 1) : Array.from({ length: neighbours + 1 }, (_, k) => namespaces[(home + k) % namespaces.length]!);
    for (const p of ACCESS_PROBES) {
      if (p.cluster !== undefined) questions.push({ subject, probe: p, namespace: undefined });
      else for (const namespace of sampled) questions.push({ subject, probe: p, namespace });
    }
    for (const p of EVERYWHERE_PROBES) for (const namespace of namespaces) if (!sampled.includes(namespace)) questions.push({ subject, probe: p, namespace });
  };
  enclaves.forEach((enclave, index) => {
    for (const subject of subjectsOf(enclave, now)) askAll(subject, index);
  });
  askAll(NON_MEMBER, undefined);

  return askQuestions(questions, ask, options.concurrency);
}

/** One question for the authorizer: who asks, which probe of the catalogue, in which namespace (none: cluster scope). */
export interface AccessQuestion {
  subject: AccessSubject;
  probe: AccessProbe;
  namespace: string | undefined;
}

/**
 * The questions that can find a permission beyond one enclave's spec: the whole catalogue for
 * each subject its spec names (in its namespace and at cluster scope) and, in its namespace, for
 * each of `outsiders` (a member of another enclave, a non-member). A question the spec allows is
 * left out: its answer cannot go beyond the spec.
 */
export function enclaveQuestions(enclave: EnclaveAccess, outsiders: readonly AccessSubject[], now: Date): AccessQuestion[] {
  const namespace = enclaveNamespace(enclave.name);
  const questions: AccessQuestion[] = [];
  for (const subject of subjectsOf(enclave, now)) {
    for (const p of ACCESS_PROBES) {
      const where = p.cluster === undefined ? namespace : undefined;
      if (!expectedAccess(subject, p, where)) questions.push({ subject, probe: p, namespace: where });
    }
  }
  for (const subject of outsiders) for (const p of ACCESS_PROBES) if (p.cluster === undefined) questions.push({ subject, probe: p, namespace });
  return questions;
}

/** Asks every question, `concurrency` at a time (default 16), and pairs each answer with what the specs expect. */
export async function askQuestions(questions: readonly AccessQuestion[], ask: AccessAsker, concurrency = 16): Promise<AccessReview[]> {
  const reviews: AccessReview[] = new Array(questions.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < questions.length) {
      const index = next++;
      const { subject, probe: p, namespace } = questions[index]!;
      const attributes = attributesOf(p, namespace, subject);
      reviews[index] = { subject, attributes, row: p.row, expected: expectedAccess(subject, p, namespace), allowed: await ask(subject, attributes) };
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return reviews;
}

/** One line of the printed matrix: per role in its own namespace, and for everyone elsewhere, allowed of asked. */
export interface AccessRow {
  row: string;
  ownNamespace: Record<MemberRole, { allowed: number; asked: number }>;
  /** Members in other enclaves' namespaces and at cluster scope, workload ServiceAccounts and the non-member: allowed of asked. */
  elsewhere: { allowed: number; asked: number };
}

/** The matrix and its verdict: reviews allowed that no spec names, and reviews denied that one does. */
export interface AccessSummary {
  reviews: number;
  rows: AccessRow[];
  beyondSpecs: AccessReview[];
  missing: AccessReview[];
}

/** Tallies reviews into the printed rows and picks out every difference from the specs. */
export function summariseAccess(reviews: readonly AccessReview[]): AccessSummary {
  const rows = new Map<string, AccessRow>(ACCESS_ROWS.map((row) => [row, {
    row,
    ownNamespace: Object.fromEntries(MEMBER_ROLES.map((role) => [role, { allowed: 0, asked: 0 }])) as AccessRow['ownNamespace'],
    elsewhere: { allowed: 0, asked: 0 },
  }]));
  for (const r of reviews) {
    const row = rows.get(r.row)!;
    const { role, enclave } = r.subject;
    const cell = role !== undefined && enclave !== undefined && r.attributes.namespace === enclaveNamespace(enclave) ? row.ownNamespace[role] : row.elsewhere;
    cell.asked += 1;
    if (r.allowed) cell.allowed += 1;
  }
  return {
    reviews: reviews.length,
    rows: [...rows.values()],
    beyondSpecs: reviews.filter((r) => r.allowed && !r.expected),
    missing: reviews.filter((r) => !r.allowed && r.expected),
  };
}
