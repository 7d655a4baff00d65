// What a 1.23 API server refuses in an update of a PersistentVolume (checked on 1.23): a change of
// its volume source (nfs, csi, hostPath... any field of them, or another source), of its
// `volumeMode`, and of a node affinity it already has. Capacity, access modes, reclaim policy,
// storage class, mount options and claimRef may change; a CSI volume may gain a
// controllerExpandSecretRef.
import type { StatusCause } from '../store/errors.ts';
import { asObject, isPlainObject } from '../store/objects.ts';
import type { KubeObject } from '../store/types.ts';
import { FIELD_IMMUTABLE, fieldForbidden, fieldInvalid } from './field-errors.ts';
import { fieldDiff } from './field-diff.ts';
import { GO_NULL, goDump, goScalar } from './go-values.ts';
import { semanticEqual } from './semantic-equal.ts';

type Obj = Record<string, unknown>;

// core.PersistentVolumeSource's fields in 1.23, in its order.
const VOLUME_SOURCES = [
  ['gcePersistentDisk', 'GCEPersistentDisk'],
  ['awsElasticBlockStore', 'AWSElasticBlockStore'],
  ['hostPath', 'HostPath'],
  ['glusterfs', 'Glusterfs'],
  ['nfs', 'NFS'],
  ['rbd', 'RBD'],
  ['iscsi', 'ISCSI'],
  ['cinder', 'Cinder'],
  ['cephfs', 'CephFS'],
  ['fc', 'FC'],
  ['flocker', 'Flocker'],
  ['flexVolume', 'FlexVolume'],
  ['azureFile', 'AzureFile'],
  ['vsphereVolume', 'VsphereVolume'],
  ['quobyte', 'Quobyte'],
  ['azureDisk', 'AzureDisk'],
  ['photonPersistentDisk', 'PhotonPersistentDisk'],
  ['portworxVolume', 'PortworxVolume'],
  ['scaleIO', 'ScaleIO'],
  ['local', 'Local'],
  ['storageos', 'StorageOS'],
  ['csi', 'CSI'],
] as const;

function sourceOf(spec: Obj): Obj {
  return Object.fromEntries(VOLUME_SOURCES.filter(([key]) => spec[key] !== undefined).map(([key]) => [key, spec[key]]));
}

/** The causes a 1.23 server gives for updating `old` to `volume`; empty when it allows the update. */
export function volumeUpdateErrors(volume: KubeObject, old: KubeObject): StatusCause[] {
  const spec = asObject(volume.spec);
  const oldSpec = asObject(old.spec);
  const source = sourceOf(spec);
  const oldSource = sourceOf(oldSpec);
  const csi = source.csi;
  if (isPlainObject(csi) && isPlainObject(oldSource.csi) && oldSource.csi.controllerExpandSecretRef === undefined && csi.controllerExpandSecretRef !== undefined) {
    source.csi = { ...csi, controllerExpandSecretRef: undefined };
  }
  const errors: StatusCause[] = [];
  if (!semanticEqual(source, oldSource)) {
    errors.push(fieldForbidden('spec.persistentvolumesource', `spec.persistentvolumesource is immutable after creation${fieldDiff('core.PersistentVolumeSource', VOLUME_SOURCES, oldSource, source)}`));
  }
  if (!semanticEqual(spec.volumeMode, oldSpec.volumeMode)) errors.push(fieldInvalid('volumeMode', goScalar(spec.volumeMode), FIELD_IMMUTABLE));
  if (oldSpec.nodeAffinity !== undefined && !semanticEqual(spec.nodeAffinity, oldSpec.nodeAffinity)) {
    errors.push(fieldInvalid('nodeAffinity', spec.nodeAffinity === undefined ? GO_NULL : goDump('core.VolumeNodeAffinity'), FIELD_IMMUTABLE));
  }
  return errors;
}
