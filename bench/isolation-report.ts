// The isolation report: converges ISOLATION_ENCLAVES (default 50) fleet enclaves with the operator on
// a devcluster, then, from the objects the operator created (read back over the API), prints the
// reachability matrix (which pods reach which destinations, NetworkPolicy semantics via isolation/)
// and the RBAC matrix (what each member may do, asked of the API server's authorizer with
// SubjectAccessReview while the enclaves are live), and counts every path or permission the specs
// do not name. Each enclave has members of its own, so one enclave's members are asked about the
// others'. Writes bench/results/isolation.json.
import { mkdirSync, writeFileSync } from 'node:fs';
import type { KubernetesObject } from '@kubernetes/client-node';
import { chaosSite, createFleet, readiness } from './lib/chaos.ts';
import { FLEET_SITE, ROOT } from './lib/fleet.ts';
import type { KubeObject } from '../constructs/objects.ts';
import { enclave as enclaveSchema } from '../api/enclave.ts';
import { canConnect, namespacesOf, podAddresses, podsOf, policiesOf, reviewAccess, subjectAccessReviewer, summariseAccess } from '../isolation/index.ts';
import type { ClusterModel, Endpoint, PodModel } from '../isolation/index.ts';
import { SdeKinds } from '../operator/kinds.ts';
import { createOperator } from '../operator/operator.ts';
import { createLogger, Kinds } from '../operator/runtime/index.ts';
import type { ResourceType } from '../operator/runtime/index.ts';

const N = Number(process.env.ISOLATION_ENCLAVES ?? 50);
const site = await chaosSite(N);
const operator = createOperator({ site: FLEET_SITE, kubeConfig: site.kubeConfig, port: false, logger: createLogger({ level: 'silent' }) });
await operator.start();
const ready = readiness(site.observer);
await createFleet(site.user, site.observer, N, 'iso', 'own');
if (!(await site.observer.until(() => ready.all(N), 120_000))) throw new Error(`expected ${N} enclaves Ready`);
ready.close();

async function all(type: ResourceType): Promise<KubernetesObject[]> {
  return (await site.user.list(type)).items;
}
const objects = [...(await all(Kinds.Namespace)), ...(await all(Kinds.NetworkPolicy)), ...(await all(Kinds.StatefulSet))] as unknown as KubeObject[];
// RBAC: every member, workload ServiceAccount and a non-member asked the catalogue in their own
// namespace, three neighbours' and at cluster scope, and the widest questions in every namespace.
const enclaves = (await all(SdeKinds.Enclave)).map((e) => enclaveSchema.parse(e)).filter((e) => e.metadata.name.startsWith('iso-')).map((e) => ({ name: e.metadata.name, spec: e.spec }));
const access = summariseAccess(await reviewAccess(enclaves, subjectAccessReviewer(site.kubeConfig)));
const memberBindings = (await all(Kinds.RoleBinding)).filter((b) => b.metadata?.namespace?.startsWith('sde-iso-')).length;
await operator.stop();
await site.observer.stop();
await site.cluster.stop();

// Reachability: every workload pod plus a stray pod per enclave, to each kind of destination.
const ip = podAddresses();
const dns: PodModel = { namespace: FLEET_SITE.dns.namespace, name: 'dns', labels: { ...FLEET_SITE.dns.podLabels }, ip: ip() };
const gateway: PodModel = { namespace: FLEET_SITE.gateway.namespace, name: 'gateway', labels: { ...FLEET_SITE.gateway.podLabels }, ip: ip() };
const enclaveNamespaces = namespacesOf(objects).filter((n) => n.name.startsWith('sde-iso-')).map((n) => n.name);
const strays: PodModel[] = enclaveNamespaces.map((ns) => ({ namespace: ns, name: 'stray', labels: {}, ip: ip() }));
const pods = [...podsOf(objects, ip).filter((p) => p.namespace.startsWith('sde-iso-')), ...strays];
const model: ClusterModel = { namespaces: namespacesOf(objects), pods: [...pods, dns, gateway], policies: policiesOf(objects) };
const first = (cidr: string): string => cidr.split('/')[0]!;
const mirror = FLEET_SITE.packageMirrors[0]!;
const service = (name: string) => FLEET_SITE.dataServices.find((d) => d.name === name)!;
// Named by every fleet enclave's spec: DNS, the package mirror (packageMirror: true), its datasets' services (omop, xnat).
const destinations: { name: string; to: (from: PodModel) => Endpoint[]; port: number; protocol: 'TCP' | 'UDP'; named: boolean }[] = [
  { name: 'DNS (kube-dns:53/UDP)', to: () => [{ pod: dns }], port: 53, protocol: 'UDP', named: true },
  { name: `package mirror ${mirror.host}:443`, to: () => [{ ip: first(mirror.cidr) }], port: 443, protocol: 'TCP', named: true },
  { name: 'OMOP database :5432 (dataset omop)', to: () => [{ ip: first(service('omop-cdm').cidr) }], port: 5432, protocol: 'TCP', named: true },
  { name: 'XNAT :443 (dataset xnat)', to: () => [{ ip: first(service('xnat').cidr) }], port: 443, protocol: 'TCP', named: true },
  { name: 'CogStack :9200 (not asked for)', to: () => [{ ip: first(service('cogstack').cidr) }], port: 9200, protocol: 'TCP', named: false },
  { name: 'site-allowed egress not asked for', to: () => [{ ip: first(FLEET_SITE.allowedEgress[0]!.cidr) }], port: 443, protocol: 'TCP', named: false },
  { name: 'FL aggregator (no federated job)', to: () => [{ ip: first(FLEET_SITE.aggregators[0]!.cidr) }], port: 8002, protocol: 'TCP', named: false },
  { name: 'internet (8.8.8.8:443)', to: () => [{ ip: '8.8.8.8' }], port: 443, protocol: 'TCP', named: false },
  { name: 'pods of the same enclave :8888', to: (from) => pods.filter((p) => p.namespace === from.namespace && p !== from).map((p) => ({ pod: p })), port: 8888, protocol: 'TCP', named: false },
  { name: 'pods of other enclaves :8888', to: (from) => pods.filter((p) => p.namespace !== from.namespace).map((p) => ({ pod: p })), port: 8888, protocol: 'TCP', named: false },
];
const reach = destinations.map((d) => {
  let allowed = 0;
  let probes = 0;
  for (const from of pods) {
    for (const to of d.to(from)) {
      probes += 1;
      if (canConnect(model, { pod: from }, to, { port: d.port, protocol: d.protocol })) allowed += 1;
    }
  }
  return { destination: d.name, namedBySpec: d.named, probes, allowed };
});
const gatewayIn = pods.filter((p) => p.name !== 'stray').filter((p) => canConnect(model, { pod: gateway }, { pod: p }, { port: 8888, protocol: 'TCP' })).length;

const beyond = reach.filter((r) => !r.namedBySpec).reduce((s, r) => s + r.allowed, 0) + access.beyondSpecs.length;
const rbac = { reviews: access.reviews, rows: access.rows, beyondSpecs: access.beyondSpecs, missing: access.missing };
const report = { enclaves: N, pods: pods.length, reachability: reach, gatewayToWorkspacePods: `${gatewayIn}/${pods.filter((p) => p.name !== 'stray').length}`, rbac, memberBindings, pathsOrPermissionsBeyondSpecs: beyond };
console.log('| destination | named by the spec | probes | allowed |\n|---|---|---|---|');
for (const r of reach) console.log(`| ${r.destination} | ${r.namedBySpec ? 'yes' : 'no'} | ${r.probes} | ${r.allowed} |`);
console.log(`\ngateway → workspace pods :8888 allowed: ${report.gatewayToWorkspacePods}\n`);
const cell = (c: { allowed: number; asked: number }): string => (c.asked === 0 ? '—' : `${c.allowed} / ${c.asked}`);
console.log('| may … (allowed / asked) | researcher | lead | data-manager | output-checker | elsewhere |\n|---|---|---|---|---|---|');
for (const r of access.rows) console.log(`| ${r.row} | ${cell(r.ownNamespace.researcher)} | ${cell(r.ownNamespace.lead)} | ${cell(r.ownNamespace['data-manager'])} | ${cell(r.ownNamespace['output-checker'])} | ${cell(r.elsewhere)} |`);
for (const r of [...access.beyondSpecs, ...access.missing].slice(0, 20)) console.log(`${r.allowed ? 'BEYOND THE SPECS' : 'MISSING'}: ${r.subject.label} ${JSON.stringify(r.attributes)}`);
console.log(`\n${access.reviews} SubjectAccessReviews; allowed beyond the specs: ${access.beyondSpecs.length}; named by a spec but denied: ${access.missing.length}; ${memberBindings} member RoleBindings`);
console.log(`paths or permissions beyond the specs: ${beyond}`);
mkdirSync(new URL('bench/results/', ROOT), { recursive: true });
writeFileSync(new URL('bench/results/isolation.json', ROOT), `${JSON.stringify(report, null, 2)}\n`);
