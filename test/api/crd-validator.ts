// Validates an object against a generated CRD the way the API server's schema stage does, as far
// as a JSON-schema validator and a CEL library can: OpenAPI v3 keywords through ajv (defaults
// applied first, as the server does), then every x-kubernetes-validations rule through CEL.
// Not covered here (the local API server covers them): list-type map/set uniqueness and the
// API server's own checks on metadata.
import { evaluate } from '@marcbachmann/cel-js';
import { Ajv } from 'ajv';
import type { ErrorObject } from 'ajv';
import addFormatsModule from 'ajv-formats';

type Schema = { [key: string]: unknown };
export interface CrdViolation { path: string; message: string }

const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

function dotted(pointer: string): string {
  return pointer
    .split('/')
    .filter((p) => p !== '')
    .map((p) => (/^\d+$/.test(p) ? `[${p}]` : `.${p}`))
    .join('')
    .replace(/^\./, '');
}

function fromAjv(e: ErrorObject): CrdViolation {
  const missing = (e.params as { missingProperty?: string }).missingProperty;
  const path = dotted(e.instancePath) + (missing ? `${e.instancePath ? '.' : ''}${missing}` : '');
  return { path: path || '(root)', message: e.message ?? e.keyword };
}

function celViolations(schema: Schema, value: unknown, path: string, out: CrdViolation[]): void {
  if (value === null || value === undefined) return;
  for (const v of (schema['x-kubernetes-validations'] as { rule: string; message: string; fieldPath?: string }[] | undefined) ?? []) {
    // A transition rule (oldSelf) is checked only on update, where an old value exists: never on a create.
    if (/\boldSelf\b/.test(v.rule)) continue;
    let ok: unknown;
    try {
      ok = evaluate(v.rule, { self: value });
    } catch (err) {
      ok = `error: ${(err as Error).message}`;
    }
    if (ok !== true) out.push({ path: `${path}${v.fieldPath ?? ''}`.replace(/^\./, '') || '(root)', message: typeof ok === 'string' ? ok : v.message });
  }
  const props = schema.properties as Record<string, Schema> | undefined;
  if (props && typeof value === 'object' && !Array.isArray(value)) {
    for (const [k, s] of Object.entries(props)) celViolations(s, (value as Record<string, unknown>)[k], `${path}.${k}`, out);
  }
  if (schema.items && Array.isArray(value)) {
    value.forEach((item, i) => celViolations(schema.items as Schema, item, `${path}[${i}]`, out));
  }
}

/** A validator for one CRD's openAPIV3Schema; returns the violations (none when valid). */
export function crdValidator(openAPIV3Schema: Schema): (obj: unknown) => CrdViolation[] {
  const ajv = new Ajv({ strict: false, allErrors: true, useDefaults: true });
  addFormats(ajv);
  const validate = ajv.compile(openAPIV3Schema);
  return (obj) => {
    const copy = structuredClone(obj);
    if (!validate(copy)) return (validate.errors ?? []).map(fromAjv);
    const out: CrdViolation[] = [];
    celViolations(openAPIV3Schema, copy, '', out);
    return out;
  };
}
