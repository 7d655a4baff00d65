// The site's package mirror inside an enclave: what pip, conda, R and npm in a workspace or a
// federated-job participant are pointed at, read back from the rendered objects.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { V1EnvVar, V1PodSpec } from '@kubernetes/client-node';
import type { Enclave } from '../../api/enclave.ts';
import { siteConfig } from '../../api/siteconfig.ts';
import type { SiteConfig } from '../../api/siteconfig.ts';
import { renderEnclave, renderFederatedJob, renderWorkspace } from '../../constructs/index.ts';
import type { KubeObject } from '../../constructs/objects.ts';
import { cardiacEnclave, find, jupyterWorkspace, nvflareJob, ofKind, rstudioWorkspace, uclhSite } from './fixtures.ts';
import { podTemplates } from './pods.ts';
import { restrictedViolations } from './psa.ts';
import { worldArb } from './arbitraries.ts';

const active = { accessActive: true };
const MIRROR_ENV = ['PIP_INDEX_URL', 'CONDARC', 'R_PROFILE', 'NPM_CONFIG_REGISTRY'];

/** The enclave's objects and the pods of its two workspaces and its federated job. */
function renderAll(enclave: Enclave, site: SiteConfig): { enclave: KubeObject[]; pods: { owner: string; spec: V1PodSpec }[] } {
  const workloads = [
    ...renderWorkspace(jupyterWorkspace(), enclave, site, active),
    ...renderWorkspace(rstudioWorkspace(), enclave, site, active),
    ...renderFederatedJob(nvflareJob(), enclave, site, { ...active, thisSite: 'uclh' }),
  ];
  return { enclave: renderEnclave(enclave, site, active), pods: podTemplates(workloads).map(({ owner, spec }) => ({ owner: `${owner.kind} ${owner.metadata.name}`, spec })) };
}

const envOf = (spec: V1PodSpec): V1EnvVar[] => spec.containers[0]?.env ?? [];
const mirrorEnvOf = (spec: V1PodSpec): Record<string, string | undefined> =>
  Object.fromEntries(envOf(spec).filter((e) => MIRROR_ENV.includes(e.name)).map((e) => [e.name, e.value]));

function withMirror(site: SiteConfig, indexes: Record<string, string> | undefined): SiteConfig {
  const [nexus] = site.packageMirrors;
  const { indexes: _dropped, ...bare } = nexus!;
  return siteConfig.parse({ ...site, packageMirrors: [{ ...bare, ...(indexes ? { indexes } : {}) }] });
}

describe('the UCLH package mirror in the cardiac MRI enclave', () => {
  const { enclave, pods } = renderAll(cardiacEnclave(), uclhSite());

  it('renders one ConfigMap with the conda and R configuration, labelled and owned like the enclave\'s other children', () => {
    const config = find(enclave, 'ConfigMap', 'package-mirror');
    expect(ofKind(enclave, 'ConfigMap')).toHaveLength(1);
    expect(config.metadata).toEqual({
      name: 'package-mirror',
      namespace: 'sde-cardiac-mri',
      labels: {
        'app.kubernetes.io/component': 'package-mirror',
        'app.kubernetes.io/managed-by': 'sde-operator',
        'app.kubernetes.io/name': 'enclave',
        'app.kubernetes.io/part-of': 'sde-enclave-operator',
        'sde.london/enclave': 'cardiac-mri',
        'sde.london/project': 'SDE-2026-0042',
        'sde.london/site': 'uclh',
      },
      ownerReferences: [{ apiVersion: 'sde.london/v1alpha1', kind: 'Enclave', name: 'cardiac-mri', uid: 'enclave-uid-1', controller: true, blockOwnerDeletion: true }],
    });
    expect(config.data).toEqual({
      condarc: [
        '# conda channels on the site\'s package mirror "nexus", rendered by sde-operator from the SiteConfig.',
        'channels:',
        '  - https://nexus.sde.uclh.nhs.uk/repository/conda-forge',
        'default_channels:',
        '  - https://nexus.sde.uclh.nhs.uk/repository/conda-forge',
        'channel_alias: https://nexus.sde.uclh.nhs.uk/repository',
        '',
      ].join('\n'),
      'Rprofile.site': [
        '# CRAN on the site\'s package mirror "nexus", rendered by sde-operator from the SiteConfig.',
        'options(repos = c(CRAN = "https://nexus.sde.uclh.nhs.uk/repository/cran"))',
        '',
      ].join('\n'),
    });
  });

  it('points pip, conda, R and npm of every workspace and participant pod at the mirror', () => {
    expect(pods.map((p) => p.owner)).toEqual(['StatefulSet okafor-jupyter', 'StatefulSet patel-rstudio', 'Job cardiac-segmentation-fl-participant']);
    for (const { owner, spec } of pods) {
      expect(mirrorEnvOf(spec), owner).toEqual({
        PIP_INDEX_URL: 'https://nexus.sde.uclh.nhs.uk/repository/pypi/simple',
        CONDARC: '/etc/sde/package-mirror/condarc',
        R_PROFILE: '/etc/sde/package-mirror/Rprofile.site',
        NPM_CONFIG_REGISTRY: 'https://nexus.sde.uclh.nhs.uk/repository/npm/',
      });
      expect(spec.volumes, owner).toContainEqual({ name: 'package-mirror', configMap: { name: 'package-mirror', defaultMode: 0o444, optional: false } });
      expect(spec.containers[0]?.volumeMounts, owner).toContainEqual({ name: 'package-mirror', mountPath: '/etc/sde/package-mirror', readOnly: true });
      expect(restrictedViolations(spec), owner).toEqual([]);
    }
  });

  it('leaves a variable the participant sets itself to the participant, setting none twice', () => {
    const job = nvflareJob();
    job.spec.participant.env = [{ name: 'PIP_INDEX_URL', value: 'https://nexus.sde.uclh.nhs.uk/repository/pypi-group/simple' }];
    const { spec } = podTemplates(renderFederatedJob(job, cardiacEnclave(), uclhSite(), { ...active, thisSite: 'uclh' }))[0]!;
    expect(envOf(spec).filter((e) => e.name === 'PIP_INDEX_URL')).toEqual([{ name: 'PIP_INDEX_URL', value: 'https://nexus.sde.uclh.nhs.uk/repository/pypi-group/simple' }]);
    expect(mirrorEnvOf(spec)).toMatchObject({ CONDARC: '/etc/sde/package-mirror/condarc', NPM_CONFIG_REGISTRY: 'https://nexus.sde.uclh.nhs.uk/repository/npm/' });
  });
});

describe('no package-mirror configuration', () => {
  const noMirror = cardiacEnclave();
  noMirror.spec.network.packageMirror = false;

  it.each([
    ['the enclave does not allow the mirror (network.packageMirror: false)', noMirror, uclhSite()],
    ['the site\'s mirror names no index', cardiacEnclave(), withMirror(uclhSite(), undefined)],
    ['the site has no mirror', cardiacEnclave(), siteConfig.parse({ ...uclhSite(), packageMirrors: [] })],
  ])('is rendered when %s: no ConfigMap, no environment, no volume', (_when, e, site) => {
    const { enclave, pods } = renderAll(e, site);
    expect(ofKind(enclave, 'ConfigMap')).toEqual([]);
    for (const { owner, spec } of pods) {
      expect(mirrorEnvOf(spec), owner).toEqual({});
      expect(spec.volumes?.map((v) => v.name), owner).not.toContain('package-mirror');
      expect(spec.containers[0]?.volumeMounts?.map((m) => m.name), owner).not.toContain('package-mirror');
    }
  });
});

it('renders only the environment, without a ConfigMap, for a mirror that serves PyPI and npm only', () => {
  const site = withMirror(uclhSite(), { pypi: 'https://nexus.sde.uclh.nhs.uk/repository/pypi/simple', npm: 'https://nexus.sde.uclh.nhs.uk/repository/npm/' });
  const { enclave, pods } = renderAll(cardiacEnclave(), site);
  expect(ofKind(enclave, 'ConfigMap')).toEqual([]);
  for (const { owner, spec } of pods) {
    expect(mirrorEnvOf(spec), owner).toEqual({ PIP_INDEX_URL: 'https://nexus.sde.uclh.nhs.uk/repository/pypi/simple', NPM_CONFIG_REGISTRY: 'https://nexus.sde.uclh.nhs.uk/repository/npm/' });
    expect(spec.volumes?.map((v) => v.name), owner).not.toContain('package-mirror');
  }
});

describe('for every valid site, enclave, workspace and federated job', () => {
  it('tools are pointed only at a site mirror the enclave allows, a pod mounts the ConfigMap read-only exactly when the enclave renders it, and no variable is set twice', () => {
    fc.assert(
      fc.property(worldArb, (w) => {
        const configMaps = ofKind(renderEnclave(w.enclave, w.site, active), 'ConfigMap');
        const workloads = [...w.workspaces.flatMap((ws) => renderWorkspace(ws, w.enclave, w.site, active)), ...renderFederatedJob(w.job, w.enclave, w.site, { ...active, thisSite: 'uclh' })];
        const hosts = w.enclave.spec.network.packageMirror ? w.site.packageMirrors.map((m) => m.host) : [];
        const urls = [
          ...configMaps.flatMap((c) => Object.values(c.data as Record<string, string>).flatMap((file) => file.match(/https:\/\/[^\s"]+/g) ?? [])),
          ...podTemplates(workloads).flatMap(({ spec }) => envOf(spec).filter((e) => e.name === 'PIP_INDEX_URL' || e.name === 'NPM_CONFIG_REGISTRY').map((e) => e.value ?? '')),
        ];
        for (const url of urls) expect(hosts, url).toContain(new URL(url).hostname);
        expect(configMaps.map((c) => c.metadata.name)).toEqual(configMaps.length > 0 ? ['package-mirror'] : []);
        for (const { owner, spec } of podTemplates(workloads)) {
          const where = `${owner.kind} ${owner.metadata.name}`;
          const names = envOf(spec).map((e) => e.name);
          expect(new Set(names).size, where).toBe(names.length);
          const mounted = spec.containers[0]?.volumeMounts?.filter((m) => m.name === 'package-mirror') ?? [];
          expect(mounted.length, where).toBe(owner.kind === 'Deployment' ? 0 : configMaps.length);
          for (const m of mounted) expect(m.readOnly, where).toBe(true);
        }
      }),
      { numRuns: 150 },
    );
  });
});
