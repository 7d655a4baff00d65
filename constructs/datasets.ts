// An enclave's approved datasets, as the site's catalogue describes them: read-only
// PersistentVolumes and claims for volume datasets, and the volumes, mounts and environment that
// bring datasets into a workspace or job pod.
import type { Construct } from 'constructs';
import type { V1EnvVar, V1PersistentVolumeClaimSpec, V1PersistentVolumeSpec, V1Volume, V1VolumeMount } from '@kubernetes/client-node';
import { enclaveDatasets } from '../api/dataset-catalogue.ts';
import type { EnclaveDataset } from '../api/dataset-catalogue.ts';
import { enclaveNamespace } from '../api/enclave.ts';
import type { Enclave } from '../api/enclave.ts';
import type { SiteConfig } from '../api/siteconfig.ts';
import { DATA, enclaveChildLabels } from './labels.ts';
import { prefixedName } from '../api/names.ts';
import { PlainApiObject } from './objects.ts';

/** Where dataset `name` appears in a pod. */
export function datasetMountPath(name: string): string {
  return `/data/${name}`;
}

/** Where the credentials of a database, imaging or search dataset appear in a pod when its Secret is mounted whole. */
export function datasetSecretPath(name: string): string {
  return `/var/run/secrets/sde/datasets/${name}`;
}

/** True only for a scratch-zone volume the catalogue lets enclaves write and the enclave did not narrow; every other dataset is mounted read-only. */
export function datasetWritable(ds: EnclaveDataset): boolean {
  return ds.kind === 'volume' && ds.zone === 'scratch' && !ds.readOnly;
}

/** The claim (in the enclave's namespace) through which pods mount volume dataset `name`. */
export function datasetClaimName(name: string): string {
  return prefixedName('data', name);
}

/**
 * The cluster-scoped PersistentVolume rendered for an NFS or CSI dataset: `sde-<enclave>.<dataset>`.
 * The dot cannot occur in either name, so two enclaves can never render the same volume name.
 */
export function datasetVolumeName(enclaveName: string, name: string): string {
  return `${enclaveNamespace(enclaveName)}.${name}`;
}

/**
 * Renders a PersistentVolume (for NFS and CSI sources; an existing PV is bound by name) and a
 * claim pre-bound to it for every volume dataset the enclave names and the site catalogues, with
 * the catalogue's source and size. Reclaim policy Retain and no owner references: deleting an
 * enclave never deletes data. Both carry the data label the pruner never deletes.
 */
export function addDatasetStorage(scope: Construct, enclave: Enclave, site: SiteConfig): void {
  const namespace = enclaveNamespace(enclave.metadata.name);
  const labels = { ...enclaveChildLabels(enclave, 'dataset'), [DATA]: 'true' };
  for (const ds of enclaveDatasets(enclave.spec, site)) {
    if (ds.kind !== 'volume') continue;
    const writable = datasetWritable(ds);
    const accessModes = [writable ? 'ReadWriteMany' : 'ReadOnlyMany'];
    const size = String(ds.size);
    const claimName = datasetClaimName(ds.name);
    let volumeName = ds.source.persistentVolume;
    if (volumeName === undefined) {
      volumeName = datasetVolumeName(enclave.metadata.name, ds.name);
      const spec: V1PersistentVolumeSpec = {
        accessModes,
        capacity: { storage: size },
        persistentVolumeReclaimPolicy: 'Retain',
        storageClassName: '',
        volumeMode: 'Filesystem',
        claimRef: { apiVersion: 'v1', kind: 'PersistentVolumeClaim', namespace, name: claimName },
        ...(ds.source.nfs ? { nfs: { server: ds.source.nfs.server, path: ds.source.nfs.path, readOnly: !writable } } : {}),
        ...(ds.source.csi
          ? { csi: { driver: ds.source.csi.driver, volumeHandle: ds.source.csi.volumeHandle, readOnly: !writable, volumeAttributes: ds.source.csi.volumeAttributes } }
          : {}),
      };
      new PlainApiObject(scope, `pv-${ds.name}`, { apiVersion: 'v1', kind: 'PersistentVolume', metadata: { name: volumeName, labels }, spec });
    }
    const claim: V1PersistentVolumeClaimSpec = {
      accessModes,
      storageClassName: '',
      volumeMode: 'Filesystem',
      volumeName,
      resources: { requests: { storage: size } },
    };
    new PlainApiObject(scope, `pvc-${ds.name}`, { apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: claimName, namespace, labels }, spec: claim });
  }
}

/** The volumes, read-only mounts and environment that bring the named datasets into a pod. */
export interface PodDatasets {
  volumes: V1Volume[];
  mounts: V1VolumeMount[];
  env: V1EnvVar[];
}

function envName(dataset: string, what: string): string {
  return `SDE_DATASET_${dataset.toUpperCase().replace(/[^A-Z0-9]/g, '_')}_${what}`;
}

/**
 * Volume datasets are mounted at /data/<name> (read-only unless a writable scratch volume; a
 * scratch volume only through the enclave's own folder on it, so enclaves sharing the site's
 * scratch space never see each other's files); database, imaging and search datasets get their
 * service's host and port as environment and their credentials only from the Secret the catalogue
 * names: one key as a secretKeyRef, or the whole Secret as a read-only volume. Names not among the
 * enclave's catalogued datasets are skipped (policy reports them).
 */
export function podDatasets(enclave: Enclave, names: readonly string[], site: SiteConfig): PodDatasets {
  const out: PodDatasets = { volumes: [], mounts: [], env: [] };
  const datasets = enclaveDatasets(enclave.spec, site);
  for (const name of names) {
    const ds = datasets.find((d) => d.name === name);
    if (ds === undefined) continue;
    if (ds.kind === 'volume') {
      const volume = datasetClaimName(ds.name);
      const readOnly = !datasetWritable(ds);
      out.volumes.push({ name: volume, persistentVolumeClaim: { claimName: volume, readOnly } });
      out.mounts.push({ name: volume, mountPath: datasetMountPath(ds.name), readOnly, ...(ds.zone === 'scratch' ? { subPath: enclave.metadata.name } : {}) });
      continue;
    }
    const service = site.dataServices.find((s) => s.name === ds.source.dataService);
    if (service !== undefined) {
      out.env.push({ name: envName(ds.name, 'HOST'), value: service.host ?? service.cidr.split('/')[0] ?? service.cidr });
      out.env.push({ name: envName(ds.name, 'PORT'), value: String(service.ports[0]?.port ?? '') });
    }
    const secret = ds.source.secretRef;
    if (secret === undefined) continue;
    if (secret.key !== undefined) {
      out.env.push({ name: envName(ds.name, 'CREDENTIALS'), valueFrom: { secretKeyRef: { name: secret.name, key: secret.key, optional: false } } });
    } else {
      const volume = prefixedName('cred', ds.name);
      out.volumes.push({ name: volume, secret: { secretName: secret.name, defaultMode: 0o440, optional: false } });
      out.mounts.push({ name: volume, mountPath: datasetSecretPath(ds.name), readOnly: true });
    }
  }
  return out;
}
