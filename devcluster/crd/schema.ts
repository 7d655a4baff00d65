// Structural OpenAPI v3 schemas of CustomResourceDefinitions: defaulting, pruning of unknown
// fields and validation, with field paths and messages in the real API server's words.
import type { StatusCause } from '../store/errors.ts';
import { clone, isPlainObject } from '../store/objects.ts';
import { jsonEqual } from '../../operator/runtime/json-equal.ts';

/** The parts of a CRD's JSONSchemaProps the devcluster understands. */
export interface JSONSchemaProps {
  type?: string;
  description?: string;
  properties?: Record<string, JSONSchemaProps>;
  additionalProperties?: JSONSchemaProps | boolean;
  items?: JSONSchemaProps;
  required?: string[];
  enum?: unknown[];
  pattern?: string;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: boolean;
  exclusiveMaximum?: boolean;
  multipleOf?: number;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
  minProperties?: number;
  maxProperties?: number;
  format?: string;
  default?: unknown;
  nullable?: boolean;
  'x-kubernetes-int-or-string'?: boolean;
  'x-kubernetes-preserve-unknown-fields'?: boolean;
  'x-kubernetes-embedded-resource'?: boolean;
  'x-kubernetes-list-type'?: 'atomic' | 'set' | 'map';
  'x-kubernetes-list-map-keys'?: string[];
  'x-kubernetes-map-type'?: 'atomic' | 'granular';
  'x-kubernetes-validations'?: ValidationRule[];
  allOf?: JSONSchemaProps[];
  anyOf?: JSONSchemaProps[];
  oneOf?: JSONSchemaProps[];
  not?: JSONSchemaProps;
}

/** One `x-kubernetes-validations` entry. */
export interface ValidationRule {
  rule: string;
  message?: string;
  messageExpression?: string;
  fieldPath?: string;
  reason?: string;
  optionalOldSelf?: boolean;
}

const OBJECT_META_FIELDS = new Set([
  'name', 'generateName', 'namespace', 'uid', 'resourceVersion', 'generation', 'creationTimestamp', 'deletionTimestamp',
  'deletionGracePeriodSeconds', 'labels', 'annotations', 'ownerReferences', 'finalizers', 'managedFields', 'selfLink',
]);

const DATE_TIME = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;
const DATE = /^\d{4}-\d{2}-\d{2}$/;

/** Fills in schema defaults where a field is absent, recursively, as the API server does on decode. */
export function applyDefaults(value: unknown, schema: JSONSchemaProps | undefined): void {
  if (!schema) return;
  if (Array.isArray(value)) {
    for (const item of value) applyDefaults(item, schema.items);
    return;
  }
  if (!isPlainObject(value)) return;
  for (const [key, prop] of Object.entries(schema.properties ?? {})) {
    if (value[key] === undefined && prop.default !== undefined) value[key] = clone(prop.default);
    applyDefaults(value[key], prop);
  }
  if (isPlainObject(schema.additionalProperties)) {
    for (const v of Object.values(value)) applyDefaults(v, schema.additionalProperties);
  }
}

/** Removes fields the schema does not declare (unless it preserves unknown fields); returns their paths. */
export function prune(value: unknown, schema: JSONSchemaProps | undefined, path: string, root = false): string[] {
  const removed: string[] = [];
  if (!schema) return removed;
  if (Array.isArray(value)) {
    value.forEach((item, i) => removed.push(...prune(item, schema.items, `${path}[${i}]`)));
    return removed;
  }
  if (!isPlainObject(value)) return removed;
  const preserve = schema['x-kubernetes-preserve-unknown-fields'] === true;
  const props = schema.properties ?? {};
  for (const key of Object.keys(value)) {
    const child = `${path === '' ? '' : `${path}.`}${key}`;
    if (root && (key === 'apiVersion' || key === 'kind')) continue;
    if ((root || schema['x-kubernetes-embedded-resource']) && key === 'metadata') {
      const meta = value[key];
      if (isPlainObject(meta)) for (const mk of Object.keys(meta)) if (!OBJECT_META_FIELDS.has(mk)) delete meta[mk];
      continue;
    }
    if (key in props) {
      removed.push(...prune(value[key], props[key], child));
    } else if (isPlainObject(schema.additionalProperties)) {
      removed.push(...prune(value[key], schema.additionalProperties, child));
    } else if (!preserve && schema.additionalProperties !== true) {
      removed.push(child);
      delete value[key];
    }
  }
  return removed;
}

function show(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (v === null) return '"null"';
  if (typeof v === 'object') return JSON.stringify(Array.isArray(v) ? 'array' : 'object');
  return String(v);
}

function typeOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

function typeMatches(v: unknown, schema: JSONSchemaProps): boolean {
  if (schema['x-kubernetes-int-or-string']) return typeof v === 'string' || (typeof v === 'number' && Number.isInteger(v));
  const t = schema.type;
  if (t === undefined) return true;
  const actual = typeOf(v);
  if (t === 'number') return actual === 'number' || actual === 'integer';
  return actual === t;
}

function compilePattern(pattern: string): RegExp | undefined {
  try {
    return new RegExp(pattern, 'u');
  } catch {
    return undefined;
  }
}

/** Validates `value` against `schema`; returns one cause per violation, named by field path. */
export function validateSchema(value: unknown, schema: JSONSchemaProps | undefined, path: string): StatusCause[] {
  const causes: StatusCause[] = [];
  walk(value, schema, path, causes);
  return causes;
}

function invalidValue(path: string, v: unknown, what: string): StatusCause {
  return { field: path, reason: 'FieldValueInvalid', message: `Invalid value: ${show(v)}: ${path} in body ${what}` };
}

function walk(v: unknown, schema: JSONSchemaProps | undefined, path: string, causes: StatusCause[]): void {
  if (!schema) return;
  if (v === null) {
    if (!schema.nullable && schema.type !== undefined) {
      causes.push(invalidValue(path, v, `must be of type ${schema.type}: "null"`));
    }
    return;
  }
  if (!typeMatches(v, schema)) {
    causes.push(invalidValue(path, v, `must be of type ${schema['x-kubernetes-int-or-string'] ? 'int-or-string' : schema.type}: "${typeOf(v)}"`));
    return;
  }
  if (schema.enum && !schema.enum.some((e) => jsonEqual(e, v))) {
    causes.push({
      field: path,
      reason: 'FieldValueNotSupported',
      message: `Unsupported value: ${show(v)}: supported values: ${schema.enum.map((e) => JSON.stringify(e)).join(', ')}`,
    });
  }
  if (typeof v === 'string') walkString(v, schema, path, causes);
  else if (typeof v === 'number') walkNumber(v, schema, path, causes);
  else if (Array.isArray(v)) walkArray(v, schema, path, causes);
  else if (isPlainObject(v)) walkObject(v, schema, path, causes);
  for (const sub of schema.allOf ?? []) walk(v, sub, path, causes);
  if (schema.anyOf && !schema.anyOf.some((s) => validateSchema(v, s, path).length === 0)) {
    causes.push(invalidValue(path, v, 'must validate at least one schema (anyOf)'));
  }
  if (schema.oneOf && schema.oneOf.filter((s) => validateSchema(v, s, path).length === 0).length !== 1) {
    causes.push(invalidValue(path, v, 'must validate one and only one schema (oneOf)'));
  }
  if (schema.not && validateSchema(v, schema.not, path).length === 0) {
    causes.push(invalidValue(path, v, 'must not validate the schema (not)'));
  }
}

function walkString(v: string, schema: JSONSchemaProps, path: string, causes: StatusCause[]): void {
  if (schema.maxLength !== undefined && v.length > schema.maxLength) {
    causes.push({ field: path, reason: 'FieldValueTooLong', message: `Too long: may not be more than ${schema.maxLength} bytes` });
  }
  if (schema.minLength !== undefined && v.length < schema.minLength) {
    causes.push(invalidValue(path, v, `should be at least ${schema.minLength} chars long`));
  }
  if (schema.pattern !== undefined) {
    const re = compilePattern(schema.pattern);
    if (re && !re.test(v)) causes.push(invalidValue(path, v, `should match '${schema.pattern}'`));
  }
  if (schema.format === 'date-time' && !(DATE_TIME.test(v) && !Number.isNaN(Date.parse(v)))) {
    causes.push(invalidValue(path, v, `must be of type date-time: ${JSON.stringify(v)}`));
  }
  if (schema.format === 'date' && !DATE.test(v)) causes.push(invalidValue(path, v, `must be of type date: ${JSON.stringify(v)}`));
}

function walkNumber(v: number, schema: JSONSchemaProps, path: string, causes: StatusCause[]): void {
  if (schema.minimum !== undefined) {
    if (schema.exclusiveMinimum ? v <= schema.minimum : v < schema.minimum) {
      causes.push(invalidValue(path, v, `should be greater than ${schema.exclusiveMinimum ? '' : 'or equal to '}${schema.minimum}`));
    }
  }
  if (schema.maximum !== undefined) {
    if (schema.exclusiveMaximum ? v >= schema.maximum : v > schema.maximum) {
      causes.push(invalidValue(path, v, `should be less than ${schema.exclusiveMaximum ? '' : 'or equal to '}${schema.maximum}`));
    }
  }
  if (schema.multipleOf !== undefined && v % schema.multipleOf !== 0) {
    causes.push(invalidValue(path, v, `should be a multiple of ${schema.multipleOf}`));
  }
}

function walkArray(v: unknown[], schema: JSONSchemaProps, path: string, causes: StatusCause[]): void {
  if (schema.maxItems !== undefined && v.length > schema.maxItems) {
    causes.push({ field: path, reason: 'FieldValueTooMany', message: `Too many: ${v.length}: must have at most ${schema.maxItems} items` });
  }
  if (schema.minItems !== undefined && v.length < schema.minItems) {
    causes.push(invalidValue(path, v.length, `should have at least ${schema.minItems} items`));
  }
  v.forEach((item, i) => walk(item, schema.items, `${path}[${i}]`, causes));
  const listType = schema['x-kubernetes-list-type'];
  if (listType === 'set') {
    v.forEach((item, i) => {
      if (v.findIndex((o) => jsonEqual(o, item)) < i) {
        causes.push({ field: `${path}[${i}]`, reason: 'FieldValueDuplicate', message: `Duplicate value: ${JSON.stringify(item)}` });
      }
    });
  } else if (listType === 'map') {
    const keys = schema['x-kubernetes-list-map-keys'] ?? [];
    const seen = new Set<string>();
    v.forEach((item, i) => {
      if (!isPlainObject(item)) return;
      const id = JSON.stringify(Object.fromEntries(keys.map((k) => [k, item[k]])));
      if (seen.has(id)) causes.push({ field: `${path}[${i}]`, reason: 'FieldValueDuplicate', message: `Duplicate value: ${id}` });
      seen.add(id);
    });
  }
}

function walkObject(v: Record<string, unknown>, schema: JSONSchemaProps, path: string, causes: StatusCause[]): void {
  const prefix = path === '' ? '' : `${path}.`;
  for (const req of schema.required ?? []) {
    if (v[req] === undefined) causes.push({ field: `${prefix}${req}`, reason: 'FieldValueRequired', message: 'Required value' });
  }
  const n = Object.keys(v).length;
  if (schema.maxProperties !== undefined && n > schema.maxProperties) {
    causes.push({ field: path, reason: 'FieldValueTooMany', message: `Too many: ${n}: must have at most ${schema.maxProperties} items` });
  }
  if (schema.minProperties !== undefined && n < schema.minProperties) {
    causes.push(invalidValue(path, n, `should have at least ${schema.minProperties} properties`));
  }
  for (const [key, child] of Object.entries(v)) {
    if (child === undefined) continue;
    const prop = schema.properties?.[key];
    if (prop) walk(child, prop, `${prefix}${key}`, causes);
    else if (isPlainObject(schema.additionalProperties)) walk(child, schema.additionalProperties, `${path}[${key}]`, causes);
  }
}
