// Checking sde.london documents against their schemas, with problems that name the document and
// the field (what `validate`, `render`, the operator's conditions and the site config loader say).
// Pure: YAML text in, documents and problems out; reading files is the command line's.
import { parseAllDocuments } from 'yaml';
import type { z } from 'zod';
import { enclave } from './enclave.ts';
import { federatedJob } from './federatedjob.ts';
import { GROUP } from './meta.ts';
import { siteConfig } from './siteconfig.ts';
import { workspace } from './workspace.ts';

/** The schema of each document kind this project defines, CRDs and the SiteConfig file alike. */
export const DOCUMENT_SCHEMAS: Record<string, z.ZodType> = {
  Enclave: enclave,
  Workspace: workspace,
  FederatedJob: federatedJob,
  SiteConfig: siteConfig,
};

/** One YAML document and where it came from (1-based document number within its file). */
export interface SourceDocument {
  source: string;
  index: number;
  content: unknown;
}

/** A problem with one document: where it is, which field, what was expected. */
export interface Problem {
  source: string;
  index: number;
  kind?: string;
  name?: string;
  path: string;
  message: string;
}

/** Parses every document of a YAML text; syntax errors come back as problems, never as throws. */
export function parseDocuments(text: string, source: string): { documents: SourceDocument[]; problems: Problem[] } {
  const documents: SourceDocument[] = [];
  const problems: Problem[] = [];
  parseAllDocuments(text).forEach((doc, i) => {
    if (doc.errors.length > 0) {
      for (const e of doc.errors) problems.push({ source, index: i + 1, path: '(document)', message: `YAML syntax: ${e.message.split('\n')[0]}` });
      return;
    }
    const content: unknown = doc.toJS();
    if (content !== null && content !== undefined) documents.push({ source, index: i + 1, content });
  });
  return { documents, problems };
}

type Issue = z.core.$ZodIssue;

function pathOf(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : `${out === '' ? '' : '.'}${String(p)}`;
  return out === '' ? '(root)' : out;
}

// zod's messages for unions and missing values are generic; say what was expected instead.
function describeIssue(issue: Issue): { path: readonly PropertyKey[]; message: string } {
  if (issue.code === 'invalid_union' && issue.errors.length > 0) {
    const branches = issue.errors.flat();
    const specific = branches.find((e) => !e.message.startsWith('Invalid input'));
    if (specific) return { path: [...issue.path, ...specific.path], message: describeIssue(specific).message };
    const missing = branches.filter((e) => e.code === 'invalid_type' && e.path.length === 0 && /received undefined/.test(e.message));
    if (missing.length === branches.length) {
      return { path: issue.path, message: `Required value: expected ${[...new Set(missing.map((e) => (e as { expected: string }).expected))].join(' or ')}` };
    }
  }
  if (issue.code === 'invalid_type' && /received undefined/.test(issue.message)) {
    return { path: issue.path, message: `Required value: expected ${issue.expected}` };
  }
  if (issue.code === 'invalid_value') {
    return { path: issue.path, message: `Unsupported value: expected one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}` };
  }
  if (issue.code === 'unrecognized_keys') {
    return { path: issue.path, message: `unknown field(s) ${issue.keys.map((k) => JSON.stringify(k)).join(', ')}` };
  }
  return { path: issue.path, message: issue.message };
}

/** Turns zod issues into problems that name the field (spec.access.expiresAt) and what was expected. */
export function problemsFromIssues(issues: readonly Issue[], where: Omit<Problem, 'path' | 'message'>): Problem[] {
  return issues.map((issue) => {
    const { path, message } = describeIssue(issue);
    return { ...where, path: pathOf(path), message };
  });
}

function identity(content: unknown): { apiVersion?: string; kind?: string; name?: string } {
  if (typeof content !== 'object' || content === null) return {};
  const c = content as { apiVersion?: unknown; kind?: unknown; metadata?: { name?: unknown }; site?: unknown };
  return {
    apiVersion: typeof c.apiVersion === 'string' ? c.apiVersion : undefined,
    kind: typeof c.kind === 'string' ? c.kind : undefined,
    name: typeof c.metadata?.name === 'string' ? c.metadata.name : typeof c.site === 'string' ? c.site : undefined,
  };
}

/** The outcome of checking one document: its parsed value when valid, else the problems. */
export type CheckResult =
  | { ok: true; kind: string; value: unknown; skipped?: false }
  | { ok: true; kind?: string; skipped: true; reason: string }
  | { ok: false; problems: Problem[] };

/**
 * Checks one document against the schema of its kind. Documents of other API groups are
 * skipped (they are plain Kubernetes objects); an sde.london document of an unknown kind is a problem.
 */
export function checkDocument(doc: SourceDocument): CheckResult {
  const id = identity(doc.content);
  const where = { source: doc.source, index: doc.index, kind: id.kind, name: id.name };
  if (typeof doc.content !== 'object' || doc.content === null || Array.isArray(doc.content)) {
    return { ok: false, problems: [{ ...where, path: '(root)', message: 'expected a mapping with apiVersion and kind' }] };
  }
  if (id.apiVersion === undefined || id.kind === undefined) {
    return { ok: false, problems: [{ ...where, path: id.apiVersion === undefined ? 'apiVersion' : 'kind', message: 'Required value: every document needs apiVersion and kind' }] };
  }
  if (!id.apiVersion.startsWith(`${GROUP}/`)) return { ok: true, kind: id.kind, skipped: true, reason: `not an ${GROUP} kind` };
  const schema = DOCUMENT_SCHEMAS[id.kind];
  if (schema === undefined) {
    return { ok: false, problems: [{ ...where, path: 'kind', message: `Unsupported value: expected one of ${Object.keys(DOCUMENT_SCHEMAS).join(', ')}` }] };
  }
  const result = schema.safeParse(doc.content);
  if (!result.success) return { ok: false, problems: problemsFromIssues(result.error.issues, where) };
  return { ok: true, kind: id.kind, value: result.data };
}

/** One line per problem: `file: document N (Kind name): field: message`. */
export function formatProblem(p: Problem): string {
  const what = p.kind ? ` (${p.kind}${p.name ? ` ${p.name}` : ''})` : '';
  return `${p.source}: document ${p.index}${what}: ${p.path}: ${p.message}`;
}
