// The PersistentVolume controller and a dynamic provisioner: a Pending claim binds to the
// smallest Available volume that matches it (class, access modes, capacity, volume mode,
// selector, or a pre-bound volumeName/claimRef), or else a volume is provisioned for it when its
// class is not "" (every class is provisionable here; a claim gets `standard`, the default class,
// at creation when it names none: admission/default-storage-class.ts). A volume whose claim is gone
// is Released, or deleted when its policy is Delete.
// As kube-controller-manager does, binding writes the claim's uid into the volume's claimRef; a
// bound claim whose volume then names no uid of its (someone re-applied claimRef without it) is
// Lost for good, with a ClaimMisbound event, and the volume is Available again.
import { DEFAULT_STORAGE_CLASS } from '../admission/default-storage-class.ts';
import { BUILTINS } from '../store/builtins.ts';
import { CONTROLLER_MANAGER } from '../store/field-managers.ts';
import type { KubeObject } from '../store/types.ts';
import { keyOf } from './informer.ts';
import { BY_CLAIM, BY_FREE_CLASS, type SimContext } from './context.ts';
import { writeStatus } from './owner-controller.ts';
import { parseMilli } from '../resources/quantity.ts';
import { SyncQueue } from './sync-queue.ts';
import { labelSelectorMatches, type LabelSelector } from '../../api/selectors.ts';

const COMPONENT = 'persistentvolume-controller';
const PROVISIONER = 'devcluster.sde.london/simulated';

interface ClaimSpec {
  storageClassName?: string;
  accessModes?: string[];
  volumeMode?: string;
  volumeName?: string;
  selector?: LabelSelector;
  resources?: { requests?: { storage?: string } };
}
interface VolumeSpec {
  storageClassName?: string;
  accessModes?: string[];
  volumeMode?: string;
  capacity?: { storage?: string };
  claimRef?: { namespace?: string; name?: string; uid?: string };
  persistentVolumeReclaimPolicy?: string;
}

/** Binds claims to volumes and provisions volumes on demand. */
export class VolumeBinder {
  readonly #ctx: SimContext;
  readonly #claims: SyncQueue;
  readonly #volumes: SyncQueue;
  readonly #pendingClaims = new Set<string>();

  constructor(ctx: SimContext) {
    this.#ctx = ctx;
    this.#claims = new SyncQueue(`${COMPONENT}/claims`, (key) => this.#syncClaim(key), ctx.report);
    this.#volumes = new SyncQueue(`${COMPONENT}/volumes`, (name) => this.#syncVolume(name), ctx.report);
    ctx.informers.persistentvolumeclaims.onChange((type, claim) => {
      const key = keyOf(claim);
      if (type === 'DELETED') {
        this.#pendingClaims.delete(key);
        for (const pv of ctx.informers.persistentvolumes.indexed(BY_CLAIM, key)) this.#volumes.add(pv.metadata.name);
        return;
      }
      if (!bindCompleted(claim)) this.#pendingClaims.add(key);
      else this.#pendingClaims.delete(key);
      this.#claims.add(key);
    });
    ctx.informers.persistentvolumes.onChange((type, pv) => {
      if (type !== 'DELETED') this.#volumes.add(pv.metadata.name);
      const ref = (pv.spec as VolumeSpec | undefined)?.claimRef;
      if (ref?.name !== undefined) this.#claims.add(`${ref.namespace ?? 'default'}/${ref.name}`);
      if (type !== 'DELETED' && isFree(pv)) for (const key of this.#pendingClaims) this.#claims.add(key);
    });
  }

  /** Holds binding and provisioning (a slow storage backend); claims made meanwhile stay Pending until resume(). */
  pause(): void {
    this.#claims.pause();
    this.#volumes.pause();
  }

  /** Binds and provisions what accumulated while paused. */
  resume(): void {
    this.#claims.resume();
    this.#volumes.resume();
  }

  /** Stops binding. */
  stop(): void {
    this.#claims.stop();
    this.#volumes.stop();
  }

  #syncClaim(key: string): void {
    const claim = this.#ctx.informers.persistentvolumeclaims.get(key);
    if (claim === undefined || claim.metadata.deletionTimestamp !== undefined) return;
    const spec = (claim.spec ?? {}) as ClaimSpec;
    if (bindCompleted(claim)) {
      this.#syncBoundClaim(claim, spec);
      return;
    }
    const volume = this.#findVolume(claim, spec) ?? this.#provision(claim, spec);
    if (volume === undefined) return;
    this.#bind(claim, spec, volume);
  }

  /** A claim bound once stays with its volume, is bound again to one that lost its claimRef, or is Lost (a terminal phase). */
  #syncBoundClaim(claim: KubeObject, spec: ClaimSpec): void {
    if (spec.volumeName === undefined) {
      this.#loseClaim(claim, 'ClaimLost', 'Bound claim has lost reference to PersistentVolume. Data on the volume is lost!');
      return;
    }
    const volume = this.#ctx.informers.persistentvolumes.get(spec.volumeName);
    if (volume === undefined) {
      this.#loseClaim(claim, 'ClaimLost', 'Bound claim has lost its PersistentVolume. Data on the volume is lost!');
      return;
    }
    const ref = (volume.spec as VolumeSpec).claimRef;
    if (ref === undefined || ref.uid === claim.metadata.uid) this.#bind(claim, spec, volume);
    else this.#loseClaim(claim, 'ClaimMisbound', 'Two claims are bound to the same volume, this one is bound incorrectly');
  }

  #loseClaim(claim: KubeObject, reason: string, message: string): void {
    if (phaseOf(claim) === 'Lost') return;
    this.#writeClaimStatus(claim, { phase: 'Lost' });
    this.#ctx.events.record(COMPONENT, claim, 'Warning', reason, message);
  }

  /** The smallest Available volume that satisfies the claim, or its pre-bound one. */
  #findVolume(claim: KubeObject, spec: ClaimSpec): KubeObject | undefined {
    const key = keyOf(claim);
    const preBound = this.#ctx.informers.persistentvolumes.indexed(BY_CLAIM, key)
      .find((pv) => { const ref = (pv.spec as VolumeSpec).claimRef; return ref?.uid === undefined || ref.uid === claim.metadata.uid; });
    if (preBound !== undefined && volumeFits(preBound, claim, spec)) return preBound;
    if (spec.volumeName) {
      const named = this.#ctx.informers.persistentvolumes.get(spec.volumeName);
      return named !== undefined && (named.spec as VolumeSpec).claimRef === undefined && volumeFits(named, claim, spec) ? named : undefined;
    }
    const classes = spec.storageClassName === undefined ? [DEFAULT_STORAGE_CLASS, ''] : [spec.storageClassName];
    let best: KubeObject | undefined;
    for (const pv of classes.flatMap((c) => this.#ctx.informers.persistentvolumes.indexed(BY_FREE_CLASS, c))) {
      if (!volumeFits(pv, claim, spec)) continue;
      if (best === undefined || storageOf(pv) < storageOf(best)) best = pv;
    }
    return best;
  }

  #provision(claim: KubeObject, spec: ClaimSpec): KubeObject | undefined {
    const storageClass = spec.storageClassName ?? DEFAULT_STORAGE_CLASS;
    if (storageClass === '' || spec.volumeName) return undefined;
    const name = `pvc-${claim.metadata.uid ?? claim.metadata.name}`;
    const existing = this.#ctx.informers.persistentvolumes.get(name);
    if (existing !== undefined) return existing;
    const pv = this.#ctx.store.create(BUILTINS.persistentvolumes, {
      apiVersion: 'v1',
      kind: 'PersistentVolume',
      metadata: { name, annotations: { 'pv.kubernetes.io/provisioned-by': PROVISIONER } },
      spec: {
        capacity: { storage: spec.resources?.requests?.storage ?? '1Gi' },
        accessModes: spec.accessModes ?? ['ReadWriteOnce'],
        volumeMode: spec.volumeMode ?? 'Filesystem',
        storageClassName: storageClass,
        persistentVolumeReclaimPolicy: 'Delete',
        claimRef: claimRef(claim),
        hostPath: { path: `/var/lib/devcluster/volumes/${name}`, type: 'DirectoryOrCreate' },
      },
    }, { fieldManager: CONTROLLER_MANAGER });
    this.#ctx.events.record(COMPONENT, claim, 'Normal', 'ProvisioningSucceeded', `Successfully provisioned volume ${name}`);
    return pv;
  }

  #bind(claim: KubeObject, spec: ClaimSpec, volume: KubeObject): void {
    const pvSpec = volume.spec as VolumeSpec;
    if (pvSpec.claimRef?.uid !== claim.metadata.uid) {
      const next = structuredClone(volume);
      (next.spec as VolumeSpec).claimRef = claimRef(claim);
      // A volume pre-bound to this claim (claimRef naming it, without uid) was bound by its author.
      const preBound = pvSpec.claimRef?.name === claim.metadata.name && pvSpec.claimRef.namespace === claim.metadata.namespace;
      if (!preBound) next.metadata.annotations = { ...(next.metadata.annotations ?? {}), 'pv.kubernetes.io/bound-by-controller': 'yes' };
      this.#ctx.store.update(BUILTINS.persistentvolumes, next, { fieldManager: CONTROLLER_MANAGER });
    }
    const bound = this.#ctx.informers.persistentvolumes.get(volume.metadata.name);
    if (bound !== undefined && phaseOf(bound) !== 'Bound') {
      this.#ctx.store.update(BUILTINS.persistentvolumes, { ...bound, status: { phase: 'Bound' } }, { subresource: 'status', fieldManager: CONTROLLER_MANAGER });
    }
    const nextClaim = structuredClone(claim);
    const claimSpec = nextClaim.spec as ClaimSpec;
    claimSpec.volumeName = volume.metadata.name;
    nextClaim.metadata.annotations = {
      ...(nextClaim.metadata.annotations ?? {}),
      'pv.kubernetes.io/bind-completed': 'yes',
      ...(spec.volumeName ? {} : { 'pv.kubernetes.io/bound-by-controller': 'yes' }),
      ...(volume.metadata.annotations?.['pv.kubernetes.io/provisioned-by'] === PROVISIONER
        ? { 'volume.kubernetes.io/storage-provisioner': PROVISIONER, 'volume.beta.kubernetes.io/storage-provisioner': PROVISIONER } : {}),
    };
    this.#ctx.store.update(BUILTINS.persistentvolumeclaims, nextClaim, { fieldManager: CONTROLLER_MANAGER });
    const updated = this.#ctx.informers.persistentvolumeclaims.get(keyOf(claim));
    if (updated !== undefined) {
      this.#writeClaimStatus(updated, { phase: 'Bound', accessModes: pvSpec.accessModes ?? [], capacity: { ...(pvSpec.capacity ?? {}) } });
    }
  }

  #writeClaimStatus(claim: KubeObject, status: Record<string, unknown>): void {
    writeStatus(this.#ctx.store, BUILTINS.persistentvolumeclaims, claim, status);
  }

  /** A volume whose claim is gone is Released (Retain) or deleted (Delete); an unclaimed one is Available. */
  #syncVolume(name: string): void {
    const pv = this.#ctx.informers.persistentvolumes.get(name);
    if (pv === undefined) return;
    const spec = (pv.spec ?? {}) as VolumeSpec;
    const ref = spec.claimRef;
    let phase = 'Available';
    if (ref?.name !== undefined && ref.uid !== undefined) {
      const claim = this.#ctx.informers.persistentvolumeclaims.get(`${ref.namespace ?? 'default'}/${ref.name}`);
      if (claim?.metadata.uid === ref.uid) return;
      phase = 'Released';
      // Released first, then reclaimed: a volume still Bound keeps its pv-protection finalizer.
      if (spec.persistentVolumeReclaimPolicy === 'Delete' && phaseOf(pv) === 'Released' && pv.metadata.deletionTimestamp === undefined) {
        this.#ctx.store.delete(BUILTINS.persistentvolumes, undefined, name);
        return;
      }
    }
    if (phaseOf(pv) === phase) return;
    this.#ctx.store.update(BUILTINS.persistentvolumes, { ...pv, status: { ...((pv.status ?? {}) as object), phase } }, { subresource: 'status', fieldManager: CONTROLLER_MANAGER });
  }
}

/** Available and not claimed or pre-bound: any matching claim may take it. */
function isFree(pv: KubeObject): boolean {
  return phaseOf(pv) === 'Available' && (pv.spec as VolumeSpec | undefined)?.claimRef === undefined;
}

/** Whether the binder finished binding this claim once (it then never looks for another volume). */
function bindCompleted(claim: KubeObject): boolean {
  return claim.metadata.annotations?.['pv.kubernetes.io/bind-completed'] === 'yes';
}

function phaseOf(object: KubeObject): string | undefined {
  return (object.status as { phase?: string } | undefined)?.phase;
}

function storageOf(pv: KubeObject): number {
  try {
    return parseMilli((pv.spec as VolumeSpec).capacity?.storage ?? '0');
  } catch {
    return 0;
  }
}

function claimRef(claim: KubeObject): Record<string, unknown> {
  return {
    apiVersion: 'v1', kind: 'PersistentVolumeClaim', namespace: claim.metadata.namespace ?? 'default',
    name: claim.metadata.name, uid: claim.metadata.uid, resourceVersion: claim.metadata.resourceVersion,
  };
}

/** Whether a volume can serve a claim: class, access modes, volume mode, capacity and selector; neither is being deleted. */
function volumeFits(pv: KubeObject, claim: KubeObject, spec: ClaimSpec): boolean {
  const pvSpec = (pv.spec ?? {}) as VolumeSpec;
  const wantedClass = spec.storageClassName ?? DEFAULT_STORAGE_CLASS;
  if ((pvSpec.storageClassName ?? '') !== wantedClass && !(spec.storageClassName === undefined && (pvSpec.storageClassName ?? '') === '')) return false;
  if ((pvSpec.volumeMode ?? 'Filesystem') !== (spec.volumeMode ?? 'Filesystem')) return false;
  if (!(spec.accessModes ?? []).every((mode) => (pvSpec.accessModes ?? []).includes(mode))) return false;
  if (!labelSelectorMatches(spec.selector, pv.metadata.labels)) return false;
  try {
    if (storageOf(pv) < parseMilli(spec.resources?.requests?.storage ?? '0')) return false;
  } catch {
    return false;
  }
  return claim.metadata.deletionTimestamp === undefined && pv.metadata.deletionTimestamp === undefined;
}
