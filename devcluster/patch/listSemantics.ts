// How each list in an object merges: associative by key (containers by name, ports by
// containerPort...), as a set, or atomically replaced. Built-in kinds use the real API's
// patchMergeKey / listType; custom resources use their schema's x-kubernetes-list-type.
import type { JSONSchemaProps } from '../crd/schema.ts';

/** The merge behaviour of one list. */
export type ListSemantics = { type: 'map'; keys: string[] } | { type: 'set' } | { type: 'atomic' };

/** Answers the semantics of the list at a path of field names (list indices omitted). */
export type ListSemanticsOf = (path: string[]) => ListSemantics;

const BY_NAME = new Set(['containers', 'initContainers', 'ephemeralContainers', 'volumes', 'imagePullSecrets', 'env', 'resourceClaims', 'secrets']);

/** Built-in kinds: the patchMergeKey the real API declares for the list fields used here. */
export function builtinListSemantics(kind: string): ListSemanticsOf {
  return (path) => {
    const field = path[path.length - 1] ?? '';
    if (BY_NAME.has(field)) return { type: 'map', keys: ['name'] };
    switch (field) {
      case 'volumeMounts':
        return { type: 'map', keys: ['mountPath'] };
      case 'volumeDevices':
        return { type: 'map', keys: ['devicePath'] };
      case 'ports':
        if (kind === 'Service') return { type: 'map', keys: ['port', 'protocol'] };
        return path.includes('containers') || path.includes('initContainers') ? { type: 'map', keys: ['containerPort', 'protocol'] } : { type: 'atomic' };
      case 'conditions':
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

/** Custom resources: the list types their schema declares; metadata lists as for built-ins. */
export function schemaListSemantics(schema: JSONSchemaProps | undefined): ListSemanticsOf {
  const meta = builtinListSemantics('');
  return (path) => {
    if (path[0] === 'metadata') return meta(path);
    const at = schemaAt(schema, path);
    const listType = at?.['x-kubernetes-list-type'];
    if (listType === 'map') return { type: 'map', keys: at?.['x-kubernetes-list-map-keys'] ?? [] };
    if (listType === 'set') return { type: 'set' };
    if (path[path.length - 1] === 'conditions') return { type: 'map', keys: ['type'] };
    return { type: 'atomic' };
  };
}
