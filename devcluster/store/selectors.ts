// Label and field selectors in the string syntax of `?labelSelector=` and `?fieldSelector=`.
import { badRequest } from './errors.ts';
import type { KubeObject } from './types.ts';

type Requirement =
  | { key: string; op: 'in' | 'notin'; values: string[] }
  | { key: string; op: 'exists' | '!exists' };

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

function parseRequirement(term: string): Requirement {
  const set = /^(\S+)\s+(in|notin)\s*\(([^)]*)\)$/.exec(term);
  if (set) {
    const [, key = '', op, values = ''] = set;
    return { key, op: op === 'in' ? 'in' : 'notin', values: values.split(',').map((v) => v.trim()).filter((v) => v !== '') };
  }
  const cmp = /^([^=!\s]+)\s*(==|=|!=)\s*(\S*)$/.exec(term);
  if (cmp) {
    const [, key = '', op, value = ''] = cmp;
    return { key, op: op === '!=' ? 'notin' : 'in', values: [value] };
  }
  if (term.startsWith('!') && KEY.test(term.slice(1).trim())) return { key: term.slice(1).trim(), op: '!exists' };
  if (KEY.test(term)) return { key: term, op: 'exists' };
  throw badRequest(`unable to parse requirement: found '${term}', expected: a label selector like key=value, key in (a,b), key or !key`);
}

function matches(req: Requirement, labels: Record<string, string> | undefined): boolean {
  const has = labels !== undefined && Object.hasOwn(labels, req.key);
  switch (req.op) {
    case 'exists':
      return has;
    case '!exists':
      return !has;
    case 'in':
      return has && req.values.includes(labels[req.key] ?? '');
    case 'notin':
      return !has || !req.values.includes(labels[req.key] ?? '');
  }
}

function compile(reqs: Requirement[]): Selector {
  if (reqs.length === 0) return () => true;
  return (labels) => reqs.every((r) => matches(r, labels));
}

/** Parses `a=b,c!=d,e in (x,y),f notin (z),g,!h`; throws a 400 ApiError on bad syntax. */
export function parseLabelSelector(text: string | undefined): Selector {
  if (text === undefined || text.trim() === '') return () => true;
  return compile(splitTopLevel(text).map(parseRequirement));
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
