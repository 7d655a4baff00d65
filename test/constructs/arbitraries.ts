// fast-check generators of valid inputs: a site, an enclave at it, workspaces and a federated
// job in it. Everything passes through the API schemas, so only valid specs reach the renderer.
import fc from 'fast-check';
import { enclave as enclaveSchema } from '../../api/enclave.ts';
import type { Enclave } from '../../api/enclave.ts';
import { federatedJob as federatedJobSchema } from '../../api/federatedjob.ts';
import { ECOSYSTEMS } from '../../api/package-mirror.ts';
import type { Ecosystem } from '../../api/package-mirror.ts';
import type { FederatedJob } from '../../api/federatedjob.ts';
import { siteConfig } from '../../api/siteconfig.ts';
import type { SiteConfig } from '../../api/siteconfig.ts';
import { workspace as workspaceSchema } from '../../api/workspace.ts';
import type { Workspace } from '../../api/workspace.ts';

const octet = fc.integer({ min: 0, max: 255 });
/** A private IPv4 block, /16 to /32. */
export const privateCidr = fc
  .tuple(octet, octet, octet, fc.integer({ min: 16, max: 32 }))
  .map(([a, b, c, p]) => `10.${a}.${b}.${c}/${p}`);
const port = fc.record({ port: fc.integer({ min: 1, max: 65535 }), protocol: fc.constantFrom('TCP' as const, 'UDP' as const) });
const ports = fc.uniqueArray(port, { minLength: 1, maxLength: 3, selector: (p) => `${p.port}/${p.protocol}` });
const name = fc.stringMatching(/^[a-z][a-z0-9]{0,8}$/);

function destinations(prefix: string, max: number) {
  return fc.array(fc.record({ cidr: privateCidr, ports }), { maxLength: max }).map((list) => list.map((d, i) => ({ name: `${prefix}-${i}`, host: `${prefix}-${i}.example.nhs.uk`, ...d })));
}

type Generated = { name: string; host: string; cidr: string; ports: { port: number; protocol: 'TCP' | 'UDP' }[] };

// Each mirror serves the ecosystems drawn for it that no earlier mirror serves, on its first TCP
// port (one without a TCP port serves none), as the site schema requires.
function withIndexes(mirrors: Generated[], drawn: Ecosystem[][]): (Generated & { indexes?: Partial<Record<Ecosystem, string>> })[] {
  const taken = new Set<Ecosystem>();
  return mirrors.map((m, i) => {
    const tcp = m.ports.find((p) => p.protocol === 'TCP');
    const ecosystems = tcp === undefined ? [] : (drawn[i] ?? []).filter((e) => !taken.has(e));
    if (tcp === undefined || ecosystems.length === 0) return m;
    for (const e of ecosystems) taken.add(e);
    const origin = `https://${m.host}${tcp.port === 443 ? '' : `:${tcp.port}`}`;
    return { ...m, indexes: Object.fromEntries(ecosystems.map((e) => [e, `${origin}/repository/${e}`])) };
  });
}

// Catalogue volumes in every zone an enclave may see, writable only where the catalogue allows it (scratch).
const volumeDatasetArb = fc
  .record({
    zone: fc.constantFrom('curated' as const, 'standardised' as const, 'scratch' as const),
    writable: fc.boolean(),
    source: fc.oneof(
      fc.record({ nfs: fc.record({ server: fc.constant('datalake.example.nhs.uk'), path: name.map((n) => `/curated/${n}`) }) }),
      fc.record({ csi: fc.record({ driver: fc.constant('csi.example.com'), volumeHandle: name }) }),
      fc.record({ persistentVolume: name.map((n) => `pv-${n}`) }),
    ),
    size: fc.constantFrom('10Gi', '2Ti'),
  })
  .map(({ writable, zone, ...d }) => ({ kind: 'volume' as const, zone, ...d, readOnly: !(writable && zone === 'scratch') }));

// Catalogue entries held by the i-th generated data service (modulo how many there are), with or without a Secret key.
const serviceDatasetArb = fc.record({ service: fc.nat(), key: fc.boolean() });

/** A valid site configuration for site "uclh" with random destinations, dataset catalogue, mirror indexes, GPU products and RuntimeClass. */
export const siteArb: fc.Arbitrary<SiteConfig> = fc
  .record({
    products: fc.subarray(['NVIDIA-A100-SXM4-80GB', 'NVIDIA-A100-SXM4-40GB', 'NVIDIA-H100-80GB-HBM3'], { minLength: 1 }),
    runtimeClassName: fc.option(fc.constant('nvidia'), { nil: undefined }),
    totalGpus: fc.integer({ min: 0, max: 64 }),
    mirrors: destinations('mirror', 2),
    mirrorIndexes: fc.array(fc.subarray([...ECOSYSTEMS]), { minLength: 2, maxLength: 2 }),
    allowedEgress: destinations('egress', 3),
    aggregators: destinations('agg', 2),
    services: fc.array(fc.record({ kind: fc.constantFrom('database' as const, 'imaging' as const, 'search' as const), cidr: privateCidr, ports }), { maxLength: 4 }),
    volumes: fc.array(volumeDatasetArb, { maxLength: 4 }),
    serviceDatasets: fc.array(serviceDatasetArb, { maxLength: 3 }),
    peers: fc.array(privateCidr, { maxLength: 2 }),
  })
  .map((s) => {
    const services = s.services.map((d, i) => ({ name: `svc-${i}`, ...d }));
    const held = services.length === 0 ? [] : s.serviceDatasets.map(({ service, key }) => {
      const d = services[service % services.length]!;
      return { kind: d.kind, zone: 'curated', source: { dataService: d.name, secretRef: { name: `${d.name}-creds`, ...(key ? { key: 'token' } : {}) } } };
    });
    return siteConfig.parse({
      apiVersion: 'sde.london/v1alpha1',
      kind: 'SiteConfig',
      site: 'uclh',
      gpuPool: { products: s.products, defaultProduct: s.products[0], totalGpus: s.totalGpus, ...(s.runtimeClassName ? { runtimeClassName: s.runtimeClassName } : {}) },
      packageMirrors: withIndexes(s.mirrors, s.mirrorIndexes),
      allowedEgress: s.allowedEgress,
      aggregators: s.aggregators.length > 0 ? s.aggregators : [{ name: 'agg-0', cidr: '10.90.0.10/32', ports: [{ port: 8002 }] }],
      dataServices: services,
      datasets: [...s.volumes, ...held].map((d, i) => ({ name: `ds-${i}`, ...d })),
      peerSites: s.peers.map((cidr, i) => ({ name: `peer-${i}`, cidr })),
      allowedRegistries: ['registry.example.nhs.uk/'],
      images: { jupyterlab: 'registry.example.nhs.uk/jupyter:1', rstudio: 'registry.example.nhs.uk/rstudio:1', vscode: 'registry.example.nhs.uk/code:1' },
      groups: { 'g-0': ['u-10@example.org', 'u-0@example.org'], 'g-1': ['u-11@example.org'] },
    });
  });

const member = fc.oneof(
  fc.record({ user: fc.integer({ min: 0, max: 5 }).map((n) => `u-${n}@example.org`), role: fc.constantFrom('researcher' as const, 'lead' as const, 'data-manager' as const, 'output-checker' as const) }),
  fc.record({ group: fc.constantFrom('g-0', 'g-1', 'g-unknown'), role: fc.constantFrom('researcher' as const, 'lead' as const, 'data-manager' as const, 'output-checker' as const) }),
);

// Catalogue entries the enclave names, each kept as the catalogue has it, narrowed to read-only, or
// (hostile but schema-valid) asked to be writable; now and then a name the catalogue lacks.
function datasetRefsArb(site: SiteConfig) {
  const ref = (name: string) => fc.constantFrom({ name }, { name, readOnly: true }, { name, readOnly: false });
  const catalogued = fc.subarray(site.datasets.map((d) => d.name)).chain((names) => fc.tuple(...names.map(ref)));
  const stray = fc.oneof({ weight: 7, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: ref('not-catalogued') });
  return fc.tuple(catalogued, stray).map(([refs, extra]) => (extra ? [...refs, extra] : refs));
}

function egressArb(site: SiteConfig) {
  const outside = fc.record({ cidr: fc.oneof(privateCidr, fc.constant('0.0.0.0/0'), fc.constant('8.8.8.8/32')), ports, reason: fc.constant('requested') });
  if (site.allowedEgress.length === 0) return outside;
  const inside = fc.constantFrom(...site.allowedEgress).chain((d) => {
    const [ip, len] = d.cidr.split('/');
    return fc.record({ extra: fc.integer({ min: Number(len), max: 32 }), ports: fc.subarray(d.ports, { minLength: 1 }) }).map(({ extra, ports: p }) => ({ cidr: `${ip}/${extra}`, ports: p, reason: 'approved' }));
  });
  return fc.oneof(inside, outside);
}

/** A valid enclave at `site` with random members, datasets (catalogued or not, narrowed or not), GPUs, egress (approved or not) and workspace policy. */
export function enclaveArb(site: SiteConfig): fc.Arbitrary<Enclave> {
  return fc
    .record({
      name: fc.stringMatching(/^[a-z][a-z0-9-]{0,20}[a-z0-9]$/),
      uid: fc.option(fc.uuid(), { nil: undefined }),
      members: fc.array(member, { maxLength: 6 }),
      data: datasetRefsArb(site),
      gpus: fc.integer({ min: 0, max: 16 }),
      gpuProduct: fc.option(fc.constantFrom(...site.gpuPool.products), { nil: undefined }),
      packageMirror: fc.boolean(),
      egress: fc.array(egressArb(site), { maxLength: 3 }),
      autoProvision: fc.option(fc.record({ tool: fc.constantFrom('jupyterlab', 'rstudio', 'vscode'), resources: fc.record({ gpus: fc.integer({ min: 0, max: 2 }) }) }), { nil: undefined }),
      allowedImages: fc.constantFrom([], ['registry.example.nhs.uk/']),
      homeVolumes: fc.constantFrom('Retain', 'Delete'),
    })
    .map((e) =>
      enclaveSchema.parse({
        apiVersion: 'sde.london/v1alpha1',
        kind: 'Enclave',
        metadata: { name: e.name, ...(e.uid ? { uid: e.uid } : {}) },
        spec: {
          project: { id: 'SDE-2026-0001', title: 't', organisation: 'o', purpose: 'p', approvedBy: 'DAC' },
          site: 'uclh',
          access: { expiresAt: '2027-12-31T23:59:59Z' },
          members: e.members,
          data: e.data,
          resources: { gpus: e.gpus, ...(e.gpuProduct ? { gpuProduct: e.gpuProduct } : {}) },
          network: { packageMirror: e.packageMirror, egress: e.egress },
          workspaces: { allowedImages: e.allowedImages, ...(e.autoProvision ? { autoProvision: e.autoProvision } : {}) },
          retention: { homeVolumes: e.homeVolumes },
        },
      }),
    );
}

/** A valid workspace in `enclave`'s namespace with random tool, GPUs, datasets and state. */
export function workspaceArb(enclave: Enclave): fc.Arbitrary<Workspace> {
  const names = enclave.spec.data.map((d) => d.name);
  return fc
    .record({
      name: name.map((n) => `ws-${n}`),
      uid: fc.option(fc.uuid(), { nil: undefined }),
      tool: fc.constantFrom('jupyterlab', 'rstudio', 'vscode'),
      gpus: fc.integer({ min: 0, max: 8 }),
      datasets: fc.option(fc.subarray(names), { nil: undefined }),
      state: fc.constantFrom('Running', 'Stopped'),
    })
    .map((w) =>
      workspaceSchema.parse({
        apiVersion: 'sde.london/v1alpha1',
        kind: 'Workspace',
        metadata: { name: w.name, namespace: `sde-${enclave.metadata.name}`, ...(w.uid ? { uid: w.uid } : {}) },
        spec: { owner: 'u-0@example.org', tool: w.tool, resources: { gpus: w.gpus }, ...(w.datasets ? { datasets: w.datasets } : {}), state: w.state },
      }),
    );
}

/** A valid federated job in `enclave`'s namespace; this site may or may not take part or host the aggregator. */
export function federatedJobArb(enclave: Enclave, site: SiteConfig): fc.Arbitrary<FederatedJob> {
  const names = enclave.spec.data.map((d) => d.name);
  return fc
    .record({
      name: name.map((n) => `fl-${n}`),
      uid: fc.option(fc.uuid(), { nil: undefined }),
      framework: fc.constantFrom('nvflare', 'flower'),
      endpoint: fc.constantFrom(...site.aggregators.map((a) => a.name)),
      aggregatorSite: fc.constantFrom('uclh', 'peer-0', 'london-hub'),
      sites: fc.subarray(['uclh', 'peer-0', 'peer-1', 'gstt'], { minLength: 1 }),
      gpus: fc.integer({ min: 0, max: 8 }),
      datasets: fc.subarray(names),
    })
    .map((j) =>
      federatedJobSchema.parse({
        apiVersion: 'sde.london/v1alpha1',
        kind: 'FederatedJob',
        metadata: { name: j.name, namespace: `sde-${enclave.metadata.name}`, ...(j.uid ? { uid: j.uid } : {}) },
        spec: {
          framework: j.framework,
          aggregator: { endpoint: j.endpoint, site: j.aggregatorSite },
          sites: j.sites,
          participant: { image: 'registry.example.nhs.uk/fl:1', resources: { gpus: j.gpus }, datasets: j.datasets },
        },
      }),
    );
}

/** A site, an enclave at it, up to three workspaces and a federated job in it. */
export const worldArb = siteArb.chain((site) =>
  enclaveArb(site).chain((enclave) =>
    fc.record({
      site: fc.constant(site),
      enclave: fc.constant(enclave),
      workspaces: fc.uniqueArray(workspaceArb(enclave), { maxLength: 3, selector: (w) => w.metadata.name }),
      job: federatedJobArb(enclave, site),
    }),
  ),
);
