// An enclave's zero-trust network: deny everything in both directions, then allow only what
// the enclave names (DNS, its datasets' services, the package mirror, approved extra egress)
// and ingress to workspaces only from the site's gateway.
import * as kplus from 'cdk8s-plus-27';
import type { Construct } from 'constructs';
import { enclaveDatasets } from '../api/dataset-catalogue.ts';
import { enclaveNamespace } from '../api/enclave.ts';
import type { Enclave } from '../api/enclave.ts';
import type { Destination, SiteConfig } from '../api/siteconfig.ts';
import { cidrContains } from '../api/cidr.ts';
import type { OwnerReference } from './objects.ts';
import { COMPONENT, COMPONENTS, FEDERATED_JOB, enclaveChildLabels } from './labels.ts';
import { TOOL_PORTS } from './tools.ts';

/** Names of the enclave's NetworkPolicies, one per kind of allowed traffic. */
export const NETWORK_POLICY_NAMES = {
  defaultDeny: 'default-deny',
  dns: 'allow-dns',
  datasets: 'allow-datasets',
  packageMirror: 'allow-package-mirror',
  approvedEgress: 'allow-approved-egress',
  gatewayIngress: 'allow-gateway-to-workspaces',
} as const;

interface PolicyContext {
  scope: Construct;
  namespace: string;
  labels: Record<string, string>;
  ownerReferences: OwnerReference[] | undefined;
}

function policy(ctx: PolicyContext, name: string, selector: kplus.IPodSelector, props: Partial<kplus.NetworkPolicyProps> = {}): kplus.NetworkPolicy {
  return new kplus.NetworkPolicy(ctx.scope, `netpol-${name}`, {
    metadata: { name, namespace: ctx.namespace, labels: ctx.labels, ownerReferences: ctx.ownerReferences },
    selector,
    ...props,
  });
}

/** A destination's ports as NetworkPolicy ports. */
export function policyPorts(list: Destination['ports']): kplus.NetworkPolicyPort[] {
  return list.map((p) => (p.protocol === 'UDP' ? kplus.NetworkPolicyPort.udp(p.port) : kplus.NetworkPolicyPort.tcp(p.port)));
}

/** Egress to the site's DNS pods on UDP and TCP. */
export function dnsPeer(scope: Construct, id: string, site: SiteConfig): { peer: kplus.INetworkPolicyPeer; ports: kplus.NetworkPolicyPort[] } {
  const peer = kplus.Pods.select(scope, `${id}-dns-pods`, {
    labels: site.dns.podLabels,
    namespaces: kplus.Namespaces.select(scope, `${id}-dns-ns`, { names: [site.dns.namespace] }),
  });
  return { peer, ports: [kplus.NetworkPolicyPort.udp(site.dns.port), kplus.NetworkPolicyPort.tcp(site.dns.port)] };
}

/** Adds one egress rule per destination: its CIDR as an ipBlock, its ports. */
export function allowDestinations(scope: Construct, id: string, np: kplus.NetworkPolicy, destinations: readonly Pick<Destination, 'cidr' | 'ports'>[]): void {
  destinations.forEach((d, i) => np.addEgressRule(kplus.NetworkPolicyIpBlock.ipv4(scope, `${id}-ip-${i}`, d.cidr), policyPorts(d.ports)));
}

/**
 * Extra egress the enclave asked for that the site allows: each rule inside an allowed
 * destination's CIDR, with only ports that destination opens. Anything else is left out
 * (the policy checks report it; the render never widens the network beyond the site's list).
 */
export function approvedEgress(enclave: Enclave, site: SiteConfig): Pick<Destination, 'cidr' | 'ports'>[] {
  const out: Pick<Destination, 'cidr' | 'ports'>[] = [];
  for (const rule of enclave.spec.network.egress) {
    const allowed = site.allowedEgress.filter((d) => cidrContains(d.cidr, rule.cidr));
    const rulePorts = rule.ports.filter((p) => allowed.some((d) => d.ports.some((q) => q.port === p.port && q.protocol === p.protocol)));
    if (rulePorts.length > 0) out.push({ cidr: rule.cidr, ports: rulePorts });
  }
  return out;
}

/** The site data services holding the enclave's database, imaging and search datasets, as the site's catalogue names them, in dataset order. */
export function datasetServices(enclave: Enclave, site: SiteConfig): Destination[] {
  const out: Destination[] = [];
  for (const ds of enclaveDatasets(enclave.spec, site)) {
    if (ds.kind === 'volume') continue;
    const service = site.dataServices.find((s) => s.name === ds.source.dataService && s.kind === ds.kind);
    if (service !== undefined && !out.includes(service)) out.push(service);
  }
  return out;
}

/**
 * Renders the enclave's NetworkPolicies: default-deny (ingress and egress, every pod), DNS for
 * every pod, and — for every pod but federated-job pods, whose only egress is their own policy —
 * the datasets' services, the package mirror when allowed and approved extra egress; ingress to
 * workspace pods only from the site's gateway on the tools' ports.
 */
export function addEnclaveNetwork(scope: Construct, enclave: Enclave, site: SiteConfig, ownerReferences: OwnerReference[] | undefined): void {
  const ctx: PolicyContext = {
    scope,
    namespace: enclaveNamespace(enclave.metadata.name),
    labels: enclaveChildLabels(enclave, 'network-policy'),
    ownerReferences,
  };
  const n = NETWORK_POLICY_NAMES;
  policy(ctx, n.defaultDeny, kplus.Pods.all(scope, 'all-pods-deny'), {
    egress: { default: kplus.NetworkPolicyTrafficDefault.DENY },
    ingress: { default: kplus.NetworkPolicyTrafficDefault.DENY },
  });
  const dns = dnsPeer(scope, 'enclave', site);
  policy(ctx, n.dns, kplus.Pods.all(scope, 'all-pods-dns')).addEgressRule(dns.peer, dns.ports);

  const notJobs = (id: string): kplus.IPodSelector =>
    kplus.Pods.select(scope, id, { expressions: [kplus.LabelExpression.doesNotExist(FEDERATED_JOB)] });
  const services = datasetServices(enclave, site);
  if (services.length > 0) allowDestinations(scope, 'datasets', policy(ctx, n.datasets, notJobs('pods-datasets')), services);
  if (enclave.spec.network.packageMirror && site.packageMirrors.length > 0) {
    allowDestinations(scope, 'mirror', policy(ctx, n.packageMirror, notJobs('pods-mirror')), site.packageMirrors);
  }
  const extra = approvedEgress(enclave, site);
  if (extra.length > 0) allowDestinations(scope, 'approved', policy(ctx, n.approvedEgress, notJobs('pods-approved')), extra);

  const gateway = kplus.Pods.select(scope, 'gateway-pods', {
    labels: site.gateway.podLabels,
    namespaces: kplus.Namespaces.select(scope, 'gateway-ns', { names: [site.gateway.namespace] }),
  });
  const workspaces = kplus.Pods.select(scope, 'workspace-pods', { labels: { [COMPONENT]: COMPONENTS.workspace } });
  policy(ctx, n.gatewayIngress, workspaces).addIngressRule(gateway, [...new Set(Object.values(TOOL_PORTS))].map((p) => kplus.NetworkPolicyPort.tcp(p)));
}
