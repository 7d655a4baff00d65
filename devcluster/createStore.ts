// Assembles a Store with the admission plugins of a real API server, in the order it runs them:
// built-in defaulting, LimitRange, CRD schemas and rules, then ResourceQuota.
import { builtinDefaults } from './admission/defaults.ts';
import { limitRanger } from './admission/limitRange.ts';
import { resourceQuota } from './admission/quota.ts';
import { CustomResourceRegistry } from './crd/registry.ts';
import { Store } from './store/store.ts';
import type { StoreOptions } from './store/store.ts';

/** A store with the standard plugins; `crds` answers which CRDs are served and their schemas. */
export function createStore(opts: Omit<StoreOptions, 'plugins'> = {}): { store: Store; crds: CustomResourceRegistry } {
  const crds = new CustomResourceRegistry();
  const store = new Store({ ...opts, plugins: [builtinDefaults(), limitRanger(), crds, resourceQuota()] });
  return { store, crds };
}
