// CustomResourceDefinitions made real: a CRD is checked when written (names, versions, schema,
// CEL rules that compile), establishes its resource type once stored, and every custom object
// is defaulted, pruned and validated against its version's schema and rules.
import { BUILTINS } from '../store/builtins.ts';
import { badRequest, invalid } from '../store/errors.ts';
import { APISERVER_MANAGER } from '../store/field-managers.ts';
import type { StatusCause } from '../store/errors.ts';
import { clone } from '../store/objects.ts';
import { jsonEqual } from '../../operator/runtime/json-equal.ts';
import type { CommittedChange } from '../store/change-fan-out.ts';
import type { AdmissionContext, ClusterStore, StorePlugin } from '../store/cluster-store.ts';
import { timestamp } from '../store/timestamps.ts';
import type { KubeObject, ResourceType } from '../store/types.ts';
import { checkSchemaRules, evaluateRules } from './cel.ts';
import { applyDefaults, prune, validateSchema } from './schema.ts';
import type { JSONSchemaProps } from './schema.ts';

/** One version of a CRD, as the spec declares it. */
export interface CrdVersion {
  name: string;
  served: boolean;
  storage: boolean;
  schema?: { openAPIV3Schema?: JSONSchemaProps };
  subresources?: { status?: object; scale?: object };
  additionalPrinterColumns?: { name: string; type: string; jsonPath: string; description?: string; priority?: number; format?: string }[];
}

/** The spec of a CustomResourceDefinition. */
export interface CrdSpec {
  group: string;
  names: { plural: string; singular?: string; kind: string; listKind?: string; shortNames?: string[]; categories?: string[] };
  scope: 'Namespaced' | 'Cluster';
  versions: CrdVersion[];
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

function specOf(crd: KubeObject): CrdSpec {
  return crd.spec as CrdSpec;
}

function validateCrd(crd: KubeObject): StatusCause[] {
  const causes: StatusCause[] = [];
  const spec = crd.spec as Partial<CrdSpec> | undefined;
  const req = (field: string): void => {
    causes.push({ field, reason: 'FieldValueRequired', message: 'Required value' });
  };
  if (!spec) {
    req('spec');
    return causes;
  }
  if (!spec.group) req('spec.group');
  if (!spec.names?.plural) req('spec.names.plural');
  else if (!DNS_LABEL.test(spec.names.plural)) {
    causes.push({ field: 'spec.names.plural', reason: 'FieldValueInvalid', message: `Invalid value: "${spec.names.plural}": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-'` });
  }
  if (!spec.names?.kind) req('spec.names.kind');
  if (spec.scope !== 'Namespaced' && spec.scope !== 'Cluster') {
    causes.push({ field: 'spec.scope', reason: 'FieldValueNotSupported', message: `Unsupported value: ${JSON.stringify(spec.scope ?? '')}: supported values: "Cluster", "Namespaced"` });
  }
  if (spec.group && spec.names?.plural && crd.metadata.name !== `${spec.names.plural}.${spec.group}`) {
    causes.push({ field: 'metadata.name', reason: 'FieldValueInvalid', message: `Invalid value: "${crd.metadata.name}": must be spec.names.plural+"."+spec.group` });
  }
  const versions = spec.versions ?? [];
  if (versions.length === 0) req('spec.versions');
  if (versions.length > 0 && versions.filter((v) => v.storage).length !== 1) {
    causes.push({ field: 'spec.versions', reason: 'FieldValueInvalid', message: 'Invalid value: must have exactly one version marked as storage version' });
  }
  versions.forEach((v, i) => {
    const root = v.schema?.openAPIV3Schema;
    if (!root) {
      req(`spec.versions[${i}].schema.openAPIV3Schema`);
      return;
    }
    if (root.type !== 'object') {
      causes.push({ field: `spec.versions[${i}].schema.openAPIV3Schema.type`, reason: 'FieldValueRequired', message: 'Required value: must be object at the root' });
    }
    causes.push(...checkSchemaRules(root, `spec.versions[${i}].schema.openAPIV3Schema`));
  });
  return causes;
}

/** The resource type a CRD serves (at its storage version). */
function resourceTypeOfCrd(crd: KubeObject): ResourceType {
  const spec = specOf(crd);
  const storage = spec.versions.find((v) => v.storage) ?? spec.versions[0];
  const rt: ResourceType = {
    group: spec.group,
    version: storage?.name ?? 'v1',
    resource: spec.names.plural,
    kind: spec.names.kind,
    namespaced: spec.scope === 'Namespaced',
    singular: spec.names.singular ?? spec.names.kind.toLowerCase(),
    statusSubresource: storage?.subresources?.status !== undefined,
    versions: spec.versions.filter((v) => v.served).map((v) => v.name),
  };
  if (spec.names.shortNames) rt.shortNames = [...spec.names.shortNames];
  if (spec.names.categories) rt.categories = [...spec.names.categories];
  return rt;
}

/** Serves established CRDs and validates their objects; one instance per store. */
export class CustomResourceRegistry implements StorePlugin {
  readonly name = 'custom-resources';
  readonly #crds = new Map<string, KubeObject>();

  /** The stored CRD serving group/resource, if any. */
  definition(group: string, resource: string): KubeObject | undefined {
    return this.#crds.get(`${group}/${resource}`);
  }

  /** The schema of one served version of group/resource. */
  schemaFor(group: string, resource: string, version: string): JSONSchemaProps | undefined {
    const crd = this.definition(group, resource);
    return crd ? specOf(crd).versions.find((v) => v.name === version)?.schema?.openAPIV3Schema : undefined;
  }

  admit(obj: KubeObject, ctx: AdmissionContext): void {
    if (ctx.rt === BUILTINS.customresourcedefinitions) {
      if (ctx.subresource === 'status') return;
      const causes = validateCrd(obj);
      if (causes.length > 0) throw invalid(ctx.rt, obj.metadata.name, causes);
      if (ctx.operation === 'CREATE') obj.status = { conditions: [], acceptedNames: { plural: '', kind: '' }, storedVersions: [] };
      return;
    }
    const crd = this.#crds.get(`${ctx.rt.group}/${ctx.rt.resource}`);
    if (!crd) return;
    const version = obj.apiVersion.split('/')[1] ?? ctx.rt.version;
    const schema = this.schemaFor(ctx.rt.group, ctx.rt.resource, version) ?? this.schemaFor(ctx.rt.group, ctx.rt.resource, ctx.rt.version);
    if (!schema) return;
    const removed = prune(obj, schema, '', true);
    if (ctx.fieldValidation === 'Strict' && removed.length > 0) {
      const kind = ctx.rt.kind;
      throw badRequest(`${kind} in version "${version}" cannot be handled as a ${kind}: strict decoding error: ${removed.map((f) => `unknown field "${f}"`).join(', ')}`);
    }
    applyDefaults(obj, schema);
    const body: Record<string, unknown> = { ...obj };
    delete body.metadata;
    const rootSchema: JSONSchemaProps = { ...schema, properties: { ...(schema.properties ?? {}) } };
    delete rootSchema.properties?.metadata;
    const causes = validateSchema(body, rootSchema, '');
    if (causes.length === 0) causes.push(...evaluateRules(obj, ctx.old, schema, '', true));
    if (causes.length > 0) throw invalid(ctx.rt, obj.metadata.name, causes);
  }

  afterCommit(change: CommittedChange, store: ClusterStore): void {
    if (change.rt !== BUILTINS.customresourcedefinitions) return;
    const crd = change.object;
    const spec = specOf(crd);
    const key = `${spec.group}/${spec.names.plural}`;
    if (change.type === 'DELETED') {
      this.#crds.delete(key);
      store.unregisterType(spec.group, spec.names.plural);
      return;
    }
    const previous = change.previous ? specOf(change.previous) : undefined;
    if (previous && `${previous.group}/${previous.names.plural}` !== key) {
      this.#crds.delete(`${previous.group}/${previous.names.plural}`);
      store.unregisterType(previous.group, previous.names.plural);
    }
    this.#crds.set(key, crd);
    store.registerType(resourceTypeOfCrd(crd));
    this.#establish(store, crd);
  }

  #establish(store: ClusterStore, crd: KubeObject): void {
    const spec = specOf(crd);
    const status = (crd.status ?? {}) as { conditions?: { type: string; status: string; lastTransitionTime?: string }[] };
    const acceptedNames = {
      plural: spec.names.plural,
      singular: spec.names.singular ?? spec.names.kind.toLowerCase(),
      kind: spec.names.kind,
      listKind: spec.names.listKind ?? `${spec.names.kind}List`,
      ...(spec.names.shortNames ? { shortNames: spec.names.shortNames } : {}),
      ...(spec.names.categories ? { categories: spec.names.categories } : {}),
    };
    const at = timestamp();
    const keep = (type: string): string => status.conditions?.find((c) => c.type === type && c.status === 'True')?.lastTransitionTime ?? at;
    const next = {
      conditions: [
        { type: 'NamesAccepted', status: 'True', reason: 'NoConflicts', message: 'no conflicts found', lastTransitionTime: keep('NamesAccepted') },
        { type: 'Established', status: 'True', reason: 'InitialNamesAccepted', message: 'the initial names have been accepted', lastTransitionTime: keep('Established') },
      ],
      acceptedNames,
      storedVersions: [...new Set([...((crd.status as { storedVersions?: string[] } | undefined)?.storedVersions ?? []), ...spec.versions.filter((v) => v.storage).map((v) => v.name)])],
    };
    if (jsonEqual(crd.status, next)) return;
    const updated = clone(crd);
    updated.status = next;
    store.update(BUILTINS.customresourcedefinitions, updated, { subresource: 'status', fieldManager: APISERVER_MANAGER });
  }
}
