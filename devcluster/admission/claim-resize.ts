// PersistentVolumeClaimResize admission, on by default in 1.23 and run after validation: a claim
// may ask for more storage only when it is Bound and both before and after names the same storage
// class, one that allows volume expansion. A claim without a class (`""`, bound to a static volume
// such as a dataset's NFS volume) cannot grow (checked on 1.23). The devcluster serves no
// StorageClass objects: every named class counts as expandable, as the shared control plane's
// `standard` is.
import { BUILTINS } from '../store/builtins.ts';
import { forbidden } from '../store/errors.ts';
import { asObject } from '../store/objects.ts';
import type { StorePlugin } from '../store/cluster-store.ts';
import type { KubeObject } from '../store/types.ts';
import { compareQuantities } from '../resources/quantity.ts';
import { requestedStorage } from '../validation/claim-update.ts';

function grows(claim: KubeObject, old: KubeObject): boolean {
  const size = requestedStorage(asObject(claim.spec));
  const before = requestedStorage(asObject(old.spec));
  if (size === undefined || before === undefined) return false;
  try {
    return compareQuantities(size, before) > 0;
  } catch {
    return false;
  }
}

function storageClassOf(claim: KubeObject): string {
  const name = asObject(claim.spec).storageClassName;
  return typeof name === 'string' ? name : '';
}

/** Refuses (403) growing a claim that is not Bound or whose storage class does not allow expansion. */
export function claimResize(): StorePlugin {
  return {
    name: 'persistent-volume-claim-resize',
    admit(obj, ctx) {
      if (ctx.rt !== BUILTINS.persistentvolumeclaims || ctx.operation !== 'UPDATE' || ctx.subresource !== undefined || ctx.old === undefined) return;
      if (!grows(obj, ctx.old)) return;
      const phase = asObject(ctx.old.status).phase;
      if (phase !== 'Bound') throw forbidden(ctx.rt, obj.metadata.name, 'Only bound persistent volume claims can be expanded');
      const storageClass = storageClassOf(obj);
      if (storageClass === '' || storageClass !== storageClassOf(ctx.old)) {
        throw forbidden(ctx.rt, obj.metadata.name, 'only dynamically provisioned pvc can be resized and the storageclass that provisions the pvc must support resize');
      }
    },
  };
}
