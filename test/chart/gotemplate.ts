// A renderer for EXACTLY the Go-template features charts/sde-operator uses, and nothing more.
// No helm binary can run here, so test/chart renders the chart with this instead. Supported:
//   {{ pipeline }}  {{- trim left }}  {{ trim right -}}  {{/* comment */}}
//   {{ if pipeline }} ... {{ end }}  and  {{ if pipeline }} ... {{ else }} ... {{ end }}
//   {{ range pipeline }} ... {{ end }}   (over a list; `.` is the element, `$` the root)
//   {{ $name := pipeline }}  {{ $name = pipeline }}   (a variable lives until the {{ end }} of
//       the if/else branch or range body it is declared in, or to the end of the file)
//   operands: .  .A.B  $  $.A.B  $name  $name.A  "string"  123  nil (as a function argument)
//   functions: toYaml, nindent N, quote, b64enc, list, printf (only %s),
//       genCA, genSignedCert   (called as `fn args` or at the end of `x | fn args`)
// genCA and genSignedCert cannot make Helm's certificates here: they return {Cert, Key} with
// clearly fake, deterministic PEM placeholders that name what was asked (common name, DNS names,
// days) and which CA of the same render signed them (parseFakeCertificate reads them back).
// Anything else (with, define, include, template, range or if with variables, else if, other
// functions, parentheses, missing values or variables) throws UnsupportedTemplateFeatureError or
// MissingValueError rather than rendering something Helm would render differently.
import { stringify } from 'yaml';

/** The template uses a construct this renderer does not implement; keep the chart to the subset or extend both. */
export class UnsupportedTemplateFeatureError extends Error {
  override readonly name = 'UnsupportedTemplateFeatureError';
}

/** A field path names a value that does not exist (Helm would print "" or fail on nil; both hide mistakes). */
export class MissingValueError extends Error {
  override readonly name = 'MissingValueError';
}

type Operand =
  | { kind: 'field'; root: 'dot' | 'dollar'; path: string[] }
  | { kind: 'variable'; name: string; path: string[] }
  | { kind: 'string'; value: string }
  | { kind: 'number'; value: number }
  | { kind: 'nil' };
interface Command { fn?: string; args: Operand[] }
type Pipeline = Command[];
type Node =
  | { kind: 'text'; text: string }
  | { kind: 'output'; pipeline: Pipeline }
  | { kind: 'variable'; name: string; declare: boolean; pipeline: Pipeline }
  | { kind: 'if'; pipeline: Pipeline; then: Node[]; otherwise: Node[] }
  | { kind: 'range'; pipeline: Pipeline; body: Node[] };

const FUNCTIONS = new Set(['toYaml', 'nindent', 'quote', 'b64enc', 'list', 'printf', 'genCA', 'genSignedCert']);

interface Action { text: string; trimLeft: boolean; trimRight: boolean }
type Token = { kind: 'text'; text: string } | ({ kind: 'action' } & Action);

function tokenize(source: string, file: string): Token[] {
  const tokens: Token[] = [];
  let at = 0;
  while (at < source.length) {
    const open = source.indexOf('{{', at);
    if (open < 0) {
      tokens.push({ kind: 'text', text: source.slice(at) });
      break;
    }
    tokens.push({ kind: 'text', text: source.slice(at, open) });
    const close = source.indexOf('}}', open + 2);
    if (close < 0) throw new UnsupportedTemplateFeatureError(`${file}: unclosed action at offset ${open}`);
    let inner = source.slice(open + 2, close);
    // Go requires a space after "{{-" and before "-}}" for trim markers ("{{-3}}" is a number).
    const trimLeft = /^-[ \t\r\n]/.test(inner);
    const trimRight = /[ \t\r\n]-$/.test(inner);
    if (trimLeft) inner = inner.slice(1);
    if (trimRight) inner = inner.slice(0, -1);
    tokens.push({ kind: 'action', text: inner.trim(), trimLeft, trimRight });
    at = close + 2;
  }
  // Apply trim markers to the neighbouring text, as text/template does.
  tokens.forEach((t, i) => {
    if (t.kind !== 'action') return;
    const before = tokens[i - 1];
    const after = tokens[i + 1];
    if (t.trimLeft && before?.kind === 'text') before.text = before.text.replace(/[ \t\r\n]+$/, '');
    if (t.trimRight && after?.kind === 'text') after.text = after.text.replace(/^[ \t\r\n]+/, '');
  });
  return tokens;
}

function parseOperand(word: string, file: string): Operand {
  if (/^"([^"\\]|\\.)*"$/.test(word)) return { kind: 'string', value: JSON.parse(word) as string };
  if (/^[0-9]+$/.test(word)) return { kind: 'number', value: Number(word) };
  if (word === '.') return { kind: 'field', root: 'dot', path: [] };
  if (word === '$') return { kind: 'field', root: 'dollar', path: [] };
  if (word === 'nil') return { kind: 'nil' };
  const variable = /^\$([A-Za-z_][A-Za-z0-9_]*)((\.[A-Za-z_][A-Za-z0-9_]*)*)$/.exec(word);
  if (variable) return { kind: 'variable', name: variable[1] ?? '', path: (variable[2] ?? '').split('.').slice(1) };
  const field = /^(\$)?((\.[A-Za-z_][A-Za-z0-9_]*)+)$/.exec(word);
  if (field) return { kind: 'field', root: field[1] ? 'dollar' : 'dot', path: (field[2] ?? '').slice(1).split('.') };
  throw new UnsupportedTemplateFeatureError(`${file}: operand "${word}" is not supported`);
}

function parsePipeline(text: string, file: string): Pipeline {
  if (/[()]|:=|`/.test(text)) throw new UnsupportedTemplateFeatureError(`${file}: "${text}" uses parentheses, variables or raw strings`);
  const words = (part: string) => part.match(/"([^"\\]|\\.)*"|[^\s]+/g) ?? [];
  return text.split('|').map((part, i) => {
    const [head, ...rest] = words(part.trim());
    if (head === undefined) throw new UnsupportedTemplateFeatureError(`${file}: empty command in "${text}"`);
    if (/^[A-Za-z]/.test(head)) {
      if (!FUNCTIONS.has(head)) throw new UnsupportedTemplateFeatureError(`${file}: function "${head}" is not supported (only ${[...FUNCTIONS].join(', ')})`);
      return { fn: head, args: rest.map((w) => parseOperand(w, file)) };
    }
    if (i > 0 || rest.length > 0) throw new UnsupportedTemplateFeatureError(`${file}: "${part.trim()}" is not a function call`);
    const operand = parseOperand(head, file);
    // Go allows nil only as an argument.
    if (operand.kind === 'nil') throw new UnsupportedTemplateFeatureError(`${file}: nil is not a command`);
    return { args: [operand] };
  });
}

function parse(tokens: Token[], file: string): Node[] {
  let at = 0;
  const block = (closers: string[]): { nodes: Node[]; closer: string } => {
    const nodes: Node[] = [];
    while (at < tokens.length) {
      const token = tokens[at++] as Token;
      if (token.kind === 'text') {
        if (token.text !== '') nodes.push({ kind: 'text', text: token.text });
        continue;
      }
      const text = token.text;
      if (/^\/\*[\s\S]*\*\/$/.test(text)) continue;
      const keyword = /^([a-z]+)\b\s*([\s\S]*)$/.exec(text);
      const word = keyword?.[1];
      if (word === 'end' || word === 'else') {
        if (keyword?.[2] !== '') throw new UnsupportedTemplateFeatureError(`${file}: "{{ ${text} }}" is not supported (no else-if, no arguments to end)`);
        if (!closers.includes(word)) throw new UnsupportedTemplateFeatureError(`${file}: unexpected {{ ${word} }}`);
        return { nodes, closer: word };
      }
      if (word === 'if') {
        const pipeline = parsePipeline(keyword?.[2] ?? '', file);
        const then = block(['else', 'end']);
        const otherwise = then.closer === 'else' ? block(['end']).nodes : [];
        nodes.push({ kind: 'if', pipeline, then: then.nodes, otherwise });
        continue;
      }
      const assignment = /^\$([A-Za-z_][A-Za-z0-9_]*)\s*(:=|=)\s*([\s\S]+)$/.exec(text);
      if (assignment) {
        nodes.push({ kind: 'variable', name: assignment[1] ?? '', declare: assignment[2] === ':=', pipeline: parsePipeline(assignment[3] ?? '', file) });
        continue;
      }
      if (word === 'range') {
        const pipeline = parsePipeline(keyword?.[2] ?? '', file);
        nodes.push({ kind: 'range', pipeline, body: block(['end']).nodes });
        continue;
      }
      if (word !== undefined && !FUNCTIONS.has(word)) throw new UnsupportedTemplateFeatureError(`${file}: action "${word}" is not supported`);
      nodes.push({ kind: 'output', pipeline: parsePipeline(text, file) });
    }
    if (closers.length > 0) throw new UnsupportedTemplateFeatureError(`${file}: missing {{ end }}`);
    return { nodes, closer: '' };
  };
  return block([]).nodes;
}

function lookup(root: unknown, path: string[], file: string, shown: string): unknown {
  let value = root;
  for (const key of path) {
    if (value === null || typeof value !== 'object' || Array.isArray(value) || !(key in value)) {
      throw new MissingValueError(`${file}: ${shown} has no value`);
    }
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

// Helm's toYaml: sigs.k8s.io/yaml (sorted keys) with the trailing newline trimmed.
function toYaml(value: unknown): string {
  return stringify(value, { sortMapEntries: true, lineWidth: 0 }).replace(/\n$/, '');
}

function print(value: unknown, file: string): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  throw new UnsupportedTemplateFeatureError(`${file}: printing ${value === null ? 'null' : Array.isArray(value) ? 'a list' : typeof value} directly (Go would print it in its own syntax); pipe it to toYaml`);
}

/** A certificate as Helm's genCA and genSignedCert return it: PEM text in `Cert` and `Key`. */
export interface GeneratedCertificate {
  Cert: string;
  Key: string;
}

/** What a placeholder made by this renderer's genCA or genSignedCert says about itself. */
export interface FakeCertificate {
  /** `CA 1`, `certificate 2`: its kind and serial number in its render. */
  id: string;
  cn: string;
  days: number;
  dns: string[];
  ips: string[];
  /** The id of the CA of the same render that signed it; its own id for a CA. */
  issuer: string;
}

const FAKE = 'FAKE, NOT A CERTIFICATE (test/chart/gotemplate.ts placeholder)';

function fakePem(label: string, text: string): string {
  return `-----BEGIN ${label}-----\n${text}\n-----END ${label}-----\n`;
}

function fakeCertificate(c: FakeCertificate): GeneratedCertificate {
  return {
    Cert: fakePem('CERTIFICATE', `${FAKE} ${JSON.stringify(c)}`),
    Key: fakePem('RSA PRIVATE KEY', `${FAKE} key of ${c.id}`),
  };
}

/** Reads back a placeholder PEM made by this renderer's genCA or genSignedCert; throws on anything else. */
export function parseFakeCertificate(pem: string): FakeCertificate {
  const found = /^-----BEGIN CERTIFICATE-----\n(.*)\n-----END CERTIFICATE-----\n$/.exec(pem)?.[1] ?? '';
  if (!found.startsWith(`${FAKE} `)) throw new Error(`expected a placeholder certificate of this renderer, found ${JSON.stringify(pem.slice(0, 80))}`);
  return JSON.parse(found.slice(FAKE.length + 1)) as FakeCertificate;
}

/** The state of one file's render: variables in scope (innermost last) and the certificates made so far. */
interface Render {
  file: string;
  root: unknown;
  scopes: Map<string, unknown>[];
  serial: number;
  authorities: Map<GeneratedCertificate, string>;
}

function strings(value: unknown, what: string, r: Render): string[] {
  if (value === null) return [];
  if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return value;
  throw new UnsupportedTemplateFeatureError(`${r.file}: ${what} must be a list of strings or nil`);
}

function printf(format: unknown, args: unknown[], r: Render): string {
  if (typeof format !== 'string') throw new UnsupportedTemplateFeatureError(`${r.file}: printf needs a format string`);
  const verbs = format.match(/%./g) ?? [];
  if (verbs.some((v) => v !== '%s') || verbs.length !== args.length || !args.every((a) => typeof a === 'string')) {
    throw new UnsupportedTemplateFeatureError(`${r.file}: printf supports only %s, one string argument each; found ${JSON.stringify(format)} with ${args.length} argument(s)`);
  }
  let at = 0;
  return format.replace(/%s/g, () => args[at++] as string);
}

function callFunction(fn: string, args: unknown[], r: Render): unknown {
  const { file } = r;
  if (fn === 'toYaml' && args.length === 1) return toYaml(args[0]);
  if (fn === 'quote' && args.length === 1) return JSON.stringify(print(args[0], file));
  if (fn === 'nindent' && args.length === 2 && typeof args[0] === 'number' && typeof args[1] === 'string') {
    const pad = ' '.repeat(args[0]);
    return `\n${pad}${args[1].replaceAll('\n', `\n${pad}`)}`;
  }
  if (fn === 'b64enc' && args.length === 1 && typeof args[0] === 'string') return Buffer.from(args[0], 'utf8').toString('base64');
  if (fn === 'list') return args;
  if (fn === 'printf' && args.length >= 1) return printf(args[0], args.slice(1), r);
  if (fn === 'genCA' && args.length === 2 && typeof args[0] === 'string' && typeof args[1] === 'number') {
    const id = `CA ${++r.serial}`;
    const ca = fakeCertificate({ id, cn: args[0], days: args[1], dns: [], ips: [], issuer: id });
    r.authorities.set(ca, id);
    return ca;
  }
  if (fn === 'genSignedCert' && args.length === 5 && typeof args[0] === 'string' && typeof args[3] === 'number') {
    const issuer = r.authorities.get(args[4] as GeneratedCertificate);
    if (issuer === undefined) throw new UnsupportedTemplateFeatureError(`${file}: genSignedCert needs a CA made by genCA in the same render`);
    return fakeCertificate({ id: `certificate ${++r.serial}`, cn: args[0], days: args[3], dns: strings(args[2], 'its DNS names', r), ips: strings(args[1], 'its IP addresses', r), issuer });
  }
  throw new UnsupportedTemplateFeatureError(`${file}: ${fn} called with ${args.length} argument(s) of unsupported types`);
}

// Go template truth: false, 0, nil, and empty strings, lists and maps are false.
function truthy(value: unknown): boolean {
  if (value === null || value === undefined || value === false || value === 0 || value === '') return false;
  if (Array.isArray(value)) return value.length > 0;
  if (typeof value === 'object') return Object.keys(value).length > 0;
  return true;
}

function scopeOf(name: string, r: Render): Map<string, unknown> {
  const scope = r.scopes.findLast((s) => s.has(name));
  if (scope === undefined) throw new MissingValueError(`${r.file}: variable $${name} is not defined here`);
  return scope;
}

function operandValue(a: Operand, dot: unknown, r: Render): unknown {
  if (a.kind === 'nil') return null;
  if (a.kind === 'string' || a.kind === 'number') return a.value;
  if (a.kind === 'variable') return lookup(scopeOf(a.name, r).get(a.name), a.path, r.file, `$${[a.name, ...a.path].join('.')}`);
  const shown = `${a.root === 'dollar' ? '$' : ''}.${a.path.join('.')}`;
  return lookup(a.root === 'dollar' ? r.root : dot, a.path, r.file, shown);
}

function evaluate(pipeline: Pipeline, dot: unknown, r: Render): unknown {
  let piped: unknown;
  pipeline.forEach((command, i) => {
    const args = command.args.map((a) => operandValue(a, dot, r));
    if (command.fn === undefined) piped = args[0];
    else piped = callFunction(command.fn, i > 0 ? [...args, piped] : args, r);
  });
  return piped;
}

// An if branch or a range body is a scope: the variables declared in it end with it.
function inScope(nodes: Node[], dot: unknown, r: Render): string {
  r.scopes.push(new Map());
  try {
    return execute(nodes, dot, r);
  } finally {
    r.scopes.pop();
  }
}

function execute(nodes: Node[], dot: unknown, r: Render): string {
  let out = '';
  for (const node of nodes) {
    if (node.kind === 'text') out += node.text;
    else if (node.kind === 'output') out += print(evaluate(node.pipeline, dot, r), r.file);
    else if (node.kind === 'variable') {
      const value = evaluate(node.pipeline, dot, r);
      (node.declare ? (r.scopes.at(-1) as Map<string, unknown>) : scopeOf(node.name, r)).set(node.name, value);
    } else if (node.kind === 'if') out += inScope(truthy(evaluate(node.pipeline, dot, r)) ? node.then : node.otherwise, dot, r);
    else {
      const list = evaluate(node.pipeline, dot, r);
      if (!Array.isArray(list)) throw new UnsupportedTemplateFeatureError(`${r.file}: range over something other than a list`);
      for (const item of list) out += inScope(node.body, item, r);
    }
  }
  return out;
}

/**
 * Renders one template file's text with Helm's top-level objects (`.Values`, `.Release`, `.Chart`).
 * Deterministic: the same source and context render the same text, placeholder certificates included.
 */
export function renderTemplate(source: string, context: Record<string, unknown>, file = 'template'): string {
  return execute(parse(tokenize(source, file), file), context, { file, root: context, scopes: [new Map()], serial: 0, authorities: new Map() });
}

/** Helm's value coalescing for what the chart needs: maps merge key by key, anything else is replaced. */
export function mergeValues(defaults: unknown, override: unknown): unknown {
  const isMap = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
  if (!isMap(defaults) || !isMap(override)) return override === undefined ? defaults : override;
  const merged: Record<string, unknown> = { ...defaults };
  for (const [key, value] of Object.entries(override)) merged[key] = mergeValues(defaults[key], value);
  return merged;
}
