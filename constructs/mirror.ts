// The site's package mirror inside an enclave: pip, conda, R and npm in every workspace and
// federated-job participant are pointed at the index URLs the SiteConfig names. Egress reaches
// only the mirror, so a tool left at its default index fails on first use.
import type { V1EnvVar, V1Volume, V1VolumeMount } from '@kubernetes/client-node';
import type { Construct } from 'constructs';
import { stringify } from 'yaml';
import { enclaveNamespace } from '../api/enclave.ts';
import type { Enclave } from '../api/enclave.ts';
import { ECOSYSTEMS } from '../api/package-mirror.ts';
import type { Ecosystem } from '../api/package-mirror.ts';
import type { SiteConfig } from '../api/siteconfig.ts';
import { enclaveChildLabels } from './labels.ts';
import { PlainApiObject } from './objects.ts';
import type { OwnerReference } from './objects.ts';

/** The ConfigMap in each enclave namespace holding the tools' configuration files. */
export const PACKAGE_MIRROR_CONFIG_MAP = 'package-mirror';

/** Where pods mount that ConfigMap, read-only. */
export const PACKAGE_MIRROR_PATH = '/etc/sde/package-mirror';

// The file per ecosystem whose tool reads a file rather than the environment. conda loads a file
// named by $CONDARC only when its name ends in "condarc" (or .yml/.yaml).
const FILES = { conda: 'condarc', cran: 'Rprofile.site' } as const satisfies Partial<Record<Ecosystem, string>>;

/** One ecosystem's index: its URL and the mirror that serves it. */
export interface MirrorIndex {
  mirror: string;
  url: string;
}

/** The index per ecosystem the enclave's pods use: the site mirrors' when the enclave allows the mirror, none otherwise. */
export function enclaveMirrorIndexes(enclave: Enclave, site: SiteConfig): Partial<Record<Ecosystem, MirrorIndex>> {
  const out: Partial<Record<Ecosystem, MirrorIndex>> = {};
  if (!enclave.spec.network.packageMirror) return out;
  // The site schema allows one mirror per ecosystem; the first is taken all the same.
  for (const mirror of site.packageMirrors) {
    for (const ecosystem of ECOSYSTEMS) {
      const url = mirror.indexes?.[ecosystem];
      if (url !== undefined) out[ecosystem] ??= { mirror: mirror.name, url };
    }
  }
  return out;
}

function condarc(index: MirrorIndex): string {
  const channel = index.url.replace(/\/+$/, '');
  // A channel named anywhere else (an image's own conda-forge, `-c bioconda`) resolves beside
  // this one on the mirror, never on anaconda.org; "defaults" means this channel.
  const alias = channel.slice(0, channel.lastIndexOf('/'));
  const header = `# conda channels on the site's package mirror "${index.mirror}", rendered by sde-operator from the SiteConfig.\n`;
  return header + stringify({ channels: [channel], default_channels: [channel], channel_alias: alias });
}

function rprofile(index: MirrorIndex): string {
  // The URL is in its normal written form (checked by the SiteConfig schema): a valid R string as JSON writes it.
  return [
    `# CRAN on the site's package mirror "${index.mirror}", rendered by sde-operator from the SiteConfig.`,
    `options(repos = c(CRAN = ${JSON.stringify(index.url)}))`,
    '',
  ].join('\n');
}

/** The files of the enclave's package-mirror ConfigMap by key: a condarc when conda is served, an Rprofile.site when CRAN is; empty otherwise. */
export function packageMirrorFiles(enclave: Enclave, site: SiteConfig): Record<string, string> {
  const indexes = enclaveMirrorIndexes(enclave, site);
  return {
    ...(indexes.conda ? { [FILES.conda]: condarc(indexes.conda) } : {}),
    ...(indexes.cran ? { [FILES.cran]: rprofile(indexes.cran) } : {}),
  };
}

/**
 * Adds the package-mirror ConfigMap to the enclave's namespace, labelled and owned like its other
 * children, when the enclave uses a mirror serving conda or CRAN; adds nothing otherwise.
 */
export function addPackageMirrorConfig(scope: Construct, enclave: Enclave, site: SiteConfig, ownerReferences: OwnerReference[] | undefined): void {
  const data = packageMirrorFiles(enclave, site);
  if (Object.keys(data).length === 0) return;
  new PlainApiObject(scope, 'package-mirror', {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: PACKAGE_MIRROR_CONFIG_MAP, namespace: enclaveNamespace(enclave.metadata.name), labels: enclaveChildLabels(enclave, 'package-mirror'), ownerReferences },
    data,
  });
}

/** What a pod needs to use the mirror: environment, and the ConfigMap as a read-only volume and mount. */
export interface MirrorPodParts {
  env: V1EnvVar[];
  volumes: V1Volume[];
  mounts: V1VolumeMount[];
}

/**
 * The environment, volume and mount that point an enclave pod's pip (PIP_INDEX_URL), conda
 * (CONDARC), R (R_PROFILE) and npm (NPM_CONFIG_REGISTRY) at the mirror; all empty when the enclave
 * does not use one. A variable named in `podEnv` is left to the pod, so none is set twice.
 */
export function mirrorPodParts(enclave: Enclave, site: SiteConfig, podEnv: readonly V1EnvVar[] = []): MirrorPodParts {
  const indexes = enclaveMirrorIndexes(enclave, site);
  const file = (name: string): string => `${PACKAGE_MIRROR_PATH}/${name}`;
  const env: V1EnvVar[] = [
    ...(indexes.pypi ? [{ name: 'PIP_INDEX_URL', value: indexes.pypi.url }] : []),
    ...(indexes.conda ? [{ name: 'CONDARC', value: file(FILES.conda) }] : []),
    ...(indexes.cran ? [{ name: 'R_PROFILE', value: file(FILES.cran) }] : []),
    ...(indexes.npm ? [{ name: 'NPM_CONFIG_REGISTRY', value: indexes.npm.url }] : []),
  ].filter((e) => !podEnv.some((own) => own.name === e.name));
  if (indexes.conda === undefined && indexes.cran === undefined) return { env, volumes: [], mounts: [] };
  return {
    env,
    volumes: [{ name: PACKAGE_MIRROR_CONFIG_MAP, configMap: { name: PACKAGE_MIRROR_CONFIG_MAP, defaultMode: 0o444, optional: false } }],
    mounts: [{ name: PACKAGE_MIRROR_CONFIG_MAP, mountPath: PACKAGE_MIRROR_PATH, readOnly: true }],
  };
}
