// The chart's templates as trees, found from the constructs themselves: renderInstall's objects
// for placeholder options (every value a placeholder that becomes a value reference, the release
// namespace for `namespace`), and every part a value switches on or off (a boolean, a string
// that is "" for none, one item per entry of a list) found by rendering again with that value off
// and marked with an `if` or `range` guard. text.ts writes the trees as Go-template YAML.
import { API_VERSION } from '../../../api/meta.ts';
import type { SiteConfig } from '../../../api/siteconfig.ts';
import { renderWebhookTlsSecret, webhookDnsName } from '../admission.ts';
import { OPERATOR_LABELS, renderInstall } from '../operator.ts';
import type { OperatorInstallOptions } from '../options.ts';
import { installOptionsJsonSchema, type JsonSchema } from './values.ts';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

/** Where a template takes a value from. */
export type Source =
  | { from: 'values'; path: string[] }
  | { from: 'namespace' }
  /** The current entry of the list at values path `of`, inside the range over it. */
  | { from: 'item'; of: string }
  /** A variable the certificate preamble sets (`$caBundle`, `$ca.Cert`), base64-encoded when asked. */
  | { from: 'variable'; name: string; base64?: boolean };

/** A part of a template that exists only while a value is set (`if`), or once per entry of a list (`range`). */
export interface Guard {
  kind: 'if' | 'range';
  path: string[];
}

/** A template as a tree: the YAML of one object, with value references and guarded parts. */
export type TemplateNode =
  | { kind: 'literal'; value: string | number | boolean | null }
  /** A value, alone or inside a string (`parts` mixes text and sources); `number` ones are written unquoted. */
  | { kind: 'value'; parts: (string | Source)[]; type: 'string' | 'number' }
  /** A map written with toYaml (`map`), or a block of text holding a value as YAML (`text`). */
  | { kind: 'yaml'; source: Source; as: 'map' | 'text' }
  | { kind: 'map'; entries: { key: string; value: TemplateNode; guards: Guard[] }[] }
  | { kind: 'list'; items: { value: TemplateNode; guards: Guard[] }[] };

/** One file of templates/: its objects, each with the guards beyond the file's own. */
export interface ChartTemplate {
  file: string;
  guards: Guard[];
  documents: { node: TemplateNode; guards: Guard[] }[];
  /**
   * Starts with the preamble that makes the webhooks' certificate for `dnsName` or takes the
   * site's; it sets $caBundle, $ca and $cert, which the documents read.
   */
  certificate?: { dnsName: TemplateNode & { kind: 'value' } };
}

/** The generator met a construct it cannot express as a template; the message says where and what. */
export class ChartGenerationError extends Error {
  override readonly name = 'ChartGenerationError';
}

// Values the certificate preamble reads itself: they decide how the certificate is made, not which objects exist.
const GENERATE = ['webhook', 'certificate', 'generate'];
/** The site's CA, which the preamble puts in $caBundle unless it makes a CA itself. */
export const CA_BUNDLE = ['webhook', 'certificate', 'caBundle'];

// Placeholders: strings `__v<n>__`, numbers 9,1xx,000 (far from any number an object holds).
const PLACEHOLDER = /__v(\d+)__/g;
const PLACEHOLDER_NUMBER = /(?<![0-9])9[0-9]{3}000(?![0-9])/g;

class Placeholders {
  readonly strings: { source: Source; as: 'scalar' | 'map' | 'text' }[] = [];
  readonly numbers = new Map<number, Source>();
  readonly encoded = new Map<string, Source>();

  string(source: Source, as: 'scalar' | 'map' | 'text' = 'scalar'): string {
    this.strings.push({ source, as });
    return `__v${this.strings.length - 1}__`;
  }

  number(source: Source): number {
    const n = 9_100_000 + 1000 * this.numbers.size;
    this.numbers.set(n, source);
    return n;
  }

  /** A placeholder whose base64 form, as a Secret's data holds it, stands for `$name | b64enc`. */
  base64(name: string): string {
    const text = this.string({ from: 'variable', name });
    this.encoded.set(Buffer.from(text, 'utf8').toString('base64'), { from: 'variable', name, base64: true });
    return text;
  }
}

interface Condition {
  guard: Guard;
  off: Json;
}

// Options with a placeholder for every value, from the options' JSON Schema (output: every key present).
function placeholderOptions(schema: JsonSchema, path: string[], ph: Placeholders, conditions: Condition[]): Json {
  const same = (p: string[]) => p.join('.') === path.join('.');
  if (schema.properties !== undefined) {
    const properties = schema.properties as Record<string, JsonSchema>;
    return Object.fromEntries(Object.entries(properties).map(([key, child]) => [key, placeholderOptions(child, [...path, key], ph, conditions)]));
  }
  if (same(['namespace'])) return ph.string({ from: 'namespace' });
  if (same(GENERATE)) return false;
  if (same(CA_BUNDLE)) return ph.string({ from: 'variable', name: 'caBundle' });
  const source: Source = { from: 'values', path };
  if (schema.type === 'boolean') {
    conditions.push({ guard: { kind: 'if', path }, off: false });
    return true;
  }
  if (schema.type === 'array') {
    conditions.push({ guard: { kind: 'range', path }, off: [] });
    return [placeholderLeaf(schema.items as JsonSchema, { from: 'item', of: path.join('.') }, ph)];
  }
  if (schema.type === 'object' && typeof schema.additionalProperties === 'object') return { [ph.string(source, 'map')]: '' };
  // A string whose default is "" names something optional: "" for none.
  if (schema.default === '') conditions.push({ guard: { kind: 'if', path }, off: '' });
  return placeholderLeaf(schema, source, ph);
}

function placeholderLeaf(schema: JsonSchema, source: Source, ph: Placeholders): Json {
  if (schema.type === 'integer' || schema.type === 'number') return ph.number(source);
  if (schema.type === 'string' || schema.anyOf !== undefined) return ph.string(source);
  throw new ChartGenerationError(`no placeholder for a value of schema ${JSON.stringify(schema)}`);
}

function setAt(value: Json, path: string[], to: Json): Json {
  const copy = structuredClone(value) as JsonObject;
  let node = copy;
  path.slice(0, -1).forEach((key) => (node = node[key] as JsonObject));
  node[path[path.length - 1] as string] = to;
  return copy;
}

// The site as far as the installation reads it; written whole into the ConfigMap as YAML.
function placeholderSite(ph: Placeholders): SiteConfig {
  const values = (...path: string[]): Source => ({ from: 'values', path: ['siteConfig', ...path] });
  const site = {
    apiVersion: API_VERSION,
    kind: 'SiteConfig',
    site: ph.string(values('site')),
    dns: { namespace: ph.string(values('dns', 'namespace')), podLabels: { [ph.string(values('dns', 'podLabels'), 'map')]: '' }, port: ph.number(values('dns', 'port')) },
  };
  const whole = ph.string(values(), 'text');
  Object.defineProperty(site, 'toJSON', { value: () => whole, enumerable: false });
  return site as unknown as SiteConfig;
}

const isObject = (v: Json | undefined): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);

// True when `v` is `b` with some parts left out (map keys, list items), and nothing else changed.
function reduces(b: Json, v: Json): boolean {
  if (Array.isArray(b)) return Array.isArray(v) && matchItems(b, v) !== undefined;
  if (isObject(b)) return isObject(v) && Object.keys(v).every((k) => k in b && reduces(b[k] as Json, v[k] as Json));
  return b === v;
}

// Pairs (index in b, index in v) matching all of v in order, each as early in b as possible; undefined if none.
function matchItems(b: Json[], v: Json[]): Map<number, number> | undefined {
  const longest: number[][] = Array.from({ length: b.length + 1 }, () => new Array<number>(v.length + 1).fill(0));
  const at = (i: number, j: number) => longest[i]?.[j] ?? 0;
  for (let i = b.length - 1; i >= 0; i--) {
    for (let j = v.length - 1; j >= 0; j--) {
      (longest[i] as number[])[j] = Math.max(at(i + 1, j), at(i, j + 1), reduces(b[i] as Json, v[j] as Json) ? 1 + at(i + 1, j + 1) : 0);
    }
  }
  if (at(0, 0) < v.length) return undefined;
  const pairs = new Map<number, number>();
  for (let i = 0, j = 0; j < v.length; i++) {
    if (reduces(b[i] as Json, v[j] as Json) && at(i, j) === 1 + at(i + 1, j + 1)) pairs.set(i, j++);
  }
  return pairs;
}

// Adds `guard` to every part of `b` (the installation with every value on) that `v` (with one off)
// lacks, and says how many parts that was.
function markLost(b: Json, v: Json, path: (string | number)[], guard: Guard, guards: Map<string, Guard[]>): number {
  const lose = (p: (string | number)[]) => {
    guards.set(JSON.stringify(p), [...(guards.get(JSON.stringify(p)) ?? []), guard]);
    return 1;
  };
  const changed = () => new ChartGenerationError(`${guard.path.join('.')} changes ${path.join('.')} instead of leaving parts out: the generator cannot guard that`);
  if (Array.isArray(b)) {
    const pairs = Array.isArray(v) ? matchItems(b, v) : undefined;
    if (pairs === undefined) throw changed();
    return b.reduce<number>((n, item, i) => {
      const j = pairs.get(i);
      return n + (j === undefined ? lose([...path, i]) : markLost(item, (v as Json[])[j] as Json, [...path, i], guard, guards));
    }, 0);
  }
  if (isObject(b)) {
    if (!isObject(v) || Object.keys(v).some((k) => !(k in b))) throw changed();
    return Object.entries(b).reduce((n, [k, child]) => n + (k in v ? markLost(child, v[k] as Json, [...path, k], guard, guards) : lose([...path, k])), 0);
  }
  if (b !== v) throw changed();
  return 0;
}

// A rendered value as a template node: placeholders become value references.
function toNode(json: Json, path: (string | number)[], ph: Placeholders, guards: Map<string, Guard[]>): TemplateNode {
  const guardsAt = (p: (string | number)[]) => guards.get(JSON.stringify(p)) ?? [];
  if (Array.isArray(json)) return { kind: 'list', items: json.map((item, i) => ({ value: toNode(item, [...path, i], ph, guards), guards: guardsAt([...path, i]) })) };
  if (isObject(json)) {
    const keys = Object.keys(json);
    const only = keys.length === 1 ? placeholderOf(keys[0] as string, ph) : undefined;
    if (only?.as === 'map') return { kind: 'yaml', source: only.source, as: 'map' };
    for (const key of keys) if (key.includes('__v')) throw new ChartGenerationError(`${path.join('.')}: a key made from a value (${key}) cannot be templated`);
    return { kind: 'map', entries: keys.map((key) => ({ key, value: toNode(json[key] as Json, [...path, key], ph, guards), guards: guardsAt([...path, key]) })) };
  }
  if (typeof json === 'number') {
    const source = ph.numbers.get(json);
    if (source !== undefined) return { kind: 'value', parts: [source], type: 'number' };
    if (json >= 9_000_000 && json < 10_000_000) throw new ChartGenerationError(`${path.join('.')}: ${json} is computed from a value, which a template cannot do`);
    return { kind: 'literal', value: json };
  }
  if (typeof json === 'string') return stringNode(json, path, ph);
  return { kind: 'literal', value: json };
}

function placeholderOf(text: string, ph: Placeholders): { source: Source; as: 'scalar' | 'map' | 'text' } | undefined {
  const m = /^__v(\d+)__$/.exec(text);
  return m ? ph.strings[Number(m[1])] : undefined;
}

function stringNode(text: string, path: (string | number)[], ph: Placeholders): TemplateNode {
  const encoded = ph.encoded.get(text);
  if (encoded !== undefined) return { kind: 'value', parts: [encoded], type: 'string' };
  const whole = placeholderOf(text.replace(/\n$/, ''), ph);
  if (whole?.as === 'text' && text.endsWith('\n')) return { kind: 'yaml', source: whole.source, as: 'text' };
  const parts: (string | Source)[] = [];
  for (const piece of text.split(PLACEHOLDER).map((s, i) => (i % 2 === 1 ? ph.strings[Number(s)] : s))) {
    if (piece === undefined || piece === '') continue;
    if (typeof piece !== 'string') {
      if (piece.as !== 'scalar') throw new ChartGenerationError(`${path.join('.')}: a map or the site's YAML inside a string`);
      parts.push(piece.source);
      continue;
    }
    let at = 0;
    for (const m of piece.matchAll(PLACEHOLDER_NUMBER)) {
      const source = ph.numbers.get(Number(m[0]));
      if (source === undefined) throw new ChartGenerationError(`${path.join('.')}: ${m[0]} is computed from a value, which a template cannot do`);
      parts.push(piece.slice(at, m.index), source);
      at = m.index + m[0].length;
    }
    parts.push(piece.slice(at));
  }
  const kept = parts.filter((p) => p !== '');
  if (kept.every((p) => typeof p === 'string')) {
    if (text.includes('__v')) throw new ChartGenerationError(`${path.join('.')}: a value is cut or changed in "${text}", which a template cannot do`);
    return { kind: 'literal', value: text };
  }
  return { kind: 'value', parts: kept, type: 'string' };
}

/**
 * The chart's templates as trees, one per file of templates/ (NOTES.txt aside): every object
 * renderOperatorInstall makes but the Namespace (Helm installs into an existing one, labelled
 * as docs/bootstrap.md says), and the webhooks' certificate Secret. Deterministic; throws
 * {@link ChartGenerationError} where the constructs do something a template cannot (compute
 * with a value, switch a value rather than leave a part out).
 */
export function chartTemplates(): ChartTemplate[] {
  const ph = new Placeholders();
  const conditions: Condition[] = [];
  const options = placeholderOptions(installOptionsJsonSchema(), [], ph, conditions);
  const site = placeholderSite(ph);
  const render = (o: Json) => renderInstall(site, o as unknown as OperatorInstallOptions).filter((x) => x.kind !== 'Namespace') as unknown as Json[];
  const all = render(options);
  const guards = new Map<string, Guard[]>();
  // Ifs outside ranges: a template reads most easily that way round.
  for (const c of [...conditions.filter((x) => x.guard.kind === 'if'), ...conditions.filter((x) => x.guard.kind === 'range')]) {
    if (markLost(all, render(setAt(options, c.guard.path, c.off)), [], c.guard, guards) === 0) {
      throw new ChartGenerationError(`value ${c.guard.path.join('.')} changes nothing in the installation`);
    }
  }
  const objects = all.map((json, i) => ({ json: json as JsonObject, node: toNode(json, [i], ph, guards), guards: guards.get(JSON.stringify([i])) ?? [] }));
  const isConfiguration = (o: { json: JsonObject }) => String(o.json.kind).endsWith('WebhookConfiguration');
  const templates: ChartTemplate[] = objects.filter((o) => !isConfiguration(o)).map((o) => {
    const name = (o.json.metadata as JsonObject).name;
    if (typeof name !== 'string' || name.includes('__v')) throw new ChartGenerationError(`${String(o.json.kind)}: a name made from a value cannot name its template`);
    return { file: `${String(o.json.kind).toLowerCase()}-${name}.yaml`, guards: o.guards, documents: [{ node: o.node, guards: [] }] };
  });
  const configurations = objects.filter(isConfiguration);
  const outer = configurations[0]?.guards ?? [];
  if (configurations.length !== 2 || configurations.some((c) => JSON.stringify(c.guards) !== JSON.stringify(outer))) {
    throw new ChartGenerationError('expected the Validating and Mutating webhook configurations, guarded alike');
  }
  const secret = renderWebhookTlsSecret(options as unknown as OperatorInstallOptions, { caPem: ph.base64('ca.Cert'), certPem: ph.base64('cert.Cert'), keyPem: ph.base64('cert.Key') }, OPERATOR_LABELS);
  templates.push({
    file: 'webhook.yaml',
    guards: outer,
    documents: [{ node: toNode(secret as unknown as Json, ['secret'], ph, new Map()), guards: [{ kind: 'if', path: GENERATE }] }, ...configurations.map((c) => ({ node: c.node, guards: [] }))],
    certificate: { dnsName: stringNode(webhookDnsName(ph.string({ from: 'namespace' })), ['dnsName'], ph) as TemplateNode & { kind: 'value' } },
  });
  checkPlaceholdersUsed(templates, ph);
  return templates.sort((a, b) => a.file.localeCompare(b.file));
}

// Every value the options offer appears in some template, or as a guard: else a value would do nothing.
function checkPlaceholdersUsed(templates: ChartTemplate[], ph: Placeholders): void {
  const text = JSON.stringify(templates);
  for (const { source } of [...ph.strings, ...[...ph.numbers.values()].map((source) => ({ source }))]) {
    if (source.from !== 'values') continue;
    if (!text.includes(JSON.stringify(source.path))) throw new ChartGenerationError(`value ${source.path.join('.')} appears in no template`);
  }
}

