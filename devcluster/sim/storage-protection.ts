// Kube-controller-manager's pvc-protection and pv-protection controllers: a claim being deleted
// loses its protection finalizer once no pod that is not finished uses it, and a volume being
// deleted once it is no longer Bound; then the store finishes the deletion.
import { PV_PROTECTION, PVC_PROTECTION } from '../admission/storage-protection.ts';
import { BUILTINS } from '../store/builtins.ts';
import { CONTROLLER_MANAGER } from '../store/field-managers.ts';
import type { KubeObject } from '../store/types.ts';
import { keyOf } from './informer.ts';
import type { SimContext } from './context.ts';
import { isPodTerminal } from './pods.ts';
import { SyncQueue } from './sync-queue.ts';

interface PodVolumes {
  volumes?: { persistentVolumeClaim?: { claimName?: string } }[];
}

function claimsOf(pod: KubeObject): string[] {
  const namespace = pod.metadata.namespace ?? 'default';
  return ((pod.spec as PodVolumes | undefined)?.volumes ?? []).flatMap((v) => (v.persistentVolumeClaim?.claimName ? [`${namespace}/${v.persistentVolumeClaim.claimName}`] : []));
}

/** Releases claims and volumes held only by their protection finalizer. */
export class StorageProtection {
  readonly #ctx: SimContext;
  readonly #claims: SyncQueue;
  readonly #volumes: SyncQueue;

  constructor(ctx: SimContext) {
    this.#ctx = ctx;
    this.#claims = new SyncQueue('pvc-protection', (key) => this.#syncClaim(key), ctx.report);
    this.#volumes = new SyncQueue('pv-protection', (name) => this.#syncVolume(name), ctx.report);
    ctx.informers.persistentvolumeclaims.onChange((type, claim) => {
      if (type !== 'DELETED' && claim.metadata.deletionTimestamp !== undefined) this.#claims.add(keyOf(claim));
    });
    ctx.informers.pods.onChange((type, pod) => {
      if (type === 'DELETED' || isPodTerminal(pod)) for (const key of claimsOf(pod)) this.#claims.add(key);
    });
    ctx.informers.persistentvolumes.onChange((type, volume) => {
      if (type !== 'DELETED' && volume.metadata.deletionTimestamp !== undefined) this.#volumes.add(volume.metadata.name);
    });
  }

  /** Stops releasing. */
  stop(): void {
    this.#claims.stop();
    this.#volumes.stop();
  }

  #syncClaim(key: string): void {
    const claim = this.#ctx.informers.persistentvolumeclaims.get(key);
    if (claim?.metadata.deletionTimestamp === undefined || !(claim.metadata.finalizers ?? []).includes(PVC_PROTECTION)) return;
    for (const pod of this.#ctx.informers.pods.values()) {
      if (pod.metadata.namespace === claim.metadata.namespace && !isPodTerminal(pod) && claimsOf(pod).includes(key)) return;
    }
    this.#release(BUILTINS.persistentvolumeclaims, claim, PVC_PROTECTION);
  }

  #syncVolume(name: string): void {
    const volume = this.#ctx.informers.persistentvolumes.get(name);
    if (volume?.metadata.deletionTimestamp === undefined || !(volume.metadata.finalizers ?? []).includes(PV_PROTECTION)) return;
    if ((volume.status as { phase?: string } | undefined)?.phase === 'Bound') return;
    this.#release(BUILTINS.persistentvolumes, volume, PV_PROTECTION);
  }

  #release(rt: typeof BUILTINS.persistentvolumes | typeof BUILTINS.persistentvolumeclaims, object: KubeObject, finalizer: string): void {
    const next = structuredClone(object);
    next.metadata.finalizers = (next.metadata.finalizers ?? []).filter((f) => f !== finalizer);
    this.#ctx.store.update(rt, next, { fieldManager: CONTROLLER_MANAGER });
  }
}
