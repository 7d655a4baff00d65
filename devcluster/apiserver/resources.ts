// The REST verbs on resources: get, list, create, update, patch (merge, JSON, strategic, apply),
// delete and deletecollection, plus the subresources the devcluster serves (status, scale,
// binding, eviction, log) and the access reviews.
import type { IncomingMessage } from 'node:http';
import { authorize } from '../auth/rbac.ts';
import type { Attributes } from '../auth/rbac.ts';
import type { UserInfo } from '../auth/identity.ts';
import type { CrdVersion, CustomResourceRegistry } from '../crd/registry.ts';
import { applyJsonPatch } from '../patch/json-patch.ts';
import { applyMergePatch } from '../patch/merge-patch.ts';
import type { SemanticsFor } from '../patch/managed-fields.ts';
import { serverSideApply } from '../patch/server-side-apply.ts';
import { applyStrategicMergePatch } from '../patch/strategic-merge.ts';
import { BUILTINS } from '../store/builtins.ts';
import { ApiError, badRequest, methodNotAllowed, notFound } from '../store/errors.ts';
import { asObject, clone, isPlainObject } from '../store/objects.ts';
import type { ClusterStore, FieldValidation } from '../store/cluster-store.ts';
import type { PropagationPolicy } from '../store/garbage-collector.ts';
import type { KubeObject, ResourceType } from '../store/types.ts';
import { parseBody, representation } from './negotiation.ts';
import type { RequestInfo } from './request-info.ts';
import { builtinPrinter, crdPrinter, toTable } from './tables.ts';
import type { Printer } from './tables.ts';

/** What a handler returns: a status code and a JSON body (or text). */
export interface Reply {
  code: number;
  body: unknown;
  text?: string;
}

/** Everything a resource handler needs. */
export interface ResourceContext {
  store: ClusterStore;
  crds: CustomResourceRegistry;
  semanticsFor: SemanticsFor;
  req: IncomingMessage;
  info: RequestInfo;
  rt: ResourceType;
  user: UserInfo;
  body: string;
}

const PATCH_TYPES = {
  json: 'application/json-patch+json',
  merge: 'application/merge-patch+json',
  strategic: 'application/strategic-merge-patch+json',
  apply: 'application/apply-patch+yaml',
};

/** The apiVersion string of a resource type at a version. */
export function apiVersionAt(rt: ResourceType, version: string): string {
  return rt.group === '' ? version : `${rt.group}/${version}`;
}

/** The printer for a resource type (built-in columns or the CRD's printer columns). */
export function printerFor(crds: CustomResourceRegistry, rt: ResourceType, version: string): Printer {
  const crd = crds.definition(rt.group, rt.resource);
  if (!crd) return builtinPrinter(rt.kind);
  const v = ((crd.spec as { versions?: CrdVersion[] }).versions ?? []).find((x) => x.name === version);
  return crdPrinter(v?.additionalPrinterColumns);
}

function fieldManagerOf(c: ResourceContext): string | undefined {
  const explicit = c.info.query.get('fieldManager');
  if (explicit) return explicit;
  const ua = c.req.headers['user-agent'];
  return ua ? ua.split('/')[0] : undefined;
}

function fieldValidationOf(c: ResourceContext): FieldValidation | undefined {
  const v = c.info.query.get('fieldValidation');
  return v === 'Strict' || v === 'Warn' || v === 'Ignore' ? v : undefined;
}

function writeOpts(c: ResourceContext): { fieldManager?: string; dryRun?: boolean; fieldValidation?: FieldValidation } {
  const o: { fieldManager?: string; dryRun?: boolean; fieldValidation?: FieldValidation } = {};
  const fm = fieldManagerOf(c);
  if (fm !== undefined) o.fieldManager = fm;
  if (c.info.query.getAll('dryRun').includes('All')) o.dryRun = true;
  const fv = fieldValidationOf(c);
  if (fv !== undefined) o.fieldValidation = fv;
  return o;
}

function bodyObject(c: ResourceContext): KubeObject {
  const parsed = parseBody(c.body, c.req.headers['content-type']);
  if (!isPlainObject(parsed)) throw badRequest('the request body must be a Kubernetes object (a JSON map with apiVersion, kind and metadata)');
  const obj = parsed as KubeObject;
  if (!isPlainObject(obj.metadata)) obj.metadata = { name: '' };
  return obj;
}

function view(c: ResourceContext, obj: KubeObject): unknown {
  const rep = representation(c.req.headers.accept);
  if (rep === 'table') {
    return toTable(printerFor(c.crds, c.rt, c.info.version), [obj], { resourceVersion: obj.metadata.resourceVersion }, c.info.query.get('includeObject'));
  }
  if (rep === 'metadata') return { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: obj.metadata };
  return withVersion(c, obj);
}

function withVersion(c: ResourceContext, obj: KubeObject): KubeObject {
  const apiVersion = apiVersionAt(c.rt, c.info.version);
  return obj.apiVersion === apiVersion ? obj : { ...obj, apiVersion };
}

function namespaceOf(c: ResourceContext, obj?: KubeObject): string | undefined {
  if (!c.rt.namespaced) return undefined;
  const fromPath = c.info.namespace;
  const fromBody = obj?.metadata.namespace;
  if (fromPath !== undefined && fromBody !== undefined && fromBody !== '' && fromBody !== fromPath) {
    throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
  }
  return fromPath ?? fromBody ?? 'default';
}

function mustGet(c: ResourceContext, name: string): KubeObject {
  const obj = c.store.peek(c.rt, namespaceOf(c), name);
  if (!obj) throw notFound(c.rt, name);
  return obj;
}

/** GET of one object (or its status / scale / log). */
export function getOne(c: ResourceContext): Reply {
  const name = c.info.name ?? '';
  const sub = c.info.subresource;
  if (sub === 'status' && !c.rt.statusSubresource) throw noSuchResource();
  const obj = mustGet(c, name);
  if (sub === undefined || sub === 'status') return { code: 200, body: view(c, obj) };
  if (sub === 'scale' && hasScale(c.rt)) return { code: 200, body: scaleOf(obj) };
  if (sub === 'log' && c.rt === BUILTINS.pods) return { code: 200, body: undefined, text: `simulated log of pod ${name}: the devcluster runs no containers\n` };
  throw notFound(c.rt, `${name}/${sub}`);
}

/** GET of a collection, paged with limit/continue, as a List or a Table. */
export function list(c: ResourceContext): Reply {
  const q = c.info.query;
  const opts: Parameters<ClusterStore['listPage']>[1] = {};
  if (c.info.namespace !== undefined) opts.namespace = c.info.namespace;
  const ls = q.get('labelSelector');
  if (ls) opts.labelSelector = ls;
  const fs = q.get('fieldSelector');
  if (fs) opts.fieldSelector = fs;
  const limit = Number(q.get('limit') ?? '0');
  if (limit > 0) opts.limit = limit;
  const cont = q.get('continue');
  if (cont) opts.continue = cont;
  const page = c.store.listPage(c.rt, opts);
  const metadata: Record<string, unknown> = { resourceVersion: page.resourceVersion };
  if (page.continue !== undefined) metadata.continue = page.continue;
  if (page.remainingItemCount !== undefined) metadata.remainingItemCount = page.remainingItemCount;
  const rep = representation(c.req.headers.accept);
  if (rep === 'table') return { code: 200, body: toTable(printerFor(c.crds, c.rt, c.info.version), page.items, metadata, q.get('includeObject')) };
  if (rep === 'metadata') {
    return { code: 200, body: { kind: 'PartialObjectMetadataList', apiVersion: 'meta.k8s.io/v1', metadata, items: page.items.map((o) => ({ kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: o.metadata })) } };
  }
  return { code: 200, body: { kind: `${c.rt.kind}List`, apiVersion: apiVersionAt(c.rt, c.info.version), metadata, items: page.items.map((o) => withVersion(c, o)) } };
}

/** POST: create, or a create-only subresource (binding, eviction) or an access review. */
export function create(c: ResourceContext): Reply {
  if (c.rt === BUILTINS.selfsubjectaccessreviews || c.rt === BUILTINS.subjectaccessreviews) return accessReview(c);
  const obj = bodyObject(c);
  const sub = c.info.subresource;
  if (c.info.name !== undefined && sub === 'binding' && c.rt === BUILTINS.pods) return bind(c, obj);
  if (c.info.name !== undefined && sub === 'eviction' && c.rt === BUILTINS.pods) {
    c.store.delete(c.rt, namespaceOf(c), c.info.name);
    return { code: 201, body: { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 } };
  }
  if (c.info.name !== undefined) throw methodNotAllowed('create', c.rt);
  const ns = namespaceOf(c, obj);
  if (ns !== undefined) obj.metadata.namespace = ns;
  if (obj.apiVersion === undefined) obj.apiVersion = apiVersionAt(c.rt, c.info.version);
  if (obj.kind !== undefined && obj.kind !== c.rt.kind) throw badRequest(`the kind of the object (${obj.kind}) does not match the resource (${c.rt.kind})`);
  const created = c.store.create(c.rt, obj, writeOpts(c));
  return { code: 201, body: view(c, created) };
}

function bind(c: ResourceContext, binding: KubeObject): Reply {
  const pod = clone(mustGet(c, c.info.name ?? ''));
  const target = (binding.target as { name?: string } | undefined)?.name;
  if (!target) throw badRequest('binding: target.name is required');
  if ((pod.spec as { nodeName?: string } | undefined)?.nodeName) {
    throw new ApiError(409, 'Conflict', `Operation cannot be fulfilled on pods/binding "${pod.metadata.name}": pod ${pod.metadata.name} is already assigned to node "${(pod.spec as { nodeName?: string }).nodeName}"`);
  }
  pod.spec = { ...(pod.spec as object), nodeName: target };
  // As on the real server, a binding records no field manager.
  c.store.update(c.rt, pod, { managedFieldsSet: true });
  return { code: 201, body: { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 } };
}

function noSuchResource(): ApiError {
  return new ApiError(404, 'NotFound', 'the server could not find the requested resource');
}

function hasScale(rt: ResourceType): boolean {
  return rt === BUILTINS.deployments || rt === BUILTINS.statefulsets || rt === BUILTINS.replicasets;
}

function scaleOf(obj: KubeObject): Record<string, unknown> {
  const spec = (obj.spec ?? {}) as { replicas?: number; selector?: { matchLabels?: Record<string, string> } };
  const status = (obj.status ?? {}) as { replicas?: number };
  const selector = Object.entries(spec.selector?.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`).join(',');
  return {
    kind: 'Scale',
    apiVersion: 'autoscaling/v1',
    metadata: { name: obj.metadata.name, namespace: obj.metadata.namespace, uid: obj.metadata.uid, resourceVersion: obj.metadata.resourceVersion, creationTimestamp: obj.metadata.creationTimestamp },
    spec: { replicas: spec.replicas ?? 0 },
    status: { replicas: status.replicas ?? 0, selector },
  };
}

/** PUT: replace the object (or its status, or its scale). */
export function update(c: ResourceContext): Reply {
  const name = c.info.name ?? '';
  const obj = bodyObject(c);
  if (obj.metadata.name !== undefined && obj.metadata.name !== '' && obj.metadata.name !== name) {
    throw badRequest(`the name of the object (${obj.metadata.name}) does not match the name on the URL (${name})`);
  }
  obj.metadata.name = name;
  const ns = namespaceOf(c, obj);
  if (ns !== undefined) obj.metadata.namespace = ns;
  const sub = c.info.subresource;
  if (sub === 'scale' && hasScale(c.rt)) return { code: 200, body: scaleOf(setReplicas(c, name, (obj.spec as { replicas?: number } | undefined)?.replicas)) };
  if (sub === 'finalize' && c.rt === BUILTINS.namespaces) return { code: 200, body: view(c, mustGet(c, name)) };
  if (sub !== undefined && (sub !== 'status' || !c.rt.statusSubresource)) throw noSuchResource();
  if (obj.apiVersion === undefined) obj.apiVersion = apiVersionAt(c.rt, c.info.version);
  const opts = { ...writeOpts(c), ...(sub === 'status' ? { subresource: 'status' as const } : {}) };
  return { code: 200, body: view(c, c.store.update(c.rt, obj, opts)) };
}

function setReplicas(c: ResourceContext, name: string, replicas: number | undefined): KubeObject {
  const obj = clone(mustGet(c, name));
  obj.spec = { ...((obj.spec as object | undefined) ?? {}), replicas: replicas ?? 0 };
  return c.store.update(c.rt, obj, writeOpts(c));
}

/** PATCH in any of the four patch types. */
export function patch(c: ResourceContext): Reply {
  const name = c.info.name ?? '';
  const ct = (c.req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  const sub = c.info.subresource;
  const served = (sub === 'status' && c.rt.statusSubresource) || (sub === 'scale' && hasScale(c.rt));
  if (sub !== undefined && !served) throw noSuchResource();
  if (ct === PATCH_TYPES.apply) {
    const opts = { ...writeOpts(c), force: c.info.query.get('force') === 'true', ...(sub === 'status' ? { subresource: 'status' as const } : {}) };
    const config = parseBody(c.body, 'yaml');
    const { object, created } = serverSideApply(c.store, c.semanticsFor, c.rt, namespaceOf(c), name, config, opts);
    return { code: created ? 201 : 200, body: view(c, object) };
  }
  const isCustom = c.crds.definition(c.rt.group, c.rt.resource) !== undefined;
  if (![PATCH_TYPES.json, PATCH_TYPES.merge, PATCH_TYPES.strategic].includes(ct) || (ct === PATCH_TYPES.strategic && isCustom)) {
    throw new ApiError(
      415,
      'UnsupportedMediaType',
      `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml${isCustom ? '' : ', application/strategic-merge-patch+json'}`,
    );
  }
  const current = mustGet(c, name);
  const base = sub === 'scale' ? scaleOf(current) : withVersion(c, clone(current));
  const body = parseBody(c.body, 'json');
  let patched: unknown;
  if (ct === PATCH_TYPES.json) patched = applyJsonPatch(base, body);
  else if (ct === PATCH_TYPES.merge) patched = applyMergePatch(base, body);
  else patched = applyStrategicMergePatch(base, body, c.semanticsFor(c.rt, apiVersionAt(c.rt, c.info.version)));
  if (!isPlainObject(patched) || !isPlainObject(patched.metadata)) throw badRequest('the patch removed the object metadata');
  const next = patched as KubeObject;
  if (sub === 'scale') return { code: 200, body: scaleOf(setReplicas(c, name, (next.spec as { replicas?: number } | undefined)?.replicas)) };
  if (next.metadata.name !== name) throw badRequest(`the name of the object (${String(next.metadata.name)}) does not match the name on the URL (${name})`);
  const patchRv = isPlainObject(body) && isPlainObject(body.metadata) ? body.metadata.resourceVersion : undefined;
  next.metadata.resourceVersion = typeof patchRv === 'string' ? patchRv : current.metadata.resourceVersion;
  const opts = { ...writeOpts(c), ...(sub === 'status' ? { subresource: 'status' as const } : {}) };
  return { code: 200, body: view(c, c.store.update(c.rt, next, opts)) };
}

function deleteOptions(c: ResourceContext): { propagationPolicy?: PropagationPolicy; preconditions?: { uid?: string; resourceVersion?: string }; dryRun?: boolean } {
  const body = parseBody(c.body, c.req.headers['content-type']);
  const out: { propagationPolicy?: PropagationPolicy; preconditions?: { uid?: string; resourceVersion?: string }; dryRun?: boolean } = {};
  const fromBody = asObject(body);
  const policy = (fromBody.propagationPolicy as string | undefined) ?? c.info.query.get('propagationPolicy') ?? undefined;
  if (fromBody.orphanDependents === true) out.propagationPolicy = 'Orphan';
  if (policy !== undefined) {
    if (policy !== 'Background' && policy !== 'Foreground' && policy !== 'Orphan') {
      throw new ApiError(422, 'Invalid', `DeleteOptions.meta.k8s.io "" is invalid: propagationPolicy: Unsupported value: "${policy}": supported values: "Foreground", "Background", "Orphan"`);
    }
    out.propagationPolicy = policy;
  }
  if (isPlainObject(fromBody.preconditions)) out.preconditions = fromBody.preconditions as { uid?: string; resourceVersion?: string };
  const dry = Array.isArray(fromBody.dryRun) ? (fromBody.dryRun as string[]) : c.info.query.getAll('dryRun');
  if (dry.includes('All')) out.dryRun = true;
  return out;
}

/** DELETE of one object: returns the deleted object, or the object marked for deletion. */
export function remove(c: ResourceContext): Reply {
  const name = c.info.name ?? '';
  if (c.info.subresource !== undefined) throw methodNotAllowed('delete', c.rt);
  const deleted = c.store.delete(c.rt, namespaceOf(c), name, deleteOptions(c));
  if (!deleted) throw notFound(c.rt, name);
  return { code: 200, body: view(c, deleted) };
}

/** DELETE of a collection (with label/field selectors). */
export function removeCollection(c: ResourceContext): Reply {
  const opts: Parameters<ClusterStore['deleteCollection']>[1] = {};
  if (c.info.namespace !== undefined) opts.namespace = c.info.namespace;
  const ls = c.info.query.get('labelSelector');
  if (ls) opts.labelSelector = ls;
  const fs = c.info.query.get('fieldSelector');
  if (fs) opts.fieldSelector = fs;
  const d = deleteOptions(c);
  if (d.propagationPolicy) opts.propagationPolicy = d.propagationPolicy;
  const items = c.store.deleteCollection(c.rt, opts);
  return { code: 200, body: { kind: `${c.rt.kind}List`, apiVersion: apiVersionAt(c.rt, c.info.version), metadata: { resourceVersion: c.store.currentResourceVersion() }, items } };
}

interface ReviewSpec {
  user?: string;
  groups?: string[];
  resourceAttributes?: { namespace?: string; verb?: string; group?: string; resource?: string; subresource?: string; name?: string };
  nonResourceAttributes?: { path?: string; verb?: string };
}

function accessReview(c: ResourceContext): Reply {
  const review = bodyObject(c);
  const spec = (review.spec ?? {}) as ReviewSpec;
  const self = c.rt === BUILTINS.selfsubjectaccessreviews;
  const subject: UserInfo = self
    ? c.user
    : { username: spec.user ?? '', groups: [...new Set([...(spec.groups ?? []), ...(spec.user ? ['system:authenticated'] : [])])] };
  let attrs: Attributes;
  if (spec.resourceAttributes) {
    const r = spec.resourceAttributes;
    attrs = { verb: r.verb ?? '', resourceRequest: true, apiGroup: r.group ?? '', resource: r.resource ?? '' };
    if (r.subresource) attrs.subresource = r.subresource;
    if (r.namespace) attrs.namespace = r.namespace;
    if (r.name) attrs.name = r.name;
  } else if (spec.nonResourceAttributes) {
    attrs = { verb: spec.nonResourceAttributes.verb ?? '', resourceRequest: false, path: spec.nonResourceAttributes.path ?? '' };
  } else {
    throw new ApiError(422, 'Invalid', `${c.rt.kind}.authorization.k8s.io "" is invalid: spec.resourceAttributes: Invalid value: "null": exactly one of nonResourceAttributes or resourceAttributes must be specified`);
  }
  const decision = authorize(c.store, subject, attrs);
  const status: Record<string, unknown> = { allowed: decision.allowed };
  if (decision.allowed) status.reason = decision.reason;
  return { code: 201, body: { ...review, apiVersion: 'authorization.k8s.io/v1', kind: c.rt.kind, metadata: { ...review.metadata, creationTimestamp: null }, status } };
}
