// Label selectors, in the string syntax of `?labelSelector=` and as the metav1.LabelSelector and
// core NodeSelectorTerm objects that workloads, claims and node affinity carry; and field
// selectors. One evaluator serves the API server's lists and watches and the simulated controllers.
import { badRequest } from './errors.ts';
import type { KubeObject } from './types.ts';

/** A metav1.LabelSelector requirement (or a NodeSelectorRequirement, which adds Gt and Lt). */
export interface LabelSelectorRequirement { key: string; operator: string; values?: string[] }
/** A metav1.LabelSelector. */
export interface LabelSelector { matchLabels?: Record<string, string>; matchExpressions?: LabelSelectorRequirement[] }
/** A core/v1 NodeSelectorTerm; its expressions and fields are ANDed. */
export interface NodeSelectorTerm { matchExpressions?: LabelSelectorRequirement[]; matchFields?: LabelSelectorRequirement[] }

/** Whether one requirement holds for a label set; Gt/Lt compare integers as node affinity does. */
export function requirementMatches(req: LabelSelectorRequirement, labels: Record<string, string>): boolean {
  const has = Object.hasOwn(labels, req.key);
  const value = labels[req.key];
  const values = req.values ?? [];
  switch (req.operator) {
    case 'In': return has && values.includes(value as string);
    case 'NotIn': return !has || !values.includes(value as string);
    case 'Exists': return has;
    case 'DoesNotExist': return !has;
    case 'Gt':
    case 'Lt': {
      if (!has || values.length !== 1) return false;
      const found = Number.parseInt(value as string, 10);
      const bound = Number.parseInt(values[0] as string, 10);
      if (Number.isNaN(found) || Number.isNaN(bound)) return false;
      return req.operator === 'Gt' ? found > bound : found < bound;
    }
    default: return false;
  }
}

/** Whether a LabelSelector selects the labels; an empty selector selects everything, as in apps/v1. */
export function labelSelectorMatches(selector: LabelSelector | undefined, labels: Record<string, string> | undefined): boolean {
  const have = labels ?? {};
  for (const [key, value] of Object.entries(selector?.matchLabels ?? {})) if (have[key] !== value) return false;
  return (selector?.matchExpressions ?? []).every((req) => requirementMatches(req, have));
}

/** Whether a node matches one term; a term with no requirements matches nothing, as the scheduler has it. */
export function nodeSelectorTermMatches(term: NodeSelectorTerm, node: { name: string; labels: Record<string, string> }): boolean {
  const expressions = term.matchExpressions ?? [];
  const fields = term.matchFields ?? [];
  if (expressions.length === 0 && fields.length === 0) return false;
  const fieldSet = { 'metadata.name': node.name };
  return expressions.every((req) => requirementMatches(req, node.labels)) && fields.every((req) => requirementMatches(req, fieldSet));
}

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
