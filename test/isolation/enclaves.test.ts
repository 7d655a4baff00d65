// Several enclaves rendered side by side at one site: with real NetworkPolicy semantics, no
// enclave reaches another, the internet, or anything it did not name; only the gateway (and,
// for an aggregator, its participants and peer sites) gets in.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Enclave } from '../../api/enclave.ts';
import type { FederatedJob } from '../../api/federatedjob.ts';
import type { SiteConfig } from '../../api/siteconfig.ts';
import type { Workspace } from '../../api/workspace.ts';
import { renderEnclave, renderFederatedJob, renderWorkspace } from '../../constructs/index.ts';
import { COMPONENT, ENCLAVE, FEDERATED_JOB } from '../../constructs/labels.ts';
import type { KubeObject } from '../../constructs/objects.ts';
import { cidrContains, firstAddress } from '../../api/cidr.ts';
import { namespacesOf, podAddresses, podsOf, policiesOf } from '../../isolation/model.ts';
import { reachability } from '../../isolation/reachability.ts';
import type { ClusterModel, Endpoint, PodModel, Probe } from '../../isolation/reachability.ts';
import { enclaveArb, federatedJobArb, siteArb, workspaceArb } from '../constructs/arbitraries.ts';
import { cardiacEnclave, jupyterWorkspace, nvflareJob, rstudioWorkspace, uclhSite } from '../constructs/fixtures.ts';

interface Tenant {
  enclave: Enclave;
  workspaces: Workspace[];
  job: FederatedJob;
}

const INTERNET = ['8.8.8.8', '1.1.1.1', '203.0.113.7'];

function tenantArb(site: SiteConfig): fc.Arbitrary<Tenant> {
  return enclaveArb(site).chain((enclave) =>
    fc.record({
      enclave: fc.constant(enclave),
      workspaces: fc.uniqueArray(workspaceArb(enclave), { maxLength: 2, selector: (w) => w.metadata.name }),
      job: federatedJobArb(enclave, site).map((j) => ({ ...j, spec: { ...j.spec, sites: [...new Set(['uclh', ...j.spec.sites])] } })),
    }),
  );
}

const worldArb = siteArb.chain((site) =>
  fc.record({ site: fc.constant(site), tenants: fc.uniqueArray(tenantArb(site), { minLength: 2, maxLength: 3, selector: (t) => t.enclave.metadata.name }) }),
);

function renderTenant(t: Tenant, site: SiteConfig): KubeObject[] {
  const opts = { accessActive: true };
  return [
    ...renderEnclave(t.enclave, site, opts),
    ...t.workspaces.flatMap((w) => renderWorkspace(w, t.enclave, site, opts)),
    ...renderFederatedJob(t.job, t.enclave, site, { ...opts, thisSite: 'uclh' }),
  ];
}

function analyse(site: SiteConfig, tenants: Tenant[]) {
  const objects = tenants.flatMap((t) => renderTenant(t, site));
  const ip = podAddresses();
  const infra: PodModel[] = [
    { namespace: site.dns.namespace, name: 'dns', labels: { ...site.dns.podLabels }, ip: ip() },
    { namespace: site.gateway.namespace, name: 'gateway', labels: { ...site.gateway.podLabels }, ip: ip() },
    { namespace: 'default', name: 'stranger', labels: { app: 'stranger' }, ip: ip() },
  ];
  // A pod no workload of ours creates, as a member with a bug in the RBAC would: it still only gets DNS.
  const strays: PodModel[] = tenants.map((t) => ({ namespace: `sde-${t.enclave.metadata.name}`, name: 'stray', labels: {}, ip: ip() }));
  const pods = [...podsOf(objects, ip), ...strays, ...infra];
  const model: ClusterModel = {
    namespaces: [...namespacesOf(objects), { name: site.dns.namespace, labels: {} }, { name: site.gateway.namespace, labels: {} }, { name: 'default', labels: {} }],
    pods,
    policies: policiesOf(objects),
  };
  const destinations = [...site.packageMirrors, ...site.dataServices, ...site.allowedEgress, ...site.aggregators];
  const requested = tenants.flatMap((t) => t.enclave.spec.network.egress.map((e) => e.cidr));
  const ips = [...new Set([...destinations.map((d) => firstAddress(d.cidr)), ...requested.map(firstAddress), ...INTERNET, ...(site.peerSites ?? []).map((p) => firstAddress(p.cidr))])];
  const ports = [...new Set([53, 22, 80, 443, 8888, 8787, 8080, ...destinations.flatMap((d) => d.ports.map((p) => p.port))])];
  const probes: Probe[] = ports.flatMap((port) => [{ port, protocol: 'TCP' as const }, { port, protocol: 'UDP' as const }]);
  const endpoints: Endpoint[] = [...pods.map((pod) => ({ pod })), ...ips.map((a) => ({ ip: a }))];
  return { model, flows: reachability(model, endpoints, endpoints, probes), pods };
}

function enclaveOf(e: Endpoint): string | undefined {
  return 'pod' in e && e.pod.namespace.startsWith('sde-') && e.pod.namespace !== 'sde-gateway' ? e.pod.namespace : undefined;
}

function tenantOf(tenants: Tenant[], namespace: string): Tenant {
  const t = tenants.find((x) => `sde-${x.enclave.metadata.name}` === namespace);
  if (t === undefined) throw new Error(`no tenant for ${namespace}`);
  return t;
}

// What an enclave pod may reach: DNS, and addresses the enclave (or its job) named, on their ports.
function named(site: SiteConfig, t: Tenant, from: PodModel, to: Endpoint, probe: Probe): boolean {
  if ('pod' in to) {
    if (to.pod.namespace === site.dns.namespace && to.pod.name === 'dns' && probe.port === site.dns.port) return true;
    if (to.pod.namespace === from.namespace && to.pod.labels[COMPONENT] === 'aggregator' && to.pod.labels[FEDERATED_JOB] === from.labels[FEDERATED_JOB]) return true;
  }
  // An address the enclave named: outside the cluster, or a pod's when a generated site's
  // destination CIDR overlaps the pod network (10.244.0.0/16 here), as ipBlock rules cover pods too.
  const ip = 'pod' in to ? to.pod.ip : to.ip;
  const within = (d: { cidr: string; ports: { port: number; protocol: string }[] }) => cidrContains(d.cidr, `${ip}/32`) && d.ports.some((p) => p.port === probe.port && p.protocol === probe.protocol);
  if (from.labels[FEDERATED_JOB] !== undefined) return site.aggregators.filter((a) => a.name === t.job.spec.aggregator.endpoint).some(within);
  // A data service is named through the site's catalogue: it holds a dataset the enclave names.
  const held = site.datasets.filter((d) => d.kind !== 'volume' && t.enclave.spec.data.some((ref) => ref.name === d.name));
  const services = site.dataServices.filter((s) => held.some((d) => d.kind !== 'volume' && d.source.dataService === s.name));
  const mirrors = t.enclave.spec.network.packageMirror ? site.packageMirrors : [];
  const approved = t.enclave.spec.network.egress.filter((r) => cidrContains(r.cidr, `${ip}/32`) && site.allowedEgress.some((d) => cidrContains(d.cidr, r.cidr) && within(d)));
  return [...services, ...mirrors].some(within) || approved.some((r) => r.ports.some((p) => p.port === probe.port && p.protocol === probe.protocol));
}

function check(site: SiteConfig, tenants: Tenant[]): void {
  const { flows } = analyse(site, tenants);
  for (const f of flows) {
    const fromEnclave = enclaveOf(f.from);
    const toEnclave = enclaveOf(f.to);
    const what = `${JSON.stringify(f.from)} -> ${JSON.stringify(f.to)} ${f.port}/${f.protocol}`;
    if (fromEnclave !== undefined && 'pod' in f.from) {
      expect(toEnclave === undefined || toEnclave === fromEnclave, `crosses enclaves: ${what}`).toBe(true);
      if ('ip' in f.to) expect(INTERNET, `reaches the internet: ${what}`).not.toContain(f.to.ip);
      expect(named(site, tenantOf(tenants, fromEnclave), f.from.pod, f.to, f), `reaches what it did not name: ${what}`).toBe(true);
    }
    if (toEnclave !== undefined && 'pod' in f.to) {
      const pod = f.to.pod;
      const fromGateway = 'pod' in f.from && f.from.pod.name === 'gateway' && pod.labels[COMPONENT] === 'workspace';
      const fromParticipant = 'pod' in f.from && f.from.pod.labels[COMPONENT] === 'participant' && pod.labels[COMPONENT] === 'aggregator' && f.from.pod.labels[FEDERATED_JOB] === pod.labels[FEDERATED_JOB];
      // A peer site's CIDR admits whatever address lies in it: a pod's too, when a generated one overlaps the pod network.
      const source = 'ip' in f.from ? f.from.ip : f.from.pod.ip;
      const fromPeerSite = pod.labels[COMPONENT] === 'aggregator' && (site.peerSites ?? []).some((p) => cidrContains(p.cidr, `${source}/32`));
      expect(fromGateway || fromParticipant || fromPeerSite, `unexpected ingress: ${what}`).toBe(true);
      expect(pod.labels[ENCLAVE]).toBe(pod.namespace.slice(4));
    }
  }
}

describe('isolation between enclaves', () => {
  it('holds for the shipped examples next to a second enclave', () => {
    const site = uclhSite();
    const cardiac: Tenant = { enclave: cardiacEnclave(), workspaces: [jupyterWorkspace(), rstudioWorkspace()], job: { ...nvflareJob(), spec: { ...nvflareJob().spec, aggregator: { ...nvflareJob().spec.aggregator, site: 'uclh' } } } };
    const other = cardiacEnclave();
    other.metadata.name = 'diabetes';
    other.spec.network.packageMirror = false;
    const ws = { ...rstudioWorkspace(), metadata: { name: 'r', namespace: 'sde-diabetes' } };
    const tenants = [cardiac, { enclave: other, workspaces: [ws], job: { ...nvflareJob(), metadata: { name: 'fl', namespace: 'sde-diabetes' } } }];
    check(site, tenants);
    const { flows } = analyse(site, tenants);
    const reach = (ns: string, component: string, ip: string, port: number) =>
      flows.some((f) => 'pod' in f.from && f.from.pod.namespace === ns && f.from.pod.labels[COMPONENT] === component && 'ip' in f.to && f.to.ip === ip && f.port === port && f.protocol === 'TCP');
    // The analysis sees what was asked for, not just what was forbidden.
    expect(reach('sde-cardiac-mri', 'workspace', '10.40.2.20', 5432)).toBe(true);
    expect(reach('sde-cardiac-mri', 'workspace', '10.40.1.10', 443)).toBe(true);
    expect(reach('sde-diabetes', 'workspace', '10.40.1.10', 443)).toBe(false);
    expect(reach('sde-cardiac-mri', 'participant', '10.90.0.10', 8002)).toBe(true);
    expect(reach('sde-cardiac-mri', 'participant', '10.40.2.20', 5432)).toBe(false);
    expect(flows.some((f) => 'pod' in f.from && f.from.pod.name === 'gateway' && 'pod' in f.to && f.to.pod.namespace === 'sde-cardiac-mri' && f.port === 8888)).toBe(true);
  });

  it('holds for generated enclaves, workspaces and federated jobs at one site', () => {
    fc.assert(fc.property(worldArb, ({ site, tenants }) => check(site, tenants)), { numRuns: 40 });
  });
});
