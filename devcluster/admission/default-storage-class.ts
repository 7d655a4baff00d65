// DefaultStorageClass, the admission plugin a real API server runs by default: a claim created
// without `storageClassName` gets the cluster's default class, once, at creation (`""` asks for
// none and is kept). On a real cluster the binder never writes the class afterwards, and could
// not: a claim's spec is fixed once created (validation/claim-update.ts). The simulation, which
// provides the storage classes, installs this plugin with them.
import { BUILTINS } from '../store/builtins.ts';
import { ensureObject } from '../store/objects.ts';
import type { StorePlugin } from '../store/cluster-store.ts';

/** The simulated site's default StorageClass, as `standard` is on the shared control plane. */
export const DEFAULT_STORAGE_CLASS = 'standard';

/** Gives each claim created without a storage class the default one. */
export function defaultStorageClass(): StorePlugin {
  return {
    name: 'default-storage-class',
    admit(obj, ctx) {
      if (ctx.operation !== 'CREATE' || ctx.rt !== BUILTINS.persistentvolumeclaims) return;
      ensureObject(obj, 'spec').storageClassName ??= DEFAULT_STORAGE_CLASS;
    },
  };
}
