// Drift of one enclave's access boundary from its spec: the authorizer's answers that go beyond
// what the spec allows, each blamed on the bindings that name the subject. The binding that
// grants too much is what a platform engineer looks at, so a finding names it; when none names
// the subject, the finding names the subject's permission itself.
import type { AccessAttributes, AccessReview, AccessSubject } from './access.ts';
import type { IsolationFinding } from './findings.ts';

/** A RoleBinding or ClusterRoleBinding as far as blame needs it. */
export interface BindingView {
  kind: 'RoleBinding' | 'ClusterRoleBinding';
  name: string;
  /** The namespace of a RoleBinding. */
  namespace?: string;
  subjects: readonly { kind: string; name: string; namespace?: string }[];
  /** Made by the operator from a spec (its Role may have been widened). */
  own: boolean;
}

/** Whether a binding's subjects include who asks: the user, one of their groups, or their ServiceAccount. */
export function bindsSubject(binding: BindingView, subject: AccessSubject): boolean {
  return binding.subjects.some((s) => {
    if (s.kind === 'User') return s.name === subject.user;
    if (s.kind === 'Group') return subject.groups.includes(s.name);
    if (s.kind === 'ServiceAccount') return subject.user === `system:serviceaccount:${s.namespace ?? binding.namespace ?? ''}:${s.name}`;
    return false;
  });
}

/**
 * One finding per binding that lets a subject beyond the spec (its first such answer, and how many
 * more), foreign bindings blamed before the operator's own. `bindings` are those in force: the
 * ClusterRoleBindings and the RoleBindings of the namespaces asked about; `grants` says whether a
 * binding's role covers a request (by default every binding naming the subject is blamed).
 */
export function accessDrift<B extends BindingView>(reviews: readonly AccessReview[], bindings: readonly B[], grants: (binding: B, attributes: AccessAttributes) => boolean = () => true): IsolationFinding[] {
  const byObject = new Map<string, { finding: IsolationFinding; more: number }>();
  for (const review of reviews) {
    if (!review.allowed || review.expected) continue;
    const { subject, attributes } = review;
    const where = attributes.namespace === undefined ? 'at cluster scope' : `in ${attributes.namespace}`;
    const what = `${attributes.verb} ${attributes.resource}${attributes.subresource ? `/${attributes.subresource}` : ''}${attributes.name ? ` ${attributes.name}` : ''}`;
    const inForce = bindings.filter((b) => (b.kind === 'ClusterRoleBinding' || b.namespace === attributes.namespace) && bindsSubject(b, subject) && grants(b, attributes));
    const foreign = inForce.filter((b) => !b.own);
    const blamed = foreign.length > 0 ? foreign : inForce;
    const objects = blamed.length > 0 ? blamed.map((b) => ({ kind: b.kind, object: `${b.kind} ${b.namespace ? `${b.namespace}/` : ''}${b.name}` })) : [{ kind: 'Permission' as const, object: `${subject.user}` }];
    for (const { kind, object } of objects) {
      const entry = byObject.get(object);
      if (entry) entry.more += 1;
      else byObject.set(object, { finding: { concern: 'access', kind, object, path: `${subject.label} may ${what} ${where}` }, more: 0 });
    }
  }
  return [...byObject.values()].map(({ finding, more }) => (more > 0 ? { ...finding, path: `${finding.path} (and ${more} more beyond the spec)` } : finding));
}
