// Assembles a ClusterStore with the admission plugins of a real API server, in the order it runs
// them: the typed round trip of built-in kinds, built-in defaulting, LimitRange, the registry's
// update validation of built-in kinds, CRD schemas and rules, then PersistentVolumeClaimResize and
// ResourceQuota. (DefaultStorageClass and storage object protection come with the simulation,
// which provides the storage classes and lifts the protection.)
import { claimResize } from './admission/claim-resize.ts';
import { builtinDefaults } from './admission/defaults.ts';
import { limitRanger } from './admission/limit-range.ts';
import { resourceQuota } from './admission/quota.ts';
import { typedRoundTrip } from './admission/round-trip.ts';
import { CustomResourceRegistry } from './crd/registry.ts';
import { ManagedFieldsTracker } from './patch/managed-fields.ts';
import type { SemanticsFor } from './patch/managed-fields.ts';
import { builtinListSemantics, schemaListSemantics } from './patch/list-semantics.ts';
import { ClusterStore } from './store/cluster-store.ts';
import type { StoreOptions } from './store/cluster-store.ts';
import { updateValidation } from './validation/update-validation.ts';

/**
 * A store with the standard plugins and managedFields tracking; `crds` answers which CRDs are
 * served and their schemas, `semanticsFor` how each type's lists merge.
 */
export function createStore(opts: Omit<StoreOptions, 'plugins'> = {}): { store: ClusterStore; crds: CustomResourceRegistry; semanticsFor: SemanticsFor } {
  const crds = new CustomResourceRegistry();
  const semanticsFor: SemanticsFor = (rt, apiVersion) => {
    if (!crds.definition(rt.group, rt.resource)) return builtinListSemantics(rt.kind);
    const version = apiVersion.split('/')[1] ?? rt.version;
    return schemaListSemantics(crds.schemaFor(rt.group, rt.resource, version) ?? crds.schemaFor(rt.group, rt.resource, rt.version));
  };
  const store = new ClusterStore({ ...opts, plugins: [typedRoundTrip(), builtinDefaults(), limitRanger(), updateValidation(), crds, claimResize(), resourceQuota()] });
  store.fieldTracker = new ManagedFieldsTracker(semanticsFor);
  return { store, crds, semanticsFor };
}
