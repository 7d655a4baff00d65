// Rules that hold for every valid input, checked over generated sites, enclaves, workspaces and jobs.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { toYaml } from '../../api/yaml.ts';
import type { CatalogueDataset } from '../../api/dataset-catalogue.ts';
import type { Enclave } from '../../api/enclave.ts';
import type { FederatedJob } from '../../api/federatedjob.ts';
import type { SiteConfig } from '../../api/siteconfig.ts';
import type { Workspace } from '../../api/workspace.ts';
import { renderEnclave, renderFederatedJob, renderWorkspace } from '../../constructs/index.ts';
import { DATA, ENCLAVE, MANAGED_BY, PART_OF, PROJECT, SITE } from '../../constructs/labels.ts';
import type { KubeObject } from '../../constructs/objects.ts';
import { cidrContains } from '../../api/cidr.ts';
import type { NetworkPolicyObject, PolicyPeer, PolicyPort } from '../../isolation/policy-types.ts';
import { worldArb } from './arbitraries.ts';
import { podTemplates } from './pods.ts';
import { restrictedViolations } from './psa.ts';

interface World {
  site: SiteConfig;
  enclave: Enclave;
  workspaces: Workspace[];
  job: FederatedJob;
}

const RUNS = { numRuns: 150 };

// Frozen inputs make any mutation by a renderer throw (ES modules run in strict mode).
function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

function renderWorld(w: World, accessActive: boolean): KubeObject[] {
  return [
    ...renderEnclave(w.enclave, w.site, { accessActive }),
    ...w.workspaces.flatMap((ws) => renderWorkspace(ws, w.enclave, w.site, { accessActive })),
    ...renderFederatedJob(w.job, w.enclave, w.site, { accessActive, thisSite: 'uclh' }),
  ];
}

function policies(objects: KubeObject[]): NetworkPolicyObject[] {
  return objects.filter((o) => o.kind === 'NetworkPolicy') as unknown as NetworkPolicyObject[];
}

// The catalogue entries the enclave names, as the site describes them (whatever the enclave asked).
function catalogued(w: World): CatalogueDataset[] {
  return w.site.datasets.filter((d) => w.enclave.spec.data.some((ref) => ref.name === d.name));
}

// Whether an egress peer (with its rule's ports) is one of the destinations the world names.
function namedDestination(peer: PolicyPeer, rulePorts: PolicyPort[], w: World): boolean {
  const site = w.site;
  if (peer.ipBlock === undefined) {
    const dns = peer.namespaceSelector?.matchLabels?.['kubernetes.io/metadata.name'] === site.dns.namespace && JSON.stringify(peer.podSelector?.matchLabels) === JSON.stringify(site.dns.podLabels);
    const localAggregator = peer.namespaceSelector === undefined && peer.podSelector?.matchLabels?.['app.kubernetes.io/component'] === 'aggregator';
    return dns || localAggregator;
  }
  const { cidr, except } = peer.ipBlock;
  if (cidr === '0.0.0.0/0' || (except ?? []).length > 0) return false;
  const opens = (d: { ports: { port: number; protocol: string }[] }) => rulePorts.every((p) => d.ports.some((q) => q.port === p.port && q.protocol === p.protocol));
  const services = site.dataServices.filter((s) => catalogued(w).some((d) => d.kind !== 'volume' && d.source.dataService === s.name && d.kind === s.kind));
  const mirrors = w.enclave.spec.network.packageMirror ? site.packageMirrors : [];
  const aggregators = site.aggregators.filter((a) => a.name === w.job.spec.aggregator.endpoint);
  if ([...services, ...mirrors, ...aggregators].some((d) => d.cidr === cidr && opens(d))) return true;
  const requested = w.enclave.spec.network.egress.some((r) => r.cidr === cidr);
  return requested && site.allowedEgress.some((d) => cidrContains(d.cidr, cidr) && opens(d));
}

describe('for every valid enclave, workspace and federated job', () => {
  it('there is a default-deny policy for ingress and egress selecting every pod', () => {
    fc.assert(
      fc.property(worldArb, (w) => {
        const deny = policies(renderEnclave(w.enclave, w.site, { accessActive: true })).filter(
          (p) => JSON.stringify(p.spec.podSelector) === '{}' && (p.spec.ingress ?? []).length === 0 && (p.spec.egress ?? []).length === 0,
        );
        expect(deny.flatMap((p) => p.spec.policyTypes ?? []).sort()).toEqual(['Egress', 'Ingress']);
      }),
      RUNS,
    );
  });

  it('every egress destination is DNS, a dataset service, the mirror, an approved destination or the aggregator', () => {
    fc.assert(
      fc.property(worldArb, (w) => {
        for (const p of policies(renderWorld(w, true))) {
          for (const rule of p.spec.egress ?? []) {
            expect(rule.to?.length, `${p.metadata.name}: a rule without "to" would allow every destination`).toBeGreaterThan(0);
            expect(rule.ports?.length, `${p.metadata.name}: a rule without ports would allow every port`).toBeGreaterThan(0);
            for (const peer of rule.to ?? []) {
              expect(namedDestination(peer, rule.ports ?? [], w), `${p.metadata.name} allows ${JSON.stringify(peer)}`).toBe(true);
            }
          }
        }
      }),
      RUNS,
    );
  });

  it('ingress is allowed only from the site gateway, or to an aggregator from its participants and peer sites', () => {
    fc.assert(
      fc.property(worldArb, (w) => {
        for (const p of policies(renderWorld(w, true))) {
          for (const rule of p.spec.ingress ?? []) {
            for (const peer of rule.from ?? []) {
              const gateway = peer.namespaceSelector?.matchLabels?.['kubernetes.io/metadata.name'] === w.site.gateway.namespace;
              const participants = peer.namespaceSelector === undefined && peer.podSelector?.matchLabels?.['app.kubernetes.io/component'] === 'participant';
              const peerSite = peer.ipBlock !== undefined && (w.site.peerSites ?? []).some((s) => s.cidr === peer.ipBlock?.cidr && w.job.spec.sites.includes(s.name));
              expect(gateway || participants || peerSite, `${p.metadata.name} admits ${JSON.stringify(peer)}`).toBe(true);
            }
          }
        }
      }),
      RUNS,
    );
  });

  it('no dataset is mounted writable unless the catalogue makes it a writable scratch volume and the enclave does not narrow it', () => {
    fc.assert(
      fc.property(worldArb, (w) => {
        const objects = renderWorld(w, true);
        const writable = (d: CatalogueDataset): boolean => d.kind === 'volume' && d.zone === 'scratch' && !d.readOnly;
        const writableClaims = new Set(w.enclave.spec.data.filter((ref) => ref.readOnly !== true && w.site.datasets.some((d) => d.name === ref.name && writable(d))).map((ref) => `data-${ref.name}`));
        for (const { spec } of podTemplates(objects)) {
          for (const v of spec.volumes ?? []) {
            const claim = v.persistentVolumeClaim?.claimName;
            if (claim === undefined || !claim.startsWith('data-')) continue;
            const mounts = spec.containers.flatMap((c) => c.volumeMounts ?? []).filter((m) => m.name === v.name);
            const writable = v.persistentVolumeClaim?.readOnly !== true || mounts.some((m) => m.readOnly !== true);
            expect(writable).toBe(writableClaims.has(claim));
            for (const m of mounts) expect(m.mountPath).toMatch(/^\/data\//);
          }
        }
        const dataKinds = objects.filter((x) => x.metadata.labels?.[DATA] === 'true').map((x) => x.kind);
        expect(dataKinds.filter((k) => k !== 'PersistentVolumeClaim' && k !== 'PersistentVolume')).toEqual([]);
        for (const pv of objects.filter((x) => x.kind === 'PersistentVolume')) {
          const spec = pv.spec as { persistentVolumeReclaimPolicy: string; accessModes: string[] };
          expect(spec.persistentVolumeReclaimPolicy).toBe('Retain');
          expect(pv.metadata.ownerReferences).toBeUndefined();
        }
      }),
      RUNS,
    );
  });

  it('every dataset volume, claim and mount is a catalogue entry the enclave names, with the catalogue\'s source and size; a scratch mount reaches only the enclave\'s own folder', () => {
    fc.assert(
      fc.property(worldArb, (w) => {
        const objects = renderWorld(w, true);
        const entries = new Map(catalogued(w).map((d) => [`data-${d.name}`, d]));
        for (const claim of objects.filter((x) => x.kind === 'PersistentVolumeClaim' && x.metadata.labels?.[DATA] === 'true' && x.metadata.name.startsWith('data-'))) {
          const entry = entries.get(claim.metadata.name);
          expect(entry?.kind, `claim ${claim.metadata.name} of a dataset the catalogue has`).toBe('volume');
          if (entry?.kind !== 'volume') continue;
          const spec = claim.spec as { volumeName: string; resources: { requests: { storage: string } } };
          expect(spec.resources.requests.storage).toBe(String(entry.size));
          if (entry.source.persistentVolume !== undefined) expect(spec.volumeName).toBe(entry.source.persistentVolume);
        }
        for (const pv of objects.filter((x) => x.kind === 'PersistentVolume')) {
          const entry = entries.get(`data-${pv.metadata.name.split('.')[1]}`);
          expect(entry?.kind).toBe('volume');
          if (entry?.kind !== 'volume') continue;
          const spec = pv.spec as { nfs?: { server: string; path: string }; csi?: { driver: string; volumeHandle: string } };
          expect(spec.nfs && { server: spec.nfs.server, path: spec.nfs.path }).toEqual(entry.source.nfs);
          expect(spec.csi && { driver: spec.csi.driver, volumeHandle: spec.csi.volumeHandle }).toEqual(entry.source.csi && { driver: entry.source.csi.driver, volumeHandle: entry.source.csi.volumeHandle });
        }
        for (const { spec } of podTemplates(objects)) {
          for (const v of spec.volumes ?? []) {
            const entry = entries.get(v.persistentVolumeClaim?.claimName ?? '');
            if (entry === undefined) continue;
            for (const m of spec.containers.flatMap((c) => c.volumeMounts ?? []).filter((x) => x.name === v.name)) {
              expect(m.subPath).toBe(entry.zone === 'scratch' ? w.enclave.metadata.name : undefined);
            }
          }
        }
      }),
      RUNS,
    );
  });

  it('every pod template passes Pod Security restricted', () => {
    fc.assert(
      fc.property(worldArb, (w) => {
        for (const { owner, spec } of podTemplates(renderWorld(w, true))) {
          expect(restrictedViolations(spec), `${owner.kind} ${owner.metadata.name}`).toEqual([]);
          expect(spec.automountServiceAccountToken).toBe(false);
        }
      }),
      RUNS,
    );
  });

  it('a pod has a GPU limit exactly when it has the product selector and the pool toleration; without GPUs it stays off GPU nodes', () => {
    fc.assert(
      fc.property(worldArb, (w) => {
        for (const { spec } of podTemplates(renderWorld(w, true))) {
          const c = spec.containers[0]!;
          const limit = Number(c.resources?.limits?.['nvidia.com/gpu'] ?? 0);
          const selector = spec.nodeSelector?.[w.site.gpuPool.productLabel] !== undefined;
          const taint = w.site.gpuPool.taint;
          const toleration = (spec.tolerations ?? []).some((t) => t.key === taint.key && (t.operator === 'Exists' || t.value === taint.value));
          expect(selector).toBe(limit > 0);
          expect(toleration).toBe(limit > 0);
          expect(spec.runtimeClassName).toBe(limit > 0 ? w.site.gpuPool.runtimeClassName : undefined);
          if (limit > 0) expect(w.site.gpuPool.products).toContain(spec.nodeSelector?.[w.site.gpuPool.productLabel]);
          if (limit === 0) {
            const terms = spec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms ?? [];
            expect(terms.length).toBeGreaterThan(0);
            for (const t of terms) expect(t.matchExpressions).toContainEqual({ key: 'nvidia.com/gpu.present', operator: 'NotIn', values: ['true'] });
          }
        }
      }),
      RUNS,
    );
  });

  it('rendering the same input twice gives byte-identical YAML, and never changes its input', () => {
    fc.assert(
      fc.property(worldArb, (w) => {
        const first = renderWorld(deepFreeze(w), true).map((o) => toYaml(o)).join('---\n');
        const again = renderWorld(structuredClone(w), true).map((o) => toYaml(o)).join('---\n');
        expect(again).toBe(first);
      }),
      { numRuns: 50 },
    );
  });

  it('every object carries the project labels, and an owner reference unless it holds data or the uid is unknown', () => {
    fc.assert(
      fc.property(worldArb, (w) => {
        for (const o of renderWorld(w, true)) {
          expect(o.metadata.labels).toMatchObject({ [MANAGED_BY]: 'sde-operator', [PART_OF]: 'sde-enclave-operator', [ENCLAVE]: w.enclave.metadata.name, [SITE]: 'uclh', [PROJECT]: 'SDE-2026-0001' });
          expect(o.metadata.name.length).toBeLessThanOrEqual(o.kind === 'PersistentVolume' ? 253 : 63);
          const data = o.metadata.labels?.[DATA] === 'true';
          if (data) expect(o.metadata.ownerReferences).toBeUndefined();
          const owner = o.metadata.ownerReferences?.[0];
          if (owner) expect(owner).toMatchObject({ controller: true, blockOwnerDeletion: true });
        }
        if (w.enclave.metadata.uid !== undefined) {
          for (const o of renderEnclave(w.enclave, w.site, { accessActive: true })) {
            if (o.metadata.labels?.[DATA] !== 'true') expect(o.metadata.ownerReferences?.[0]?.uid).toBe(w.enclave.metadata.uid);
          }
        }
      }),
      RUNS,
    );
  });

  it('without access: no RoleBindings, no running workspaces, aggregators or participants, and every volume still there', () => {
    fc.assert(
      fc.property(worldArb, (w) => {
        const on = renderWorld(w, true);
        const off = renderWorld(w, false);
        expect(off.filter((o) => o.kind === 'RoleBinding')).toEqual([]);
        for (const o of off) {
          if (o.kind === 'StatefulSet' || o.kind === 'Deployment') expect((o.spec as { replicas: number }).replicas).toBe(0);
          if (o.kind === 'Job') expect((o.spec as { suspend: boolean }).suspend).toBe(true);
        }
        const volumes = (list: KubeObject[]) => list.filter((o) => o.kind === 'PersistentVolume' || o.kind === 'PersistentVolumeClaim').map((o) => toYaml(o));
        expect(volumes(off)).toEqual(volumes(on));
        expect(on.filter((o) => o.kind === 'RoleBinding').length).toBe(new Set(w.enclave.spec.members.map((m) => `${m.role}/${m.user ?? ''}/${m.group ?? ''}`)).size);
      }),
      RUNS,
    );
  });
});
