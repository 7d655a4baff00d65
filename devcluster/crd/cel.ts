// `x-kubernetes-validations` rules, type-checked when the CRD is written and evaluated with
// @marcbachmann/cel-js. Supported: `self`,
// `oldSelf` (transition rules, checked on update where the old value exists), the standard CEL
// operators, macros (all, exists, exists_one, map, filter), has(), size(), matches(),
// timestamp()/duration() comparisons, string methods (startsWith, endsWith, contains,
// lowerAscii, upperAscii, trim), and message/messageExpression/fieldPath/reason.
import { Environment } from '@marcbachmann/cel-js';
import type { StatusCause } from '../store/errors.ts';
import { isPlainObject } from '../store/objects.ts';
import type { JSONSchemaProps, ValidationRule } from './schema.ts';

type Program = ReturnType<Environment['parse']>;

const env = new Environment({ unlistedVariablesAreDyn: true, homogeneousAggregateLiterals: false })
  .registerVariable('self', 'dyn')
  .registerVariable('oldSelf', 'dyn');

const programs = new Map<string, Program>();

/** A rule that does not compile, reported at CRD creation. */
export class RuleCompileError extends Error {
  override readonly name = 'RuleCompileError';
}

/**
 * Compiles and type-checks an expression once (cached): unknown functions, type errors and a
 * result of the wrong type (`bool` for rules, `string` for messages) throw RuleCompileError.
 */
function compileRule(rule: string, resultType: 'bool' | 'string' = 'bool'): Program {
  const cached = programs.get(rule);
  if (cached) return cached;
  let program: Program;
  try {
    program = env.parse(rule);
  } catch (err) {
    throw new RuleCompileError(`compilation failed: ${(err as Error).message.split('\n')[0] ?? ''}`);
  }
  const checked = env.check(rule) as { valid: boolean; type?: string; error?: Error };
  if (!checked.valid) throw new RuleCompileError(`compilation failed: ${checked.error?.message.split('\n')[0] ?? 'type check failed'}`);
  if (checked.type !== undefined && checked.type !== resultType && checked.type !== 'dyn') {
    throw new RuleCompileError(`compilation failed: the expression must evaluate to ${resultType}, found ${checked.type}`);
  }
  programs.set(rule, program);
  return program;
}

/** Compiles every rule in a schema; returns one cause per rule that cannot be compiled. */
export function checkSchemaRules(schema: JSONSchemaProps | undefined, path: string): StatusCause[] {
  const causes: StatusCause[] = [];
  if (!schema) return causes;
  (schema['x-kubernetes-validations'] ?? []).forEach((r, i) => {
    for (const [field, text, type] of [['rule', r.rule, 'bool'], ['messageExpression', r.messageExpression, 'string']] as const) {
      if (text === undefined) continue;
      try {
        compileRule(text, type);
      } catch (err) {
        causes.push({
          field: `${path}.x-kubernetes-validations[${i}].${field}`,
          reason: 'FieldValueInvalid',
          message: `Invalid value: ${JSON.stringify(text)}: ${(err as Error).message}`,
        });
      }
    }
  });
  for (const [key, prop] of Object.entries(schema.properties ?? {})) causes.push(...checkSchemaRules(prop, `${path}.properties[${key}]`));
  if (schema.items) causes.push(...checkSchemaRules(schema.items, `${path}.items`));
  if (isPlainObject(schema.additionalProperties)) {
    causes.push(...checkSchemaRules(schema.additionalProperties as JSONSchemaProps, `${path}.additionalProperties`));
  }
  return causes;
}

/** Converts a JSON value to CEL values: integers become BigInt where the schema says integer. */
function toCel(v: unknown, schema: JSONSchemaProps | undefined, root = false): unknown {
  if (typeof v === 'number') {
    const t = schema?.type;
    return Number.isInteger(v) && t !== 'number' ? BigInt(v) : v;
  }
  if (Array.isArray(v)) return v.map((x) => toCel(x, schema?.items));
  if (isPlainObject(v)) {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) {
      if (x === undefined || x === null) continue;
      if (root && k === 'metadata' && isPlainObject(x)) {
        out[k] = Object.fromEntries(['name', 'generateName'].filter((m) => x[m] !== undefined).map((m) => [m, x[m]]));
        continue;
      }
      const extra = isPlainObject(schema?.additionalProperties) ? (schema?.additionalProperties as JSONSchemaProps) : undefined;
      out[k] = toCel(x, schema?.properties?.[k] ?? extra);
    }
    return out;
  }
  return v;
}

function displayType(v: unknown): string {
  if (Array.isArray(v)) return 'array';
  if (isPlainObject(v)) return 'object';
  return typeof v === 'string' ? v : String(v);
}

function evaluateRule(rule: ValidationRule, self: unknown, oldSelf: unknown, hasOld: boolean, schema: JSONSchemaProps, path: string, root: boolean): StatusCause | undefined {
  const usesOld = /\boldSelf\b/.test(rule.rule);
  if (usesOld && !hasOld && !rule.optionalOldSelf) return undefined;
  const fieldPath = rule.fieldPath?.replace(/^\./, '');
  const field = fieldPath === undefined || fieldPath === '' ? path : path === '' ? fieldPath : `${path}.${fieldPath}`;
  const ctx = { self: toCel(self, schema, root), oldSelf: hasOld ? toCel(oldSelf, schema, root) : null };
  let ok: unknown;
  try {
    ok = compileRule(rule.rule)(ctx);
  } catch (err) {
    return {
      field,
      reason: 'FieldValueInvalid',
      message: `Invalid value: ${JSON.stringify(displayType(self))}: ${(err as Error).message.split('\n')[0] ?? ''} evaluating rule: ${rule.rule}`,
    };
  }
  if (ok === true) return undefined;
  let message = rule.message ?? `failed rule: ${rule.rule}`;
  if (rule.messageExpression !== undefined) {
    try {
      const m = compileRule(rule.messageExpression, 'string')(ctx);
      if (typeof m === 'string' && m !== '') message = m;
    } catch {
      // The API server falls back to `message` when messageExpression fails, and so do we.
    }
  }
  const reason = rule.reason === 'FieldValueForbidden' ? 'FieldValueForbidden' : rule.reason === 'FieldValueRequired' ? 'FieldValueRequired' : 'FieldValueInvalid';
  const prefix = reason === 'FieldValueForbidden' ? 'Forbidden' : reason === 'FieldValueRequired' ? 'Required value' : `Invalid value: ${JSON.stringify(displayType(self))}`;
  return { field, reason, message: `${prefix}: ${message}` };
}

/**
 * Evaluates every rule that applies to `value` (and, for transition rules, `old`), depth first.
 * Returns one cause per failed rule, named by field path.
 */
export function evaluateRules(value: unknown, old: unknown, schema: JSONSchemaProps | undefined, path: string, root = true): StatusCause[] {
  const causes: StatusCause[] = [];
  if (!schema || value === undefined || value === null) return causes;
  const hasOld = old !== undefined && old !== null;
  for (const rule of schema['x-kubernetes-validations'] ?? []) {
    const cause = evaluateRule(rule, value, old, hasOld, schema, path, root);
    if (cause) causes.push(cause);
  }
  const prefix = path === '' ? '' : `${path}.`;
  if (isPlainObject(value)) {
    const oldObj = isPlainObject(old) ? old : undefined;
    for (const [key, prop] of Object.entries(schema.properties ?? {})) {
      if (root && key === 'metadata') continue;
      causes.push(...evaluateRules(value[key], oldObj?.[key], prop, `${prefix}${key}`, false));
    }
    if (isPlainObject(schema.additionalProperties)) {
      for (const [key, v] of Object.entries(value)) {
        causes.push(...evaluateRules(v, oldObj?.[key], schema.additionalProperties as JSONSchemaProps, `${path}[${key}]`, false));
      }
    }
  } else if (Array.isArray(value) && schema.items) {
    const keys = schema['x-kubernetes-list-map-keys'];
    const oldList = Array.isArray(old) ? old : [];
    value.forEach((item, i) => {
      const oldItem =
        schema['x-kubernetes-list-type'] === 'map' && keys && isPlainObject(item)
          ? oldList.find((o) => isPlainObject(o) && keys.every((k) => o[k] === item[k]))
          : undefined;
      causes.push(...evaluateRules(item, oldItem, schema.items, `${path}[${i}]`, false));
    });
  }
  return causes;
}
