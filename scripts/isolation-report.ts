// The isolation report: converges ISOLATION_ENCLAVES (default 50) fleet enclaves with the operator on
// a devcluster, then, from the objects the operator created (read back over the API), prints the
// reachability matrix (which pods reach which destinations, NetworkPolicy semantics via isolation/)
// and the RBAC matrix (what each member role may do, from the live Roles and RoleBindings), and
// counts every path or permission the specs do not name. Writes bench/results/isolation.json.
import { mkdirSync, writeFileSync } from 'node:fs';
import type { KubernetesObject } from '@kubernetes/client-node';
import { chaosSite, createFleet, readiness } from '../bench/lib/chaos.ts';
import { FLEET_SITE, ROOT } from '../bench/lib/fleet.ts';
import type { KubeObject } from '../constructs/objects.ts';
import { canConnect, namespacesOf, podAddresses, podsOf, policiesOf } from '../isolation/index.ts';
import type { ClusterModel, Endpoint, PodModel } from '../isolation/index.ts';
import { createOperator } from '../operator/operator.ts';
import { createLogger, Kinds } from '../operator/runtime/index.ts';
import type { ResourceType } from '../operator/runtime/index.ts';

const N = Number(process.env.ISOLATION_ENCLAVES ?? 50);
const site = await chaosSite(N);
const operator = createOperator({ site: FLEET_SITE, kubeConfig: site.kubeConfig, port: false, logger: createLogger({ level: 'silent' }) });
await operator.start();
const ready = readiness(site.observer);
await createFleet(site.user, site.observer, N, 'iso');
if (!(await site.observer.until(() => ready.all(N), 120_000))) throw new Error(`expected ${N} enclaves Ready`);
ready.close();

async function all(type: ResourceType): Promise<KubernetesObject[]> {
  return (await site.user.list(type)).items;
}
const objects = [...(await all(Kinds.Namespace)), ...(await all(Kinds.NetworkPolicy)), ...(await all(Kinds.StatefulSet))] as unknown as KubeObject[];
const roles = await all(Kinds.Role);
const bindings = await all(Kinds.RoleBinding);
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

// RBAC: what each member role's Role grants, and where members are bound.
type Rule = { apiGroups?: string[]; resources?: string[]; verbs?: string[] };
const roleRules = new Map<string, Rule[]>();
for (const r of roles.filter((r) => r.metadata?.namespace?.startsWith('sde-iso-'))) roleRules.set(r.metadata?.name ?? '', (r as { rules?: Rule[] }).rules ?? []);
const rbac = [...roleRules.entries()].map(([role, rules]) => ({
  role,
  grants: rules.map((r) => `${(r.resources ?? []).join(',')}: ${(r.verbs ?? []).join(',')}`).join('; '),
  secrets: rules.some((r) => (r.resources ?? []).some((x) => x === 'secrets' || x === '*')),
  exec: rules.some((r) => (r.resources ?? []).some((x) => x === 'pods/exec' || x === 'pods/attach' || x === '*')),
  createPods: rules.some((r) => (r.resources ?? []).includes('pods') && (r.verbs ?? []).some((v) => v === 'create' || v === '*')),
}));
const memberBindings = bindings.filter((b) => b.metadata?.namespace?.startsWith('sde-iso-'));
const boundUsers = new Set(memberBindings.flatMap((b) => ((b as { subjects?: { name: string }[] }).subjects ?? []).map((s) => s.name)));
const namedMembers = new Set(['j.patel@ucl.ac.uk', 'm.okafor@ucl.ac.uk', 's.nguyen@uclh.nhs.uk']);
const rbacBeyond = [...boundUsers].filter((u) => !namedMembers.has(u) && !u.startsWith('system:serviceaccount:')).length;

const beyond = reach.filter((r) => !r.namedBySpec).reduce((s, r) => s + r.allowed, 0) + rbac.filter((r) => r.secrets || r.exec || r.createPods).length + rbacBeyond;
const report = { enclaves: N, pods: pods.length, reachability: reach, gatewayToWorkspacePods: `${gatewayIn}/${pods.filter((p) => p.name !== 'stray').length}`, rbac, memberBindings: memberBindings.length, subjectsNotNamedBySpecs: rbacBeyond, pathsOrPermissionsBeyondSpecs: beyond };
console.log('| destination | named by the spec | probes | allowed |\n|---|---|---|---|');
for (const r of reach) console.log(`| ${r.destination} | ${r.namedBySpec ? 'yes' : 'no'} | ${r.probes} | ${r.allowed} |`);
console.log(`\ngateway → workspace pods :8888 allowed: ${report.gatewayToWorkspacePods}\n`);
console.log('| member role (Role) | grants | Secrets | exec/attach | create pods |\n|---|---|---|---|---|');
for (const r of rbac) console.log(`| ${r.role} | ${r.grants} | ${r.secrets ? 'YES' : 'no'} | ${r.exec ? 'YES' : 'no'} | ${r.createPods ? 'YES' : 'no'} |`);
console.log(`\n${memberBindings.length} RoleBindings, subjects not named by any spec: ${rbacBeyond}; paths or permissions beyond the specs: ${beyond}`);
mkdirSync(new URL('bench/results/', ROOT), { recursive: true });
writeFileSync(new URL('bench/results/isolation.json', ROOT), `${JSON.stringify(report, null, 2)}\n`);
