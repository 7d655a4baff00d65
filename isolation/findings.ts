// What the isolation monitor finds: a path or a permission beyond an enclave's spec, naming the
// object that opens it. The conditions, Events and the metric are built from these.

/** Which boundary a finding breaks: the network (NetworkIsolated) or members' access (AccessIsolated). */
export type IsolationConcern = 'network' | 'access';

/** What kind of drift a finding is: the metric's `kind` label. */
export type FindingKind =
  /** A NetworkPolicy no spec renders opens a path (its own, or another namespace's). */
  | 'NetworkPolicy'
  /** The enclave's default-deny NetworkPolicy is gone. */
  | 'DefaultDenyMissing'
  /** The namespace's Pod Security labels no longer enforce `restricted`. */
  | 'PodSecurity'
  /** A RoleBinding or ClusterRoleBinding grants a subject what no spec names. */
  | 'RoleBinding'
  | 'ClusterRoleBinding'
  /** The authorizer allows something no spec names, and no binding was found to blame. */
  | 'Permission'
  /** A probe Job inside the enclave reached what should be closed, or not what should be open. */
  | 'Probe';

/** One path or permission beyond the spec. */
export interface IsolationFinding {
  concern: IsolationConcern;
  kind: FindingKind;
  /** The object to look at, as kubectl names it: `NetworkPolicy sde-x/allow-all`, `Namespace sde-x`. */
  object: string;
  /** What it opens: `egress from pod app=workspace to 0.0.0.0/0 TCP 443`, `lead a@b may get secrets in sde-x`. */
  path: string;
}

/** A one-line summary of findings for a condition message: the first few, and how many more. */
export function describeFindings(findings: readonly IsolationFinding[], shown = 3): string {
  const lines = findings.slice(0, shown).map((f) => `${f.object}: ${f.path}`);
  const more = findings.length - shown;
  return more > 0 ? `${lines.join('; ')}; and ${more} more` : lines.join('; ');
}
