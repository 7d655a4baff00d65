// The operator's container image, checked without a Docker engine: the Dockerfile is parsed, the
// files its COPY instructions would put into the image are listed (honouring .dockerignore), and
// everything `node operator/cli.ts` loads must be among them or among the production
// dependencies `npm ci --omit=dev` installs. Not covered: that the base image tag exists, that
// the build runs, or how the image behaves at run time.
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { builtinModules } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { siteConfig } from '../../api/siteconfig.ts';
import { renderOperatorInstall, SITE_CONFIG_PATH } from '../../constructs/install/operator.ts';
import { runCommand } from '../../operator/run.ts';

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
const pkg = JSON.parse(read('package.json')) as { dependencies: Record<string, string>; devDependencies: Record<string, string> };
const WORKDIR = '/app';

/** The files the runtime stage's COPY instructions (from the build context) put into the image, by image path. */
function imageFiles(): Map<string, string> {
  const files = new Map<string, string>();
  for (const { op, args } of runtime.instructions) {
    if (op !== 'COPY' || args.startsWith('--from')) continue;
    const parts = args.split(/\s+/);
    const dest = parts.pop() as string;
    for (const source of parts) {
      for (const file of filesUnder(source.replace(/\/$/, ''))) {
        if (ignored(file)) continue;
        const inside = source.endsWith('/') || statSync(join(ROOT, source)).isDirectory() ? relative(source, file) : file.split('/').pop() as string;
        files.set(resolve(WORKDIR, dest, inside), file);
      }
    }
  }
  return files;
}

/** Every module `node` loads from the entry point at run time: our files, and bare package names. */
function reachableImports(entry: string): { files: Set<string>; packages: Set<string> } {
  const files = new Set<string>();
  const packages = new Set<string>();
  const visit = (file: string): void => {
    if (files.has(file)) return;
    files.add(file);
    const source = ts.createSourceFile(file, read(file), ts.ScriptTarget.Latest, true);
    const specifiers: string[] = [];
    const walk = (node: ts.Node): void => {
      // `import type` and `export type` are erased by type stripping; `import { type X }` is not.
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

  it('starts `sde-operator run` as a non-root user from files that are in the image', () => {
    const last = (op: string) => runtime.instructions.filter((i) => i.op === op).at(-1)?.args;
    expect(JSON.parse(last('ENTRYPOINT') ?? 'null')).toEqual(['node', 'operator/cli.ts']);
    expect(JSON.parse(last('CMD') ?? 'null')).toEqual(['run']);
    expect(last('WORKDIR')).toBe(WORKDIR);
    expect(last('USER')).toBe('65532:65532');
    expect(imageFiles().get(`${WORKDIR}/operator/cli.ts`)).toBe('operator/cli.ts');
    expect(imageFiles().get(`${WORKDIR}/package.json`)).toBe('package.json');
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
    expect(ignored('node_modules/zod/package.json')).toBe(true);
    expect(ignored('operator/cli.ts')).toBe(false);
  });

  it('installs production dependencies only, exactly as locked, and copies them into the runtime stage', () => {
    const runs = stages.flatMap((s) => s.instructions.filter((i) => i.op === 'RUN').map((i) => ({ stage: s.name, command: i.args })));
    const npm = runs.filter((r) => /\bnpm\b/.test(r.command));
    expect(npm.map((r) => r.command.match(/npm (ci|install|i)\b[^&]*/)?.[0]?.trim())).toEqual([expect.stringMatching(/^npm ci --omit=dev\b/)]);
    const installer = npm[0]?.stage;
    expect(runtime.instructions).toContainEqual({ op: 'COPY', args: `--from=${installer} /app/node_modules ./node_modules` });
    expect(runtime.instructions.filter((i) => i.op === 'RUN')).toEqual([]);
  });

  it('carries the OCI labels', () => {
    const labels = runtime.instructions.filter((i) => i.op === 'LABEL').map((i) => i.args).join(' ');
    for (const key of ['title', 'description', 'version', 'revision', 'source', 'licenses']) expect(labels).toContain(`org.opencontainers.image.${key}=`);
  });
});

describe('the command the operator\'s pods run', () => {
  it.each([
    ['with leader election', { leaderElection: { enabled: true } }],
    ['without leader election', { replicas: 1, leaderElection: { enabled: false } }],
  ])('is one `sde-operator run` accepts (%s): Deployment args replace CMD after the ENTRYPOINT', (_name, options) => {
    const site = siteConfig.parse(parse(read('examples/site-uclh.yaml')));
    const deployment = renderOperatorInstall(site, { namespace: 'sde-ops', metrics: { port: 9090 }, ...options }).find((o) => o.kind === 'Deployment');
    const args = (deployment?.spec as { template: { spec: { containers: { args: string[] }[] } } }).template.spec.containers[0]?.args ?? [];
    expect(args[0]).toBe('run');
    const run = runCommand().exitOverride();
    const { operands, unknown } = run.parseOptions(args.slice(1));
    expect({ operands, unknown }).toEqual({ operands: [], unknown: [] });
    expect(run.opts()).toMatchObject({ site: 'uclh', siteConfig: SITE_CONFIG_PATH, port: 9090, leaderElect: options.leaderElection.enabled });
    if (options.leaderElection.enabled) expect(run.opts().leaseNamespace).toBe('sde-ops');
  });
});

describe('what operator/cli.ts loads', () => {
  const { files, packages } = reachableImports('operator/cli.ts');

  it('is all inside the image', () => {
    const inImage = new Set(imageFiles().values());
    const missing = [...files].filter((f) => !inImage.has(f));
    expect(missing, 'add a COPY for these folders to the Dockerfile (and a ! line to .dockerignore)').toEqual([]);
    expect(files.size).toBeGreaterThan(3);
  });

  it('runs from the image\'s files alone: `node operator/cli.ts --help` in a folder holding only them', () => {
    const app = mkdtempSync(join(tmpdir(), 'sde-image-'));
    try {
      for (const [imagePath, file] of imageFiles()) {
        const target = join(app, relative(WORKDIR, imagePath));
        mkdirSync(dirname(target), { recursive: true });
        cpSync(join(ROOT, file), target);
      }
      // The dependencies stage's node_modules stands in for `npm ci --omit=dev` (checked above).
      symlinkSync(join(ROOT, 'node_modules'), join(app, 'node_modules'), 'dir');
      const help = execFileSync(process.execPath, ['operator/cli.ts', '--help'], { cwd: app, encoding: 'utf8', timeout: 20_000 });
      expect(help).toContain('Usage: sde-operator');
    } finally {
      rmSync(app, { recursive: true, force: true });
    }
  });

  it('needs only packages that are production dependencies', () => {
    expect(packages.size).toBeGreaterThan(0);
    const notInstalled = [...packages].filter((p) => pkg.dependencies[p] === undefined);
    expect(notInstalled, 'move these to "dependencies" in package.json: npm ci --omit=dev leaves devDependencies out').toEqual([]);
  });
});
