// The whole store as one value, for the data file (persistence.ts): every stored object with its
// type, and the resourceVersion counter a restored store continues from. CRDs come first, so that
// on a restore their custom resources are served before their objects are loaded.
import { BUILTINS } from './builtins.ts';
import type { ObjectStorage } from './storage.ts';
import type { TypeRegistry } from './type-registry.ts';
import type { KubeObject } from './types.ts';
import { storageKeyOf } from './versions.ts';

/** Every stored object with the group and resource it is stored under, and the resourceVersion counter. */
export interface Snapshot {
  resourceVersion: number;
  objects: { group: string; resource: string; object: KubeObject }[];
}

/** The stored objects (not copies) of every served type, CRDs first; a type sharing another's storage is listed once. */
export function snapshotOf(registry: TypeRegistry, storage: ObjectStorage, resourceVersion: number): Snapshot {
  const objects: Snapshot['objects'] = [];
  const crds = registry.get(BUILTINS.customresourcedefinitions.group, BUILTINS.customresourcedefinitions.resource);
  const ordered = registry.all().sort((a, b) => (a === crds ? -1 : b === crds ? 1 : 0));
  const seen = new Set<string>();
  for (const rt of ordered) {
    const key = storageKeyOf(rt);
    if (seen.has(key)) continue;
    seen.add(key);
    for (const object of storage.all(key)) objects.push({ group: rt.group, resource: rt.resource, object });
  }
  return { resourceVersion, objects };
}
