// The API server's selector parameters: `?labelSelector=` in its string syntax, evaluated by
// api/selectors.ts (the one home of label selector matching), and `?fieldSelector=`.
import { labelSelectorMatches } from '../../api/selectors.ts';
import type { LabelSelectorRequirement } from '../../api/selectors.ts';
import { badRequest } from './errors.ts';
import type { KubeObject } from './types.ts';

/** A parsed selector: a conjunction of requirements; the empty selector matches everything. */
export type Selector = (labels: Record<string, string> | undefined) => boolean;

const KEY = /^[A-Za-z0-9]([-A-Za-z0-9_./]*[A-Za-z0-9])?$/;

function splitTopLevel(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i += 1) {
    const c = text[i];
    if (c === '(') depth += 1;
    else if (c === ')') depth -= 1;
    else if (c === ',' && depth === 0) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(text.slice(start));
  return parts.map((p) => p.trim()).filter((p) => p !== '');
}

const OPERATORS: Record<string, string> = { in: 'In', notin: 'NotIn', '=': 'In', '==': 'In', '!=': 'NotIn', '>': 'Gt', '<': 'Lt' };

function parseRequirement(term: string): LabelSelectorRequirement {
  const set = /^(\S+)\s+(in|notin)\s*\(([^)]*)\)$/.exec(term);
  if (set) {
    const [, key = '', op = '', values = ''] = set;
    return { key, operator: OPERATORS[op] ?? 'In', values: values.split(',').map((v) => v.trim()).filter((v) => v !== '') };
  }
  const cmp = /^([^=!<>\s]+)\s*(==|=|!=|>|<)\s*(\S*)$/.exec(term);
  if (cmp) {
    const [, key = '', op = '', value = ''] = cmp;
    if ((op === '>' || op === '<') && !/^-?[0-9]+$/.test(value)) {
      throw badRequest(`unable to parse requirement: found '${value}', expected: an integer after '${op}'`);
    }
    return { key, operator: OPERATORS[op] ?? 'In', values: [value] };
  }
  if (term.startsWith('!') && KEY.test(term.slice(1).trim())) return { key: term.slice(1).trim(), operator: 'DoesNotExist' };
  if (KEY.test(term)) return { key: term, operator: 'Exists' };
  throw badRequest(`unable to parse requirement: found '${term}', expected: a label selector like key=value, key in (a,b), key or !key`);
}

/** Parses `a=b,c!=d,e in (x,y),f notin (z),g,!h,n>3`; throws a 400 ApiError on bad syntax. */
export function parseLabelSelector(text: string | undefined): Selector {
  if (text === undefined || text.trim() === '') return () => true;
  const matchExpressions = splitTopLevel(text).map(parseRequirement);
  return (labels) => labelSelectorMatches({ matchExpressions }, labels);
}

/** A parsed field selector over an object's fields. */
export type FieldSelector = (obj: KubeObject) => boolean;

function fieldValue(obj: KubeObject, path: string): string {
  let cur: unknown = obj;
  for (const part of path.split('.')) {
    if (cur === null || typeof cur !== 'object') return '';
    cur = (cur as Record<string, unknown>)[part];
  }
  if (cur === undefined || cur === null) return '';
  return typeof cur === 'string' ? cur : JSON.stringify(cur);
}

/** Parses `metadata.name=x,status.phase!=Running`; any dotted field path is accepted. */
export function parseFieldSelector(text: string | undefined): FieldSelector {
  if (text === undefined || text.trim() === '') return () => true;
  const terms = text.split(',').map((t) => t.trim()).filter((t) => t !== '').map((term) => {
    const m = /^([A-Za-z0-9.]+)\s*(==|=|!=)\s*(.*)$/.exec(term);
    if (!m) throw badRequest(`invalid selector: '${text}'; can't understand '${term}'`);
    const [, path = '', op, value = ''] = m;
    return { path, negate: op === '!=', value };
  });
  return (obj) => terms.every((t) => (fieldValue(obj, t.path) === t.value) !== t.negate);
}

/** The value of `metadata.name=x` in a field selector, for an index lookup instead of a scan. */
export function fieldSelectorName(text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  const m = /(?:^|,)\s*metadata\.name\s*==?\s*([^,]+)/.exec(text);
  return m?.[1]?.trim();
}
