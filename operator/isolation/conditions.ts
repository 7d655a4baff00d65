// What the isolation checks found, as the Enclave reports it: the NetworkIsolated and
// AccessIsolated conditions, Events when they change or when drift of the operator's own objects
// was put back, and deleting foreign NetworkPolicies when the site asks for revert.
import { describeFindings } from '../../isolation/findings.ts';
import type { IsolationFinding } from '../../isolation/findings.ts';
import { Everyone } from '../kinds.ts';
import { findCondition } from '../runtime/index.ts';
import type { Condition, ConditionUpdate, ReconcileContext } from '../runtime/index.ts';
import type { EnclaveIsolation } from './store.ts';

/** Condition reasons that mean a check found something (as against not yet provisioned). */
export const ISOLATION_BREACHED = ['PathBeyondSpec', 'PermissionBeyondSpec'] as const;

/**
 * The two isolation conditions from the checks' last results, and every finding behind them.
 * Until the access check has answered (after a restart, say) the previous AccessIsolated stands,
 * so a restart writes nothing; it is Unknown only before the first answer.
 */
export function isolationConditions(results: EnclaveIsolation, previous: readonly Condition[] | undefined): { network: ConditionUpdate; access: ConditionUpdate; findings: IsolationFinding[] } {
  const network = [...(results.network?.findings ?? []), ...(results.probe?.findings ?? [])];
  const access = results.access?.findings ?? [];
  const before = findCondition(previous, 'AccessIsolated');
  const standing: ConditionUpdate | undefined = results.access === undefined && before !== undefined ? { type: 'AccessIsolated', status: before.status, reason: before.reason, message: before.message } : undefined;
  return {
    findings: [...network, ...access],
    network: network.length > 0
      ? { type: 'NetworkIsolated', status: 'False', reason: 'PathBeyondSpec', message: describeFindings(network) }
      : { type: 'NetworkIsolated', status: 'True', reason: 'DefaultDeny', message: 'default-deny ingress and egress, with only the named destinations allowed; no other policy in the namespace opens a path' },
    access: standing ?? (results.access === undefined
      ? { type: 'AccessIsolated', status: 'Unknown', reason: 'NotYetChecked', message: 'members\' permissions have not been asked of the authorizer yet' }
      : access.length > 0
        ? { type: 'AccessIsolated', status: 'False', reason: 'PermissionBeyondSpec', message: describeFindings(access) }
        : { type: 'AccessIsolated', status: 'True', reason: 'Verified', message: 'no binding grants the members, the workload account, a member of another enclave or a non-member anything beyond the spec (RBAC\'s rules read; what they could grant asked of the authorizer)' }),
  };
}

/**
 * Events for an auditor: a Warning for each of the operator's own boundary objects found changed
 * and put back, a Warning when NetworkIsolated or AccessIsolated turns False (naming what was
 * found), a Normal one when it is True again.
 */
export async function reportIsolation(ctx: ReconcileContext, previous: readonly Condition[] | undefined, next: readonly Condition[], putBack: readonly IsolationFinding[]): Promise<void> {
  for (const finding of putBack) {
    await ctx.recordEvent({ type: 'Warning', reason: 'IsolationDriftReverted', message: `${finding.object}: ${finding.path}; put back as the spec renders it` });
  }
  for (const type of ['NetworkIsolated', 'AccessIsolated']) {
    const was = findCondition(previous, type);
    const is = findCondition(next, type);
    if (is?.status === 'False' && (was?.status !== 'False' || was.message !== is.message)) {
      await ctx.recordEvent({ type: 'Warning', reason: 'IsolationBreached', message: `${type}: ${is.message}` });
    }
    if (is?.status === 'True' && was?.status === 'False') {
      await ctx.recordEvent({ type: 'Normal', reason: 'IsolationRestored', message: `${type}: nothing beyond the spec found any more` });
    }
  }
}

/** Deletes the foreign NetworkPolicies a network finding blames, with a Warning Event each; returns the findings left. */
export async function revertForeignPolicies(ctx: ReconcileContext, findings: readonly IsolationFinding[]): Promise<IsolationFinding[]> {
  const left: IsolationFinding[] = [];
  for (const finding of findings) {
    const named = /^NetworkPolicy ([^/\s]+)\/(\S+)$/.exec(finding.object);
    if (finding.kind !== 'NetworkPolicy' || named === null) {
      left.push(finding);
      continue;
    }
    await ctx.client.delete({ apiVersion: Everyone.NetworkPolicy.apiVersion, kind: Everyone.NetworkPolicy.kind, metadata: { namespace: named[1]!, name: named[2]! } });
    await ctx.recordEvent({ type: 'Warning', reason: 'IsolationReverted', message: `deleted ${finding.object}: ${finding.path}` });
  }
  return left;
}
