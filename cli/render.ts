// `sde-operator render`: the objects the operator would apply, as multi-document YAML, for
// platform engineers to review before applying and for GitOps.
import { Command } from 'commander';
import { toYaml } from '../api/yaml.ts';
import { accessActive } from '../api/access.ts';
import { enclaveNamespace } from '../api/enclave.ts';
import type { Enclave } from '../api/enclave.ts';
import type { FederatedJob } from '../api/federatedjob.ts';
import { checkDocument, formatProblem } from '../api/problems.ts';
import type { Problem, SourceDocument } from '../api/problems.ts';
import type { SiteConfig } from '../api/siteconfig.ts';
import type { Workspace } from '../api/workspace.ts';
import { checkEnclave, checkFederatedJob, checkWorkspace } from '../policy/index.ts';
import type { Finding } from '../policy/index.ts';
import { renderEnclave } from '../constructs/enclave.ts';
import { renderFederatedJob } from '../constructs/federatedjob.ts';
import type { KubeObject } from '../constructs/objects.ts';
import { renderWorkspace } from '../constructs/workspace.ts';
import { kindOrder } from '../operator/runtime/index.ts';
import { readManifests } from './manifests.ts';

/** Raised when the render command cannot start: no or several site configurations, conflicting flags. */
export class RenderInputError extends Error {
  override readonly name = 'RenderInputError';
}

interface Located<T> {
  doc: SourceDocument;
  value: T;
}

interface RenderOpts {
  filename: string[];
  recursive: boolean;
  siteConfig?: string;
  site?: string;
  active?: boolean;
  inactive?: boolean;
}

function where(doc: SourceDocument, kind: string, name: string): Omit<Problem, 'path' | 'message'> {
  return { source: doc.source, index: doc.index, kind, name };
}

function findingProblems(findings: Finding[], at: Omit<Problem, 'path' | 'message'>): Problem[] {
  return findings.map((f) => ({ ...at, path: f.field, message: `${f.reason}: ${f.message}` }));
}

// Validated documents of the inputs, grouped by kind, plus every problem met on the way.
function load(paths: string[], recursive: boolean) {
  const read = readManifests(paths, recursive);
  const problems: Problem[] = [...read.problems];
  const sites: Located<SiteConfig>[] = [];
  const enclaves: Located<Enclave>[] = [];
  const workspaces: Located<Workspace>[] = [];
  const jobs: Located<FederatedJob>[] = [];
  let skipped = 0;
  for (const doc of read.documents) {
    const result = checkDocument(doc);
    if (!result.ok) {
      problems.push(...result.problems);
      continue;
    }
    if (result.skipped) {
      skipped += 1;
      continue;
    }
    if (result.kind === 'SiteConfig') sites.push({ doc, value: result.value as SiteConfig });
    if (result.kind === 'Enclave') enclaves.push({ doc, value: result.value as Enclave });
    if (result.kind === 'Workspace') workspaces.push({ doc, value: result.value as Workspace });
    if (result.kind === 'FederatedJob') jobs.push({ doc, value: result.value as FederatedJob });
  }
  return { problems, sites, enclaves, workspaces, jobs, skipped };
}

function chooseSite(inputs: Located<SiteConfig>[], fromFlag: Located<SiteConfig>[] | undefined, flagPath: string | undefined): SiteConfig {
  const candidates = fromFlag ?? inputs;
  const origin = fromFlag ? `--site-config ${flagPath}` : 'the inputs';
  if (candidates.length === 0) {
    throw new RenderInputError(`expected a SiteConfig document in ${origin}; found none (pass --site-config FILE or add a kind: SiteConfig document to -f)`);
  }
  if (candidates.length > 1) {
    throw new RenderInputError(`expected one SiteConfig document in ${origin}; found ${candidates.length} (${candidates.map((c) => c.value.site).join(', ')})`);
  }
  return candidates[0]!.value;
}

/** Renders validated inputs in input order: each enclave, then its workspaces, then its federated jobs. */
function renderAll(
  site: SiteConfig,
  thisSite: string,
  active: (e: Enclave) => boolean,
  enclaves: Located<Enclave>[],
  workspaces: Located<Workspace>[],
  jobs: Located<FederatedJob>[],
): { objects: KubeObject[]; problems: Problem[] } {
  const problems: Problem[] = [];
  const objects: KubeObject[] = [];
  const byNamespace = new Map(enclaves.map((e) => [enclaveNamespace(e.value.metadata.name), e.value]));
  const owning = (doc: SourceDocument, kind: string, meta: { name: string; namespace?: string | undefined }): Enclave | undefined => {
    const ns = meta.namespace ?? (enclaves.length === 1 ? enclaveNamespace(enclaves[0]!.value.metadata.name) : undefined);
    const enclave = ns === undefined ? undefined : byNamespace.get(ns);
    if (enclave === undefined) {
      const known = [...byNamespace.keys()].join(', ') || 'none';
      problems.push({ ...where(doc, kind, meta.name), path: 'metadata.namespace', message: `expected the namespace of an Enclave among the inputs (${known}); found ${ns === undefined ? 'no namespace' : `"${ns}"`}` });
    }
    return enclave;
  };
  const wsOf = workspaces.map((w) => ({ ...w, enclave: owning(w.doc, 'Workspace', w.value.metadata) }));
  const jobsOf = jobs.map((j) => ({ ...j, enclave: owning(j.doc, 'FederatedJob', j.value.metadata) }));
  for (const e of enclaves) problems.push(...findingProblems(checkEnclave(e.value, site), where(e.doc, 'Enclave', e.value.metadata.name)));
  for (const w of wsOf) if (w.enclave) problems.push(...findingProblems(checkWorkspace(w.value, w.enclave, site), where(w.doc, 'Workspace', w.value.metadata.name)));
  for (const j of jobsOf) if (j.enclave) problems.push(...findingProblems(checkFederatedJob(j.value, j.enclave, site), where(j.doc, 'FederatedJob', j.value.metadata.name)));
  if (problems.length > 0) return { objects, problems };
  for (const { value: enclave } of enclaves) {
    const accessIsActive = active(enclave);
    objects.push(...renderEnclave(enclave, site, { accessActive: accessIsActive }));
    for (const w of wsOf) if (w.enclave === enclave) objects.push(...renderWorkspace(w.value, enclave, site, { accessActive: accessIsActive }));
    for (const j of jobsOf) if (j.enclave === enclave) objects.push(...renderFederatedJob(j.value, enclave, site, { accessActive: accessIsActive, thisSite }));
  }
  return { objects, problems };
}

function run(opts: RenderOpts): void {
  if (opts.active && opts.inactive) throw new RenderInputError('expected at most one of --active and --inactive; found both');
  const input = load(opts.filename, opts.recursive);
  const flagged = opts.siteConfig === undefined ? undefined : load([opts.siteConfig], false);
  const problems = [...input.problems, ...(flagged?.problems ?? [])];
  if (problems.length > 0) {
    fail(problems);
    return;
  }
  const site = chooseSite(input.sites, flagged?.sites, opts.siteConfig);
  const thisSite = opts.site ?? site.site;
  if (thisSite !== site.site) throw new RenderInputError(`expected --site to be the site configuration's site "${site.site}"; found "${thisSite}"`);
  const now = new Date();
  const active = (e: Enclave): boolean => (opts.active ? true : opts.inactive ? false : accessActive(e.spec.access, now));
  const result = renderAll(site, thisSite, active, input.enclaves, input.workspaces, input.jobs);
  if (result.problems.length > 0) {
    fail(result.problems);
    return;
  }
  // In the order the operator applies them (namespace, quota and network policies before any
  // workload), so `kubectl apply -f` of the output is deny-first too.
  const ordered = result.objects.map((o, i) => ({ o, i })).sort((a, b) => kindOrder(a.o) - kindOrder(b.o) || a.i - b.i).map(({ o }) => o);
  process.stdout.write(ordered.map((o) => toYaml(o)).join('---\n'));
  if (input.skipped > 0) console.error(`${input.skipped} other Kubernetes document(s) not rendered`);
}

function fail(problems: Problem[]): void {
  for (const p of problems) console.error(formatProblem(p));
  console.error(`${problems.length} problem(s); nothing rendered`);
  process.exitCode = 1;
}

/**
 * `render -f FILE... [--site-config FILE] [--site NAME] [--active|--inactive]`: prints every object
 * the operator would apply as multi-document YAML. Schema problems and site-rule findings exit 1
 * with one line per problem naming the document and field; nothing is printed to stdout then.
 */
export function renderCommand(): Command {
  return new Command('render')
    .description('print the Kubernetes objects for Enclave, Workspace and FederatedJob manifests, as the operator would apply them')
    .requiredOption('-f, --filename <path...>', 'manifest files or folders (their *.yaml and *.yml files)')
    .option('-R, --recursive', 'also read the sub-folders of folders', false)
    .option('--site-config <file>', 'the site configuration (kind: SiteConfig); else the one SiteConfig among the inputs')
    .option('--site <name>', 'the site this render is for (federated jobs); the site configuration\'s site when omitted')
    .option('--active', 'render as if members have access now, whatever the dates say')
    .option('--inactive', 'render as if access has expired: no RoleBindings, workspaces stopped, jobs suspended')
    .action((opts: RenderOpts) => {
      try {
        run(opts);
      } catch (err) {
        console.error(`error: ${(err as Error).message}`);
        process.exitCode = 1;
      }
    });
}
