// How each list in an object merges: associative by key (containers by name, ports by
// containerPort...), as a set, or atomically replaced; and which maps and structs are atomic
// (replaced and owned whole). Built-in kinds use the real API's patchMergeKey / listType /
// structType; custom resources use their schema's x-kubernetes-list-type and -map-type.
import type { JSONSchemaProps } from '../crd/schema.ts';

/**
 * The merge behaviour of one list. A map list's `keyDefaults` stand in for key fields an item
 * leaves out, as the real server's schema defaults do (a port without protocol is TCP's).
 */
export type ListSemantics = { type: 'map'; keys: string[]; keyDefaults?: Record<string, unknown> } | { type: 'set' } | { type: 'atomic' };

/**
 * Answers the semantics of the list at a path of field names (list indices omitted);
 * `atomicMap`, when given, says whether the map or struct at a path is replaced and owned whole.
 */
export interface ListSemanticsOf {
  (path: string[]): ListSemantics;
  atomicMap?: (path: string[]) => boolean;
}

const BY_NAME = new Set(['containers', 'initContainers', 'ephemeralContainers', 'volumes', 'imagePullSecrets', 'env', 'resourceClaims', 'secrets']);

/**
 * Maps and structs the real API declares atomic (`+structType=atomic`, `+mapType=atomic`), by
 * field name: label selectors (metav1.LabelSelector), a Service's and a pod's `selector` maps,
 * node selectors (`nodeSelector`, core NodeSelector), RoleBinding `roleRef`, and object
 * references such as a PersistentVolume's `claimRef` (one writer owns all of it: the PV
 * controller, once it binds). Checked on a 1.23 server's managedFields.
 */
const ATOMIC_MAPS = new Set(['selector', 'podSelector', 'namespaceSelector', 'labelSelector', 'nodeSelector', 'requiredDuringSchedulingIgnoredDuringExecution', 'roleRef', 'claimRef', 'involvedObject', 'regarding', 'related']);

const TCP = { protocol: 'TCP' };

/** Built-in kinds: the patchMergeKey the real API declares for the list fields used here. */
export function builtinListSemantics(kind: string): ListSemanticsOf {
  const sem: ListSemanticsOf = (path) => {
    const field = path[path.length - 1] ?? '';
    // A ServiceAccount's imagePullSecrets declare no merge key, unlike a pod's.
    if (kind === 'ServiceAccount' && field === 'imagePullSecrets') return { type: 'atomic' };
    if (BY_NAME.has(field)) return { type: 'map', keys: ['name'] };
    switch (field) {
      case 'volumeMounts':
        return { type: 'map', keys: ['mountPath'] };
      case 'volumeDevices':
        return { type: 'map', keys: ['devicePath'] };
      case 'ports':
        if (kind === 'Service') return { type: 'map', keys: ['port', 'protocol'], keyDefaults: TCP };
        return path.includes('containers') || path.includes('initContainers') ? { type: 'map', keys: ['containerPort', 'protocol'], keyDefaults: TCP } : { type: 'atomic' };
      case 'conditions':
        // A Job's conditions are an atomic list (batch/v1 listType=atomic); other kinds key them by type.
        return kind === 'Job' ? { type: 'atomic' } : { type: 'map', keys: ['type'] };
      case 'addresses':
        return { type: 'map', keys: ['type'] };
      case 'ownerReferences':
        return { type: 'map', keys: ['uid'] };
      case 'hostAliases':
        return { type: 'map', keys: ['ip'] };
      case 'topologySpreadConstraints':
        return { type: 'map', keys: ['topologyKey', 'whenUnsatisfiable'] };
      case 'finalizers':
        return path.length === 2 && path[0] === 'metadata' ? { type: 'set' } : { type: 'atomic' };
      default:
        return { type: 'atomic' };
    }
  };
  sem.atomicMap = (path) => path[0] !== 'metadata' && ATOMIC_MAPS.has(path[path.length - 1] ?? '');
  return sem;
}

function schemaAt(schema: JSONSchemaProps | undefined, path: string[]): JSONSchemaProps | undefined {
  let cur = schema;
  for (const field of path) {
    if (!cur) return undefined;
    while (cur?.type === 'array' && cur.items) cur = cur.items;
    const next: JSONSchemaProps | undefined = cur?.properties?.[field] ?? (typeof cur?.additionalProperties === 'object' ? cur.additionalProperties : undefined);
    cur = next;
  }
  return cur;
}

/** Custom resources: the list and map types their schema declares; metadata lists as for built-ins. */
export function schemaListSemantics(schema: JSONSchemaProps | undefined): ListSemanticsOf {
  const meta = builtinListSemantics('');
  const sem: ListSemanticsOf = (path) => {
    if (path[0] === 'metadata') return meta(path);
    const at = schemaAt(schema, path);
    const listType = at?.['x-kubernetes-list-type'];
    if (listType === 'map') return { type: 'map', keys: at?.['x-kubernetes-list-map-keys'] ?? [] };
    if (listType === 'set') return { type: 'set' };
    if (path[path.length - 1] === 'conditions') return { type: 'map', keys: ['type'] };
    return { type: 'atomic' };
  };
  sem.atomicMap = (path) => path[0] !== 'metadata' && schemaAt(schema, path)?.['x-kubernetes-map-type'] === 'atomic';
  return sem;
}
