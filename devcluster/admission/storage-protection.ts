// StorageObjectInUseProtection, the admission plugin a real API server runs by default: every new
// PersistentVolumeClaim gets the `kubernetes.io/pvc-protection` finalizer and every new
// PersistentVolume `kubernetes.io/pv-protection`, so neither goes while in use. Kube-controller-
// manager removes them (devcluster/sim/storage-protection.ts). The simulation installs this plugin
// with the controllers that lift it, so a store without them deletes claims at once.
import { BUILTINS } from '../store/builtins.ts';
import type { StorePlugin } from '../store/cluster-store.ts';

/** The finalizer that holds a claim some pod still uses. */
export const PVC_PROTECTION = 'kubernetes.io/pvc-protection';
/** The finalizer that holds a volume still bound to a claim. */
export const PV_PROTECTION = 'kubernetes.io/pv-protection';

/** Adds the protection finalizer to each claim and volume created. */
export function storageProtection(): StorePlugin {
  return {
    name: 'storage-object-in-use-protection',
    admit(obj, ctx) {
      if (ctx.operation !== 'CREATE') return;
      const finalizer = ctx.rt === BUILTINS.persistentvolumeclaims ? PVC_PROTECTION : ctx.rt === BUILTINS.persistentvolumes ? PV_PROTECTION : undefined;
      if (finalizer === undefined) return;
      const finalizers = obj.metadata.finalizers ?? [];
      if (!finalizers.includes(finalizer)) obj.metadata.finalizers = [...finalizers, finalizer];
    },
  };
}
