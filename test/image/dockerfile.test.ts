// The operator's container image, checked without a Docker engine. The Dockerfile is parsed: the
// build stage must install the locked dependencies with `npm ci` and run `npm run build` after
// COPYing (as .dockerignore allows) every file cli/main.ts imports; the runtime stage must
// copy only the build stage's dist/ and start the bundle in it. Then the bundle is built as the
// build stage builds it (scripts/build.ts), laid out as the runtime stage's COPY lays it out in a
// temporary folder with no node_modules anywhere above it, and started as ENTRYPOINT starts it,
// with the Deployment's environment. Not covered: that the base image exists, that `npm ci` and
// `npm run build` succeed inside it (its Node, its network, its CPU architecture), Docker's own
// parsing of the Dockerfile and .dockerignore, file ownership and permissions in the image, and
// the image's behaviour against a real cluster.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { builtinModules } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { allCustomResourceDefinitions } from '../../api/crd.ts';
import { enclave } from '../../api/enclave.ts';
import { siteConfig } from '../../api/siteconfig.ts';
import { renderEnclave } from '../../constructs/enclave.ts';
import { IMAGE_BUNDLE, renderOperatorInstall, runtimeNodeFlags, SITE_CONFIG_PATH } from '../../constructs/install/operator.ts';
import { parseInstallOptions } from '../../constructs/install/options.ts';
import { runCommand } from '../../cli/run.ts';
import { BUNDLE, buildBundle, DEVELOPMENT_TOOLS } from '../../scripts/build.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');

interface Instruction { op: string; args: string }
interface Stage { from: string; name?: string; instructions: Instruction[] }

function parseDockerfile(text: string): Stage[] {
  const lines = text.replace(/\\\r?\n/g, ' ').split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
  const globalArgs: Record<string, string> = {};
  const stages: Stage[] = [];
  for (const line of lines) {
    const [, op = '', args = ''] = /^(\S+)\s*(.*)$/.exec(line) ?? [];
    const upper = op.toUpperCase();
    if (upper === 'FROM') {
      const [image = '', as, name] = args.split(/\s+/);
      const from = image.replace(/\$\{(\w+)\}/g, (_, v: string) => globalArgs[v] ?? '');
      stages.push({ from, ...(as?.toUpperCase() === 'AS' && name ? { name } : {}), instructions: [] });
    } else if (upper === 'ARG' && stages.length === 0) {
      const [k = '', v = ''] = args.split('=');
      globalArgs[k] = v;
    } else {
      stages.at(-1)?.instructions.push({ op: upper, args });
    }
  }
  return stages;
}

// .dockerignore as Docker reads it: the last matching pattern wins, "!" re-includes, and a
// pattern matching a folder matches everything under it.
function dockerignore(text: string): (path: string) => boolean {
  const rules = text.split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#')).map((line) => {
    const negate = line.startsWith('!');
    const glob = (negate ? line.slice(1) : line).replace(/\/$/, '');
    const source = glob.split('/').map((part) => (part === '**' ? '.*' : part.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]'))).join('/');
    return { negate, regex: new RegExp(`^${source.replace(/\.\*\//g, '(.*/)?')}(/.*)?$`) };
  });
  return (path) => rules.reduce((excluded, r) => (r.regex.test(path) ? !r.negate : excluded), false);
}

function filesUnder(path: string): string[] {
  const full = join(ROOT, path);
  if (!statSync(full).isDirectory()) return [path];
  return readdirSync(full).flatMap((entry) => filesUnder(join(path, entry)));
}

const stages = parseDockerfile(read('Dockerfile'));
const runtime = stages.at(-1) as Stage;
const ignored = dockerignore(read('.dockerignore'));
const pkg = JSON.parse(read('package.json')) as { scripts: Record<string, string>; dependencies: Record<string, string>; devDependencies: Record<string, string> };
const WORKDIR = '/app';
/** The bundle's path inside the project (dist/sde-operator.mjs), which is where `npm run build` writes it in the build stage. */
const BUNDLE_PATH = relative(ROOT, BUNDLE);

/** The stage a COPY --from names, or undefined when it names none of this Dockerfile's stages. */
const stageNamed = (name: string): Stage | undefined => stages.find((s) => s.name === name);
const build = (runtime.instructions.map((i) => /^--from=(\S+)/.exec(i.args)?.[1]).find((n) => n !== undefined) ?? '') as string;
const buildStage = stageNamed(build) ?? ({ from: '', instructions: [] } as Stage);

/** The absolute working directory in effect before instruction `end` of a stage (Docker's default is /). */
function workdir(stage: Stage, end = stage.instructions.length): string {
  return stage.instructions.slice(0, end).reduce((dir, i) => (i.op === 'WORKDIR' ? resolve(dir, i.args) : dir), '/');
}

/** The files a stage's COPY instructions take from the build context before instruction `end`: path in the stage → path in the project. */
function contextFiles(stage: Stage, end = stage.instructions.length): Map<string, string> {
  const files = new Map<string, string>();
  stage.instructions.slice(0, end).forEach(({ op, args }, index) => {
    if (op !== 'COPY' || args.startsWith('--from')) return;
    const parts = args.split(/\s+/);
    const dest = resolve(workdir(stage, index), parts.pop() as string);
    for (const source of parts) {
      for (const file of filesUnder(source.replace(/\/$/, ''))) {
        if (ignored(file)) continue;
        const inside = source.endsWith('/') || statSync(join(ROOT, source)).isDirectory() ? relative(source, file) : file.split('/').pop() as string;
        files.set(resolve(dest, inside), file);
      }
    }
  });
  return files;
}

/** A stage's COPY --from instructions, with absolute paths: source in the other stage, destination in this one. */
function stageCopies(stage: Stage): { from: string; source: string; dest: string }[] {
  return stage.instructions.flatMap(({ op, args }, index) => {
    const [, from, source = '', dest = ''] = /^--from=(\S+)\s+(\S+)\s+(\S+)$/.exec(args) ?? [];
    if (op !== 'COPY' || from === undefined) return [];
    return [{ from, source: resolve(workdir(stageNamed(from) ?? stage), source), dest: resolve(workdir(stage, index), dest) }];
  });
}

/** The index of a stage's first RUN whose command matches `pattern`, or -1. */
const runIndex = (stage: Stage, pattern: RegExp) => stage.instructions.findIndex((i) => i.op === 'RUN' && pattern.test(i.args));
const npmBuild = runIndex(buildStage, /\bnpm run build\b/);
const last = (op: string) => runtime.instructions.filter((i) => i.op === op).at(-1)?.args;
const entrypoint = JSON.parse(last('ENTRYPOINT') ?? '[]') as string[];

/**
 * Every module `node` would load from the entry point, and so every one esbuild bundles: our files,
 * and bare package names; specifiers matching `leaveOut` are not followed (the build leaves them out).
 */
function reachableImports(entry: string, leaveOut?: RegExp): { files: Set<string>; packages: Set<string> } {
  const files = new Set<string>();
  const packages = new Set<string>();
  const visit = (file: string): void => {
    if (files.has(file)) return;
    files.add(file);
    const source = ts.createSourceFile(file, read(file), ts.ScriptTarget.Latest, true);
    const specifiers: string[] = [];
    const walk = (node: ts.Node): void => {
      // `import type` and `export type` are erased (by type stripping and by esbuild); `import { type X }` is not.
      if (ts.isImportDeclaration(node) && !node.importClause?.isTypeOnly && ts.isStringLiteral(node.moduleSpecifier)) specifiers.push(node.moduleSpecifier.text);
      if (ts.isExportDeclaration(node) && !node.isTypeOnly && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) specifiers.push(node.moduleSpecifier.text);
      if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
        const [arg] = node.arguments;
        if (arg === undefined || !ts.isStringLiteral(arg)) throw new Error(`${file}: dynamic import of a computed specifier cannot be checked`);
        specifiers.push(arg.text);
      }
      ts.forEachChild(node, walk);
    };
    walk(source);
    for (const spec of specifiers) {
      if (leaveOut?.test(spec)) continue;
      if (spec.startsWith('.')) visit(relative(ROOT, resolve(ROOT, dirname(file), spec)));
      else if (!spec.startsWith('node:') && !builtinModules.includes(spec)) packages.add(spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : (spec.split('/')[0] as string));
    }
  };
  visit(entry);
  return { files, packages };
}

describe('Dockerfile', () => {
  it('builds on a pinned Node 24 base in every stage', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    for (const s of stages) expect(s.from).toMatch(/^node:24\.\d+\.\d+-[a-z]+-slim(@sha256:[0-9a-f]{64})?$/);
    expect(pkg.devDependencies.node ?? '').toMatch(new RegExp(`^\\^?${stages[0]?.from.split(':')[1]?.split('.')[0]}\\.`));
  });

  it('copies only sources that exist and that .dockerignore lets into the build context', () => {
    for (const stage of stages) {
      for (const { op, args } of stage.instructions.filter((i) => i.op === 'COPY' && !i.args.startsWith('--from'))) {
        for (const source of args.split(/\s+/).slice(0, -1)) {
          expect(() => statSync(join(ROOT, source)), `${op} ${source}`).not.toThrow();
          expect(ignored(source.replace(/\/$/, '')), `${source} is excluded by .dockerignore`).toBe(false);
        }
      }
    }
    expect(ignored('test/stacks/site.test.ts')).toBe(true);
    expect(ignored('operator/runtime/cache.test.ts')).toBe(true);
    expect(ignored('node_modules/zod/package.json')).toBe(true);
    expect(ignored(BUNDLE_PATH), 'a bundle built on this machine must not reach the image').toBe(true);
    expect(ignored('cli/main.ts')).toBe(false);
  });

  it('carries the OCI labels', () => {
    const labels = runtime.instructions.filter((i) => i.op === 'LABEL').map((i) => i.args).join(' ');
    for (const key of ['title', 'description', 'version', 'revision', 'source', 'licenses']) expect(labels).toContain(`org.opencontainers.image.${key}=`);
  });
});

describe('the Dockerfile\'s build stage', () => {
  it('is the stage the runtime stage copies from, and not the runtime stage itself', () => {
    expect(build).not.toBe('');
    expect(stageNamed(build)).toBeDefined();
    expect(buildStage).not.toBe(runtime);
  });

  it('installs every dependency exactly as locked (npm ci), dev ones included, then runs `npm run build` in the project folder', () => {
    const npm = stages.flatMap((s) => s.instructions.filter((i) => i.op === 'RUN' && /\bnpm\b/.test(i.args)).map((i) => i.args));
    expect(npm.filter((c) => /\bnpm (install|i|add|update)\b/.test(c)), 'npm install can change what the lockfile says').toEqual([]);
    const ci = runIndex(buildStage, /\bnpm ci\b/);
    expect(ci).toBeGreaterThanOrEqual(0);
    // esbuild is a dev dependency: the build needs it.
    expect(buildStage.instructions[ci]?.args).not.toMatch(/--omit=dev|--production|--only=prod/);
    const before = contextFiles(buildStage, ci);
    expect(before.get(resolve(workdir(buildStage, ci), 'package.json'))).toBe('package.json');
    expect(before.get(resolve(workdir(buildStage, ci), 'package-lock.json'))).toBe('package-lock.json');
    expect(npmBuild).toBeGreaterThan(ci);
    expect(workdir(buildStage, npmBuild)).toBe(workdir(buildStage, ci));
  });

  it('has the build script and everything it imports before `npm run build`', () => {
    const script = /^node (\S+)$/.exec(pkg.scripts.build ?? '')?.[1] ?? '';
    expect(script).toBe('scripts/build.ts');
    const { files, packages } = reachableImports(script);
    const inStage = new Set(contextFiles(buildStage, npmBuild).values());
    expect([...files].filter((f) => !inStage.has(f))).toEqual([]);
    for (const p of packages) expect(pkg.devDependencies[p] ?? pkg.dependencies[p], p).toBeDefined();
  });
});

describe('what cli/main.ts imports, and so what the bundle holds', () => {
  const { files, packages } = reachableImports('cli/main.ts', DEVELOPMENT_TOOLS);

  it('holds nothing of the development tools: the local Kubernetes and the demo stay out', () => {
    expect([...files].filter((f) => f.startsWith('devcluster/') || f === 'cli/demo.ts')).toEqual([]);
    expect([...reachableImports('cli/main.ts').files].some((f) => f.startsWith('devcluster/')), 'the sources load it when asked').toBe(true);
  });

  it('is all in the build stage before `npm run build`, as COPY and .dockerignore let it in', () => {
    expect(npmBuild).toBeGreaterThanOrEqual(0);
    const inStage = new Set(contextFiles(buildStage, npmBuild).values());
    const missing = [...files].filter((f) => !inStage.has(f));
    expect(missing, 'add a COPY for these folders to the build stage (and a ! line to .dockerignore)').toEqual([]);
    expect(files.size).toBeGreaterThan(3);
  });

  it('needs only packages package.json declares (bundled, so dependencies or devDependencies)', () => {
    expect(packages.size).toBeGreaterThan(0);
    const undeclared = [...packages].filter((p) => pkg.dependencies[p] === undefined && pkg.devDependencies[p] === undefined);
    expect(undeclared, 'add these to package.json: npm ci installs only what the lockfile holds for it').toEqual([]);
  });
});

describe('the Dockerfile\'s runtime stage', () => {
  it('runs nothing and copies only the build stage\'s dist folder, which holds the bundle', () => {
    expect(runtime.instructions.filter((i) => i.op === 'RUN')).toEqual([]);
    expect(contextFiles(runtime).size, 'no files from the build context').toBe(0);
    const bundleDir = dirname(BUNDLE_PATH);
    expect(stageCopies(runtime)).toEqual([{ from: build, source: resolve(workdir(buildStage, npmBuild), bundleDir), dest: resolve(WORKDIR, bundleDir) }]);
  });

  it('starts `sde-operator run` from the bundle, as a non-root user, with HOME on the Deployment\'s writable /tmp', () => {
    expect(entrypoint).toEqual(['node', BUNDLE_PATH]);
    expect(IMAGE_BUNDLE).toBe(BUNDLE_PATH);
    expect(JSON.parse(last('CMD') ?? 'null')).toEqual(['run']);
    expect(last('WORKDIR')).toBe(WORKDIR);
    expect(last('USER')).toBe('65532:65532');
    expect(last('EXPOSE')).toBe('8080');
    expect(last('ENV')?.split(/\s+/).sort()).toEqual(['HOME=/tmp', 'NODE_ENV=production']);
  });
});

describe('the bundle, laid out as the image holds it', () => {
  // `image` stands for the image's root; no node_modules above it, so a package left out of the
  // bundle cannot be found by walking up from it.
  let image = '';
  let built = '';
  const site = join(ROOT, 'examples/site-uclh.yaml');
  const enclaveFile = join(ROOT, 'examples/enclave-cardiac-mri.yaml');
  const deployment = renderOperatorInstall(siteConfig.parse(parse(read('examples/site-uclh.yaml')))).find((o) => o.kind === 'Deployment');
  const container = (deployment?.spec as { template: { spec: { containers: { command?: string[]; env: { name: string; value?: string }[] }[] } } }).template.spec.containers[0];
  const podEnv = container?.env ?? [];
  // The Deployment's command: the image's ENTRYPOINT with node's own flags (heap.memorySaver) before the bundle.
  const podCommand = container?.command ?? entrypoint;
  const imageEnv = Object.fromEntries((last('ENV') ?? '').split(/\s+/).map((kv) => kv.split('=') as [string, string]));
  // As the pod starts it: the Deployment's command with its arguments, in WORKDIR, with the image's
  // ENV and the container's env (NODE_OPTIONS, MALLOC_ARENA_MAX) and nothing of this machine's.
  const sdeOperator = (...args: string[]) =>
    execFileSync(process.execPath, [...podCommand.slice(1), ...args], {
      cwd: join(image, WORKDIR),
      env: { ...imageEnv, ...Object.fromEntries(podEnv.flatMap((e) => (e.value === undefined ? [] : [[e.name, e.value]]))) },
      encoding: 'utf8',
      maxBuffer: 64 << 20,
      timeout: 30_000,
    });

  beforeAll(async () => {
    // The build stage's project folder: `npm run build` writes the bundle at BUNDLE_PATH in it.
    built = mkdtempSync(join(tmpdir(), 'sde-build-'));
    await buildBundle(join(built, BUNDLE_PATH));
    image = mkdtempSync(join(tmpdir(), 'sde-image-'));
    for (const { source, dest } of stageCopies(runtime)) {
      const target = join(image, dest);
      mkdirSync(dirname(target), { recursive: true });
      cpSync(join(built, relative(workdir(buildStage, npmBuild), source)), target, { recursive: true });
    }
  }, 60_000);

  afterAll(() => {
    for (const dir of [built, image]) if (dir !== '') rmSync(dir, { recursive: true, force: true });
  });

  it('is run by the Deployment as the ENTRYPOINT runs it, with node\'s flags for the heap before the bundle', () => {
    expect(podCommand).toEqual([entrypoint[0], ...runtimeNodeFlags(parseInstallOptions().heap), ...entrypoint.slice(1)]);
    expect(runtimeNodeFlags(parseInstallOptions().heap)).toEqual(['--memory-saver-mode']);
    expect(runtimeNodeFlags(parseInstallOptions({ heap: { memorySaver: false } }).heap)).toEqual([]);
  });

  it('is one file with its source map and licence notices, and no node_modules can be found from it', () => {
    const all = (dir: string): string[] => readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? all(join(dir, e.name)) : [relative(image, join(dir, e.name))]));
    const bundle = join(WORKDIR, BUNDLE_PATH).slice(1);
    expect(all(image).sort()).toEqual([bundle, `${bundle}.LEGAL.txt`, `${bundle}.map`]);
    for (let dir = join(image, WORKDIR, dirname(BUNDLE_PATH)); dir !== dirname(dir); dir = dirname(dir)) expect(existsSync(join(dir, 'node_modules')), dir).toBe(false);
    expect(image.startsWith(ROOT)).toBe(false);
  });

  it('prints the command\'s help', () => {
    expect(sdeOperator('--help')).toContain('Usage: sde-operator');
  });

  it('says the development tools are not in it, in one line, and exits 1', () => {
    let failure: { status?: number; stderr?: string } = {};
    try {
      sdeOperator('devcluster', '--port', '0');
    } catch (error) {
      failure = error as { status?: number; stderr?: string };
    }
    expect(failure.status).toBe(1);
    expect(failure.stderr?.trim().split('\n')).toHaveLength(1);
    expect(failure.stderr).toMatch(/^sde-operator: `devcluster` is a development tool that this build does not include .*run it from the sources: npx sde-operator devcluster/);
  });

  it('prints the CustomResourceDefinitions the API schemas generate (`crds`)', () => {
    const documents = parseAllDocuments(sdeOperator('crds')).map((d) => d.toJS() as { kind: string });
    expect(documents.map((d) => d.kind)).toEqual(['CustomResourceDefinition', 'CustomResourceDefinition', 'CustomResourceDefinition']);
    expect(documents).toEqual(JSON.parse(JSON.stringify(allCustomResourceDefinitions().map((c) => c.crd))));
  });

  it('renders an enclave as the constructs do (`render`), in apply order: its Namespace first, default-deny the first NetworkPolicy, every policy before any workload', () => {
    const objects = parseAllDocuments(sdeOperator('render', '--site-config', site, '--active', '-f', enclaveFile)).map((d) => d.toJS() as { kind: string; metadata: { name: string } });
    expect(objects[0]).toMatchObject({ kind: 'Namespace', metadata: { name: 'sde-cardiac-mri' } });
    expect(objects.find((o) => o.kind === 'NetworkPolicy')).toMatchObject({ metadata: { name: 'default-deny' } });
    const kinds = objects.map((o) => o.kind);
    expect(kinds.lastIndexOf('NetworkPolicy')).toBeLessThan(Math.min(...['StatefulSet', 'Job', 'Deployment', 'Workspace'].map((k) => (kinds.includes(k) ? kinds.indexOf(k) : Infinity))));
    const expected = renderEnclave(enclave.parse(parse(readFileSync(enclaveFile, 'utf8'))), siteConfig.parse(parse(readFileSync(site, 'utf8'))), { accessActive: true });
    const byName = (list: Array<{ kind: string; metadata: { name: string } }>) => [...list].sort((a, b) => `${a.kind}/${a.metadata.name}`.localeCompare(`${b.kind}/${b.metadata.name}`));
    expect(byName(objects)).toEqual(byName(JSON.parse(JSON.stringify(expected))));
  });
});

describe('the command the operator\'s pods run', () => {
  it.each([
    ['with leader election', { leaderElection: { enabled: true } }],
    ['without leader election', { replicas: 1, leaderElection: { enabled: false } }],
    ['with trusted groups for the webhooks', { leaderElection: { enabled: true }, webhook: { port: 10443, trustedGroups: ['oidc:sde-platform-engineers', 'sde admins'] } }],
    ['without the webhooks', { leaderElection: { enabled: true }, webhook: { enabled: false } }],
  ])('is one `sde-operator run` accepts (%s): Deployment args replace CMD after the ENTRYPOINT', (_name, options) => {
    const site = siteConfig.parse(parse(read('examples/site-uclh.yaml')));
    const deployment = renderOperatorInstall(site, { namespace: 'sde-ops', metrics: { port: 9090 }, ...options }).find((o) => o.kind === 'Deployment');
    const container = (deployment?.spec as { template: { spec: { containers: { args: string[]; volumeMounts: { name: string; mountPath: string }[] }[] } } }).template.spec.containers[0];
    const args = container?.args ?? [];
    expect(args[0]).toBe('run');
    const run = runCommand().exitOverride();
    const { operands, unknown } = run.parseOptions(args.slice(1));
    expect({ operands, unknown }).toEqual({ operands: [], unknown: [] });
    expect(run.opts()).toMatchObject({ site: 'uclh', siteConfig: SITE_CONFIG_PATH, port: 9090, leaderElect: options.leaderElection.enabled });
    if (options.leaderElection.enabled) expect(run.opts().leaseNamespace).toBe('sde-ops');
    // The webhooks serve the mounted certificate, on the port the Service targets, trusting exactly the groups asked for.
    const webhook = { enabled: true, port: 9443, trustedGroups: [] as string[], ...('webhook' in options ? options.webhook : {}) };
    if (webhook.enabled) {
      const mount = container?.volumeMounts.find((m) => m.name === 'webhook-certificate');
      expect(run.opts()).toMatchObject({ webhookCertDir: mount?.mountPath, webhookPort: webhook.port, trustedGroup: webhook.trustedGroups });
    } else {
      expect(run.opts().webhookCertDir).toBeUndefined();
    }
  });
});
