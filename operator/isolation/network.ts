// The network side of an enclave's isolation, judged in its reconcile: the operator's own
// policies as just rendered and applied, every other policy live in the namespace, the namespace's
// Pod Security labels, and the enclave's pods as its workloads' templates label them.
import type { KubernetesObject } from '@kubernetes/client-node';
import { POD_SECURITY_RESTRICTED } from '../../constructs/labels.ts';
import { NETWORK_POLICY_NAMES } from '../../constructs/network.ts';
import { defaultDenyDrift, networkDrift, podSecurityDrift } from '../../isolation/drift.ts';
import type { IsolationFinding } from '../../isolation/findings.ts';
import type { NetworkPolicyObject, PodModel } from '../../isolation/index.ts';
import { isOperatorOwned } from '../identity.ts';
import { Everyone, Owned } from '../kinds.ts';
import type { ReconcileContext } from '../runtime/index.ts';

/** An address no enclave may reach when the site names no canary: TEST-NET-1 (RFC 5737). */
export const DEFAULT_CANARY = '192.0.2.1';

/**
 * What the live cluster opens beyond the spec in `namespace`, with the operator's own policies
 * taken as `desired` says (they are applied in the same reconcile) plus the workloads' own policies
 * as live: paths opened by foreign NetworkPolicies.
 */
export function networkFindings(ctx: ReconcileContext, namespace: string, desired: readonly KubernetesObject[], canary: string): IsolationFinding[] {
  const foreign = ctx.cache(Everyone.NetworkPolicy).list({ namespace }).filter((p) => !isOperatorOwned(p)) as unknown as NetworkPolicyObject[];
  if (foreign.length === 0) return [];
  const rendered = desired.filter((o) => o.kind === 'NetworkPolicy' && o.metadata?.namespace === namespace);
  const renderedNames = new Set(rendered.map((o) => o.metadata?.name));
  const workloads = ctx.cache(Owned.NetworkPolicy).list({ namespace }).filter((p) => !renderedNames.has(p.metadata?.name));
  const own = [...rendered, ...workloads] as unknown as NetworkPolicyObject[];
  const live = ctx.cache(Owned.Namespace).get(namespace);
  const labels = { ...(live?.metadata?.labels ?? desired.find((o) => o.kind === 'Namespace')?.metadata?.labels ?? {}) };
  return networkDrift({ namespace: { name: namespace, labels }, podSecurity: POD_SECURITY_RESTRICTED, own, foreign, pods: enclavePods(ctx, namespace), canary });
}

/**
 * The operator's own boundary objects as the cache shows them before this reconcile applies:
 * a deleted default-deny, Pod Security labels changed. The apply that follows puts them back; the
 * findings say what was found. Only for an enclave provisioned before (nothing is live yet otherwise).
 */
export function ownBoundaryDrift(ctx: ReconcileContext, namespace: string): IsolationFinding[] {
  const live = ctx.cache(Owned.Namespace).get(namespace);
  if (live === undefined) return [];
  const names = ctx.cache(Owned.NetworkPolicy).list({ namespace }).map((p) => p.metadata?.name ?? '');
  return [
    ...defaultDenyDrift(namespace, NETWORK_POLICY_NAMES.defaultDeny, names),
    ...podSecurityDrift({ name: namespace, labels: { ...(live.metadata?.labels ?? {}) } }, POD_SECURITY_RESTRICTED),
  ];
}

/** One pod per workload in the namespace, labelled as its template labels its pods. */
function enclavePods(ctx: ReconcileContext, namespace: string): PodModel[] {
  let n = 0;
  return [Owned.StatefulSet, Owned.Deployment, Owned.Job].flatMap((type) =>
    ctx.cache(type).list({ namespace }).map((o) => {
      const labels = (o as { spec?: { template?: { metadata?: { labels?: Record<string, string> } } } }).spec?.template?.metadata?.labels ?? {};
      n += 1;
      return { namespace, name: `${type.kind} ${o.metadata?.name ?? ''}`, labels: { ...labels }, ip: `10.255.253.${n % 250}` };
    }),
  );
}
