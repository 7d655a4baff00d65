// The `sde-operator validate` and `crds` commands as a platform engineer runs them.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';

const root = new URL('../../', import.meta.url).pathname;
function cli(...args: string[]) {
  const run = spawnSync(process.execPath, ['cli/main.ts', ...args], { cwd: root, encoding: 'utf8' });
  return { code: run.status, stdout: run.stdout, stderr: run.stderr };
}

describe('npx sde-operator', () => {
  it('runs the clone\'s own command, as the README says (npm install links it: scripts/link-bin.ts)', () => {
    const run = spawnSync('npx', ['sde-operator', 'validate', '-f', 'examples/'], { cwd: root, encoding: 'utf8' });
    expect(run.stderr).not.toContain('not found');
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/^\d+ valid document\(s\), 0 problem\(s\)/m);
  });
});

describe('sde-operator validate', () => {
  it('accepts every example', () => {
    const r = cli('validate', '-f', 'examples/');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const valid = Number(/^(\d+) valid document\(s\), 0 problem\(s\)/.exec(r.stdout)?.[1]);
    expect(valid).toBeGreaterThanOrEqual(5);
  });

  it('rejects the invalid examples, naming the document and the fields', () => {
    const r = cli('validate', '-f', 'examples/invalid/');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('examples/invalid/enclave-raw-zone.yaml: document 1 (Enclave raw-data-grab): spec.access.expiresAt: Required value');
    // Hostile: an enclave cannot say where its data lives or which zone it is in: those fields are the site's.
    expect(r.stderr).toContain('examples/invalid/enclave-raw-zone.yaml: document 1 (Enclave raw-data-grab): spec.data[0]: unknown field(s) "zone", "source"');
    expect(r.stderr).toContain('examples/invalid/site-raw-zone.yaml: document 1 (SiteConfig uclh): datasets[0].zone: raw-zone data is never mounted in an enclave');
    expect(r.stderr).toContain('examples/invalid/site-raw-zone.yaml: document 1 (SiteConfig uclh): datasets[1].readOnly: only a scratch-zone volume may be writable');
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('reports YAML syntax errors, unknown kinds and missing files without a stack trace', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sde-validate-'));
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, 'apiVersion: sde.london/v1alpha1\nkind: Sandpit\nmetadata: {name: x}\n---\nkey: [unclosed\n');
    const r = cli('validate', '-f', file);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('document 1 (Sandpit x): kind: Unsupported value: expected one of Enclave, Workspace, FederatedJob, SiteConfig');
    expect(r.stderr).toMatch(/document 2: \(document\): YAML syntax/);
    const missing = cli('validate', '-f', join(dir, 'nope.yaml'));
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^error: ENOENT/);
    expect(missing.stderr).not.toMatch(/\n\s+at /);
  });

  it('checks every document of a multi-document file and skips plain Kubernetes objects', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sde-validate-'));
    const file = join(dir, 'multi.yaml');
    writeFileSync(file, 'apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n---\napiVersion: sde.london/v1alpha1\nkind: Workspace\nmetadata: {name: w, namespace: sde-a}\nspec: {owner: x, resources: {gpus: 12}}\n');
    const r = cli('validate', '-f', file);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('document 2 (Workspace w): spec.resources.gpus: must be between 0 and 8');
    expect(r.stderr).toContain('1 other Kubernetes document(s) not checked');
  });
});

describe('sde-operator crds', () => {
  it('prints the three CRDs as multi-document YAML', () => {
    const r = cli('crds');
    expect(r.code).toBe(0);
    const names = parseAllDocuments(r.stdout).map((d) => (d.toJS() as { metadata: { name: string } }).metadata.name);
    expect(names).toEqual(['enclaves.sde.london', 'workspaces.sde.london', 'federatedjobs.sde.london']);
  });
});
