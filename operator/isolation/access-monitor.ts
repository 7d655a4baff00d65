// The access side of the isolation monitor: for each enclave, the catalogue's questions for the
// members its spec names, its workload ServiceAccount, a member of another enclave and a
// non-member. Those the spec does not allow and RBAC's rules in force could grant are asked of the
// cluster's authorizer (SubjectAccessReview); answers beyond the spec are blamed on the bindings
// that name the subject. Asked again when a binding that could matter changes,
// when the enclave's members or access change, and once a period; the results go to the store,
// and under `onDrift: revert` the foreign bindings blamed are deleted.
import { createHash } from 'node:crypto';
import type { KubernetesObject } from '@kubernetes/client-node';
import { accessActive } from '../../api/access.ts';
import { enclave as enclaveSchema, enclaveNamespace } from '../../api/enclave.ts';
import type { Enclave } from '../../api/enclave.ts';
import { durationMs } from '../../api/duration.ts';
import type { SiteConfig } from '../../api/siteconfig.ts';
import { accessDrift, askQuestions, attributesOf, bindingGrants, bindsSubject, enclaveQuestions, NON_MEMBER, rbacCouldAllow, subjectsOf } from '../../isolation/index.ts';
import type { AccessAsker, AccessSubject, BindingView, BindingWithRole, IsolationFinding, PolicyRuleView, RulesOf } from '../../isolation/index.ts';
import { enclaveKeyOf } from '../enclave/lookup.ts';
import { isOperatorOwned } from '../identity.ts';
import { checkSpec } from '../spec-check.ts';
import { Everyone, SdeKinds } from '../kinds.ts';
import { Kinds } from '../runtime/index.ts';
import type { CacheEvent, ControllerOptions, KubeClient, ReconcileContext, ReconcileResult } from '../runtime/index.ts';
import { SortedNames } from './neighbours.ts';
import type { IsolationStore } from './store.ts';

/** What the access monitor needs: the site, where findings go, how to ask the authorizer, a clock. */
export interface AccessMonitorOptions {
  site: SiteConfig;
  store: IsolationStore;
  ask: AccessAsker;
  now?: () => Date;
  /** Keys of every enclave (a ClusterRoleBinding can concern any of them). */
  enclaveKeys: () => string[];
}

/** An {@link AccessAsker} that posts a SubjectAccessReview through the operator's client (its User-Agent, its request counts). */
export function subjectAccessReviews(client: KubeClient): AccessAsker {
  return async (subject, attributes) => {
    const review = await client.review(Kinds.SubjectAccessReview, {
      apiVersion: Kinds.SubjectAccessReview.apiVersion,
      kind: Kinds.SubjectAccessReview.kind,
      spec: { user: subject.user, groups: subject.groups, resourceAttributes: attributes },
    } as KubernetesObject);
    return (review as { status?: { allowed?: boolean } }).status?.allowed === true;
  };
}

/** Per enclave, when the authorizer was last asked, and digests of what about and of what the questions came from. */
interface Asked {
  fingerprint: string;
  inputs: string;
  at: number;
}

/** Changes closer together than this are asked about once. */
const DEBOUNCE_MS = 1_000;

type Binding = KubernetesObject & { subjects?: { kind: string; name: string; namespace?: string }[]; roleRef?: { kind?: string; name?: string } };

/** The access monitor's controller options (`manager.add(accessMonitorController(...))`). */
export function accessMonitorController(options: AccessMonitorOptions): ControllerOptions {
  const asked = new Map<string, Asked>();
  // Made at the first reconcile, when the manager's Enclave cache exists, and kept with it.
  let names: SortedNames | undefined;
  const enclaveNames = (ctx: ReconcileContext): SortedNames => (names ??= new SortedNames(ctx.cache(SdeKinds.Enclave)));
  return {
    name: 'isolation',
    primary: SdeKinds.Enclave,
    watches: [
      { type: Everyone.RoleBinding, mapToKeys: enclaveKeyOf, changes: foreignBindingChange },
      { type: Everyone.ClusterRoleBinding, mapToKeys: () => options.enclaveKeys() },
      { type: Everyone.Role, mapToKeys: enclaveKeyOf },
      { type: Everyone.ClusterRole, mapToKeys: () => options.enclaveKeys() },
    ],
    // Each enclave is asked about on its own, a few at a time: the authorizer answers every question.
    concurrency: 2,
    reconcile: (key, ctx) => checkAccess(key, ctx, options, asked, enclaveNames(ctx)),
  };
}

/**
 * True unless the binding was the operator's own before and after the change. Only foreign
 * bindings are judged here, so making or revoking the operator's own (an enclave's creation and
 * its expiry: 3 or more per enclave, all at once across a site) asks nothing. A label added or
 * removed still counts: the binding crossed between the two.
 */
export function foreignBindingChange(event: CacheEvent): boolean {
  return !(isOperatorOwned(event.object) && (event.previous === undefined || isOperatorOwned(event.previous)));
}

async function checkAccess(key: string, ctx: ReconcileContext, options: AccessMonitorOptions, asked: Map<string, Asked>, names: SortedNames): Promise<ReconcileResult> {
  const live = ctx.primary();
  const period = durationMs(options.site.isolation.period);
  if (live === undefined || live.metadata?.deletionTimestamp || (live as { spec?: { site?: unknown } }).spec?.site !== options.site.site) {
    asked.delete(key);
    options.store.forget(key);
    return;
  }
  const checked = checkSpec(enclaveSchema, live);
  // An invalid spec names no members to ask about; the Enclave controller reports it.
  if (!checked.ok) return;
  // A burst of changes (an enclave's own bindings and roles being made) is judged once, after it.
  const last = asked.get(key);
  const since = last === undefined ? Infinity : Date.now() - last.at;
  if (since < DEBOUNCE_MS) return { requeueAfter: DEBOUNCE_MS - since };
  const enclave = checked.value;
  const now = options.now?.() ?? new Date();
  const namespace = enclaveNamespace(enclave.metadata.name);
  const bindings = bindingsInForce(ctx, namespace);
  const outsiders = [outsiderOf(ctx, names, enclave, now), NON_MEMBER].filter((s): s is AccessSubject => s !== undefined);
  // Only what a foreign binding's rules could grant is asked: the rest RBAC certainly denies, or
  // grants through the operator's own bindings, which follow the spec (given at the start of
  // access, revoked at its end, put back when changed) and are the Enclave controller's to judge.
  // Judging those here too would race each revocation and report a breach at every expiry.
  const rulesOf = rulesFromCaches(ctx);
  const foreign = bindings.filter((b) => !b.own);
  // Everything the questions below are drawn from, as a digest: the spec, whether access is
  // active, the outsider asked about, and each foreign binding and the role it grants, by
  // resourceVersion. Unchanged (the enclave's status moved, its own bindings came or went),
  // the rule matching is not done again: at a site's creation or expiry that is most reconciles.
  const inputs = digest([live.metadata?.uid, live.metadata?.generation, accessActive(enclave.spec.access, now), outsiders.map((s) => s.user), foreign.map((b) => [b.kind, b.namespace, b.name, b.version, roleVersion(ctx, b)])]);
  if (last?.inputs === inputs && since < period) return { requeueAfter: period - since };
  // The foreign bindings naming each subject, found once per subject rather than once per
  // question (a real cluster has dozens of system ClusterRoleBindings, the catalogue hundreds of
  // questions): most subjects are named by none, and their questions need no rule matching.
  const naming = new Map<AccessSubject, BindingWithRole[]>();
  const namingOf = (subject: AccessSubject): BindingWithRole[] => {
    let found = naming.get(subject);
    if (found === undefined) naming.set(subject, (found = foreign.filter((b) => bindsSubject(b, subject))));
    return found;
  };
  const questions = enclaveQuestions({ name: enclave.metadata.name, spec: enclave.spec }, outsiders, now)
    .filter((q) => namingOf(q.subject).length > 0 && rbacCouldAllow(q.subject, attributesOf(q.probe, q.namespace, q.subject), namingOf(q.subject), rulesOf));
  // Kept as a digest: the JSON names every foreign binding (a real cluster's system
  // ClusterRoleBindings too), 6.5 kB per enclave, 6.5 MB of the heap at 1,000 enclaves (snapshot).
  const fingerprint = digest([questions.map((q) => [q.subject.label, q.probe.verb, q.probe.resource, q.probe.subresource, q.namespace]), foreign.map((b) => [b.kind, b.namespace, b.name, b.subjects])]);
  if (last?.fingerprint === fingerprint && since < period) {
    asked.set(key, { ...last, inputs });
    return { requeueAfter: period - since };
  }

  const reviews = await askQuestions(questions, options.ask, 8);
  asked.set(key, { fingerprint, inputs, at: Date.now() });
  let findings: IsolationFinding[] = accessDrift(reviews, bindings, (binding, attributes) => bindingGrants(binding, attributes, rulesOf));
  if (options.site.isolation.onDrift === 'revert') findings = await revert(ctx, findings, bindings);
  options.store.set(key, 'access', findings, now);
  return { requeueAfter: period };
}

/** A binding as the access check judges it, with its resourceVersion (part of the check's inputs). */
type BindingInForce = BindingWithRole & { version: string };

/** The RoleBindings of the enclave's namespace and every ClusterRoleBinding, with the roles they grant. */
function bindingsInForce(ctx: ReconcileContext, namespace: string): BindingInForce[] {
  const view = (kind: BindingView['kind'], o: Readonly<Binding>): BindingInForce => ({
    kind,
    name: o.metadata?.name ?? '',
    ...(o.metadata?.namespace ? { namespace: o.metadata.namespace } : {}),
    subjects: o.subjects ?? [],
    own: isOperatorOwned(o),
    roleRef: { kind: o.roleRef?.kind ?? '', name: o.roleRef?.name ?? '' },
    version: o.metadata?.resourceVersion ?? '',
  });
  const roleBindings = ctx.cache(Everyone.RoleBinding).list({ namespace }) as Readonly<Binding>[];
  const clusterBindings = ctx.cache(Everyone.ClusterRoleBinding).list() as Readonly<Binding>[];
  return [...roleBindings.map((o) => view('RoleBinding', o)), ...clusterBindings.map((o) => view('ClusterRoleBinding', o))];
}

/** The resourceVersion of the role a binding grants, as the caches hold it ('' when there is none). */
function roleVersion(ctx: ReconcileContext, binding: BindingWithRole): string {
  const role = binding.roleRef.kind === 'Role' ? ctx.cache(Everyone.Role).get(binding.roleRef.name, binding.namespace) : ctx.cache(Everyone.ClusterRole).get(binding.roleRef.name);
  return role?.metadata?.resourceVersion ?? '';
}

const digest = (value: unknown): string => createHash('sha256').update(JSON.stringify(value)).digest('base64');

/** The rules of Roles and ClusterRoles as the caches hold them. */
function rulesFromCaches(ctx: ReconcileContext): RulesOf {
  return (kind, name, namespace) => {
    const role = ctx.cache(kind === 'Role' ? Everyone.Role : Everyone.ClusterRole).get(name, namespace) as (KubernetesObject & { rules?: PolicyRuleView[] }) | undefined;
    return role === undefined ? undefined : (role.rules ?? []);
  };
}

/** A member of another enclave of this site (the next by name that has one, wrapping round), asked about this enclave's namespace. */
function outsiderOf(ctx: ReconcileContext, names: SortedNames, enclave: Enclave, now: Date): AccessSubject | undefined {
  const enclaves = ctx.cache(SdeKinds.Enclave);
  for (const name of names.after(enclave.metadata.name)) {
    const other = enclaves.get(name);
    if (other === undefined || (other as { spec?: { site?: unknown } }).spec?.site !== enclave.spec.site) continue;
    const checked = checkSpec(enclaveSchema, other);
    if (!checked.ok) continue;
    const member = subjectsOf({ name: checked.value.metadata.name, spec: checked.value.spec }, now).find((s) => s.role !== undefined);
    if (member !== undefined) return { ...member, label: `${member.label} (another enclave)` };
  }
  return undefined;
}

/** Deletes the foreign RoleBindings blamed (the site asked for revert), each with a Warning Event; returns the findings left (ClusterRoleBindings, the operator's own bindings, which the Enclave controller puts back, and permissions no binding explains). */
async function revert(ctx: ReconcileContext, findings: IsolationFinding[], bindings: readonly BindingView[]): Promise<IsolationFinding[]> {
  const out: IsolationFinding[] = [];
  for (const finding of findings) {
    const binding = bindings.find((b) => `${b.kind} ${b.namespace ? `${b.namespace}/` : ''}${b.name}` === finding.object);
    // A ClusterRoleBinding is reported, never deleted: the operator holds no write on cluster-wide bindings.
    if (binding === undefined || binding.own || binding.kind !== 'RoleBinding') {
      out.push(finding);
      continue;
    }
    await ctx.client.delete({ apiVersion: Everyone.RoleBinding.apiVersion, kind: Everyone.RoleBinding.kind, metadata: { name: binding.name, ...(binding.namespace ? { namespace: binding.namespace } : {}) } });
    await ctx.recordEvent({ type: 'Warning', reason: 'IsolationReverted', message: `deleted ${finding.object}: ${finding.path}` });
  }
  return out;
}
