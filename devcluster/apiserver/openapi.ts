// OpenAPI documents for kubectl: v3 per group version (what `kubectl explain` and the
// fieldValidation / patch-type checks of `kubectl apply` read) and a v2 document. CRDs publish
// their full schemas with descriptions; built-in kinds get minimal schemas that accept anything.
import { createHash } from 'node:crypto';
import type { CustomResourceRegistry, CrdSpec } from '../crd/registry.ts';
import type { JSONSchemaProps } from '../crd/schema.ts';
import type { ClusterStore } from '../store/cluster-store.ts';
import type { ResourceType } from '../store/types.ts';
import { servedVersions } from './discovery.ts';

const OBJECT_META = 'io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta';

const OBJECT_META_SCHEMA = {
  description: 'ObjectMeta is metadata that all persisted resources must have, which includes all objects users must create.',
  type: 'object',
  properties: {
    name: { type: 'string', description: 'Name must be unique within a namespace.' },
    generateName: { type: 'string', description: 'GenerateName is an optional prefix, used by the server, to generate a unique name.' },
    namespace: { type: 'string', description: 'Namespace defines the space within which each name must be unique.' },
    labels: { type: 'object', additionalProperties: { type: 'string' }, description: 'Map of string keys and values that can be used to organize and categorize objects.' },
    annotations: { type: 'object', additionalProperties: { type: 'string' }, description: 'Annotations is an unstructured key value map stored with a resource.' },
    uid: { type: 'string' },
    resourceVersion: { type: 'string' },
    generation: { type: 'integer', format: 'int64' },
    creationTimestamp: { type: 'string', format: 'date-time' },
    deletionTimestamp: { type: 'string', format: 'date-time' },
    deletionGracePeriodSeconds: { type: 'integer', format: 'int64' },
    finalizers: { type: 'array', items: { type: 'string' }, 'x-kubernetes-patch-strategy': 'merge' },
    ownerReferences: { type: 'array', items: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true }, 'x-kubernetes-patch-merge-key': 'uid', 'x-kubernetes-patch-strategy': 'merge' },
    managedFields: { type: 'array', items: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } },
  },
};

/** The OpenAPI schema name of a kind (reverse-DNS group, as the real server names CRD schemas). */
function schemaName(rt: ResourceType, version: string): string {
  if (rt.group === '') return `io.k8s.api.core.${version}.${rt.kind}`;
  if (rt.group.endsWith('.k8s.io') || !rt.group.includes('.')) return `io.k8s.api.${rt.group.replace(/\.k8s\.io$/, '').replace(/\./g, '')}.${version}.${rt.kind}`;
  return `${rt.group.split('.').reverse().join('.')}.${version}.${rt.kind}`;
}

function gvk(rt: ResourceType, version: string): Record<string, string>[] {
  return [{ group: rt.group, version, kind: rt.kind }];
}

function crdSchema(spec: CrdSpec, version: string): JSONSchemaProps | undefined {
  return spec.versions.find((v) => v.name === version)?.schema?.openAPIV3Schema;
}

function kindSchema(rt: ResourceType, version: string, crds: CustomResourceRegistry, refPrefix: string): Record<string, unknown> {
  const crd = crds.definition(rt.group, rt.resource);
  const metaRef = { description: 'Standard object metadata.', allOf: [{ $ref: `${refPrefix}${OBJECT_META}` }] };
  const base = {
    apiVersion: { type: 'string', description: 'APIVersion defines the versioned schema of this representation of an object.' },
    kind: { type: 'string', description: 'Kind is a string value representing the REST resource this object represents.' },
  };
  if (crd) {
    const schema = structuredClone(crdSchema(crd.spec as CrdSpec, version) ?? { type: 'object' }) as Record<string, unknown>;
    const props = { ...((schema.properties as Record<string, unknown> | undefined) ?? {}), ...base, metadata: metaRef };
    return { ...schema, type: 'object', properties: props, 'x-kubernetes-group-version-kind': gvk(rt, version) };
  }
  return {
    description: `${rt.kind} (served by the devcluster with a permissive schema).`,
    type: 'object',
    properties: {
      ...base,
      metadata: metaRef,
      spec: { type: 'object', description: `Spec of the ${rt.kind}.`, 'x-kubernetes-preserve-unknown-fields': true },
      status: { type: 'object', description: `Status of the ${rt.kind}.`, 'x-kubernetes-preserve-unknown-fields': true },
    },
    'x-kubernetes-preserve-unknown-fields': true,
    'x-kubernetes-group-version-kind': gvk(rt, version),
  };
}

const QUERY_PARAMS = ['fieldValidation', 'fieldManager', 'dryRun', 'force', 'pretty'].map((name) => ({ name, in: 'query', schema: { type: 'string', uniqueItems: true } }));

function operation(rt: ResourceType, version: string, action: string, ref: string, patchTypes?: string[]): Record<string, unknown> {
  const op: Record<string, unknown> = {
    operationId: `${action}${rt.kind}`,
    parameters: QUERY_PARAMS,
    responses: { '200': { description: 'OK', content: { 'application/json': { schema: { $ref: ref } } } } },
    'x-kubernetes-action': action,
    'x-kubernetes-group-version-kind': { group: rt.group, version, kind: rt.kind },
  };
  if (patchTypes) op.requestBody = { content: Object.fromEntries(patchTypes.map((t) => [t, { schema: { type: 'object' } }])), required: true };
  else if (action === 'post' || action === 'put') op.requestBody = { content: { '*/*': { schema: { $ref: ref } } }, required: true };
  return op;
}

function pathsFor(rt: ResourceType, version: string, ref: string): Record<string, unknown> {
  const prefix = rt.group === '' ? `/api/${version}` : `/apis/${rt.group}/${version}`;
  const coll = rt.namespaced ? `${prefix}/namespaces/{namespace}/${rt.resource}` : `${prefix}/${rt.resource}`;
  // Strategic merge is served for built-ins but not advertised: kubectl would then compute its
  // apply patches from these permissive schemas instead of its compiled-in types.
  const patchTypes = ['application/json-patch+json', 'application/merge-patch+json', 'application/apply-patch+yaml'];
  const item = {
    get: operation(rt, version, 'get', ref),
    put: operation(rt, version, 'put', ref),
    patch: operation(rt, version, 'patch', ref, patchTypes),
    delete: operation(rt, version, 'delete', ref),
  };
  const out: Record<string, unknown> = {
    [coll]: { get: operation(rt, version, 'list', ref), post: operation(rt, version, 'post', ref) },
    [`${coll}/{name}`]: item,
  };
  if (rt.statusSubresource) out[`${coll}/{name}/status`] = item;
  return out;
}

/** The v3 document of one group version, or undefined when nothing is served there. */
export function openapiV3(store: ClusterStore, crds: CustomResourceRegistry, group: string, version: string): Record<string, unknown> | undefined {
  const types = store.resourceTypes().filter((rt) => rt.group === group && servedVersions(rt).includes(version));
  if (types.length === 0) return undefined;
  const schemas: Record<string, unknown> = { [OBJECT_META]: OBJECT_META_SCHEMA };
  let paths: Record<string, unknown> = {};
  for (const rt of types) {
    const name = schemaName(rt, version);
    const ref = `#/components/schemas/${name}`;
    schemas[name] = kindSchema(rt, version, crds, '#/components/schemas/');
    paths = { ...paths, ...pathsFor(rt, version, ref) };
  }
  return { openapi: '3.0.0', info: { title: 'Kubernetes', version: 'v1.32.0-devcluster' }, paths, components: { schemas } };
}

/** A short content hash, for the `?hash=` the v3 index advertises. */
function docHash(doc: unknown): string {
  return createHash('sha512').update(JSON.stringify(doc)).digest('hex').slice(0, 64).toUpperCase();
}

/** `/openapi/v3`: the index of group-version documents. */
export function openapiV3Index(store: ClusterStore, crds: CustomResourceRegistry): Record<string, unknown> {
  const gvs = new Set<string>();
  for (const rt of store.resourceTypes()) for (const v of servedVersions(rt)) gvs.add(rt.group === '' ? `api/${v}` : `apis/${rt.group}/${v}`);
  const paths: Record<string, unknown> = {};
  for (const gv of [...gvs].sort()) {
    const [kind, a, b] = gv.split('/');
    const doc = kind === 'api' ? openapiV3(store, crds, '', a ?? '') : openapiV3(store, crds, a ?? '', b ?? '');
    paths[gv] = { serverRelativeURL: `/openapi/v3/${gv}?hash=${docHash(doc)}` };
  }
  return { paths };
}

/** `/openapi/v2`: every kind's schema as swagger 2.0 definitions. */
export function openapiV2(store: ClusterStore, crds: CustomResourceRegistry): Record<string, unknown> {
  const definitions: Record<string, unknown> = { [OBJECT_META]: OBJECT_META_SCHEMA };
  for (const rt of store.resourceTypes()) {
    for (const v of servedVersions(rt)) definitions[schemaName(rt, v)] = kindSchema(rt, v, crds, '#/definitions/');
  }
  return { swagger: '2.0', info: { title: 'Kubernetes', version: 'v1.32.0-devcluster' }, paths: {}, definitions };
}
