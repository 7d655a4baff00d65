// `sde-operator render` as a platform engineer runs it.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';

const root = new URL('../../', import.meta.url).pathname;
// Asynchronous, so that the cases below can run side by side: each one starts a Node process.
function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['cli/main.ts', 'render', ...args], { cwd: root, encoding: 'utf8' }, (err, stdout, stderr) => {
      resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : -1, stdout, stderr });
    });
  });
}

interface Doc {
  kind: string;
  metadata: { name: string };
  spec?: Record<string, unknown>;
}
function docs(yaml: string): Doc[] {
  return parseAllDocuments(yaml).map((d) => d.toJS() as Doc);
}

const dir = mkdtempSync(join(tmpdir(), 'sde-render-'));
function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}
const example = (name: string) => readFileSync(join(root, 'examples', name), 'utf8');

describe.concurrent('sde-operator render', () => {
  it('renders the examples in apply order: the namespace first, default-deny the first policy, then its workspaces and this site\'s part of the federated job', async () => {
    const r = await cli('-f', 'examples/', '--active');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = docs(r.stdout);
    expect(out[0]).toMatchObject({ kind: 'Namespace', metadata: { name: 'sde-cardiac-mri' } });
    expect(out.find((d) => d.kind === 'NetworkPolicy')).toMatchObject({ metadata: { name: 'default-deny' } });
    const names = out.map((d) => `${d.kind}/${d.metadata.name}`);
    expect(names).toContain('StatefulSet/okafor-jupyter');
    expect(names).toContain('StatefulSet/patel-rstudio');
    expect(names).toContain('Job/cardiac-segmentation-fl-participant');
    expect(names.filter((n) => n.startsWith('RoleBinding/'))).toHaveLength(3);
    expect(names.indexOf('StatefulSet/okafor-jupyter')).toBeGreaterThan(names.indexOf('PersistentVolumeClaim/data-cardiac-mri-curated'));
  });

  it('prints byte-identical YAML for the same input', async () => {
    const [first, again] = await Promise.all([cli('-f', 'examples/', '--active'), cli('-f', 'examples/', '--active')]);
    expect(again.stdout).toBe(first.stdout);
  });

  it('renders expired access without RoleBindings, with workspaces stopped and jobs suspended', async () => {
    const out = docs((await cli('-f', 'examples/', '--inactive')).stdout);
    expect(out.filter((d) => d.kind === 'RoleBinding')).toEqual([]);
    for (const d of out.filter((x) => x.kind === 'StatefulSet')) expect(d.spec?.replicas).toBe(0);
    for (const d of out.filter((x) => x.kind === 'Job')) expect(d.spec?.suspend).toBe(true);
    expect(out.filter((d) => d.kind === 'PersistentVolumeClaim').map((d) => d.metadata.name)).toEqual(['data-cardiac-mri-curated', 'okafor-jupyter-home', 'patel-rstudio-home']);
  });

  it('reads access from the enclave\'s dates when neither --active nor --inactive is given', async () => {
    const expired = file('expired.yaml', example('enclave-cardiac-mri.yaml').replace('validFrom: "2026-01-01T00:00:00Z"', 'validFrom: "2019-01-01T00:00:00Z"').replace('expiresAt: "2027-12-31T23:59:59Z"', 'expiresAt: "2020-01-01T00:00:00Z"'));
    const r = await cli('-f', expired, '--site-config', 'examples/site-uclh.yaml');
    expect(r.code).toBe(0);
    expect(docs(r.stdout).filter((d) => d.kind === 'RoleBinding')).toEqual([]);
  });

  it('takes the site configuration from --site-config', async () => {
    const r = await cli('-f', 'examples/enclave-cardiac-mri.yaml', 'examples/workspace-rstudio.yaml', '--site-config', 'examples/site-uclh.yaml', '--active');
    expect(r.code).toBe(0);
    expect(docs(r.stdout).map((d) => `${d.kind}/${d.metadata.name}`)).toContain('StatefulSet/patel-rstudio');
  });

  it('refuses to guess a site configuration', async () => {
    const r = await cli('-f', 'examples/enclave-cardiac-mri.yaml');
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe('error: expected a SiteConfig document in the inputs; found none (pass --site-config FILE or add a kind: SiteConfig document to -f)\n');
  });

  it('names the document and field of a site-rule finding and renders nothing', async () => {
    const greedy = file('greedy.yaml', example('enclave-cardiac-mri.yaml').replace('gpus: 4', 'gpus: 40'));
    const r = await cli('-f', greedy, '--site-config', 'examples/site-uclh.yaml');
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(`${greedy}: document 1 (Enclave cardiac-mri): spec.resources.gpus: GpusAbovePool: expected at most the 16 GPU(s) of site uclh's pool; found 40`);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('names the field of a workspace that breaks its enclave\'s rules', async () => {
    const ws = file('ws.yaml', example('workspace-rstudio.yaml').replace('owner: j.patel@ucl.ac.uk', 'owner: s.nguyen@uclh.nhs.uk'));
    const r = await cli('-f', 'examples/site-uclh.yaml', 'examples/enclave-cardiac-mri.yaml', ws);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${ws}: document 1 (Workspace patel-rstudio): spec.owner: RoleMayNotRunWorkspaces`);
  });

  it('needs the enclave of a workspace among the inputs', async () => {
    const r = await cli('-f', 'examples/site-uclh.yaml', 'examples/workspace-rstudio.yaml');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('examples/workspace-rstudio.yaml: document 1 (Workspace patel-rstudio): metadata.namespace: expected the namespace of an Enclave among the inputs (none); found "sde-cardiac-mri"');
  });

  // Hostile: the enclave names what it wants; only the site's catalogue says what exists and what may be written.
  it('refuses a dataset the site does not catalogue, and a read-only one asked writable, rendering nothing', async () => {
    const grab = file('grab.yaml', example('enclave-cardiac-mri.yaml').replace('    - name: xnat\n', '    - name: xnat\n    - name: epr-dump\n'));
    const r = await cli('-f', 'examples/site-uclh.yaml', grab);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(`${grab}: document 1 (Enclave cardiac-mri): spec.data[3].name: DatasetNotInCatalogue: expected a dataset of site uclh's catalogue (cardiac-mri-curated, omop, xnat, hes-standardised, scratch); found "epr-dump"`);
    const write = file('write.yaml', example('enclave-cardiac-mri.yaml').replace('    - name: cardiac-mri-curated\n', '    - name: cardiac-mri-curated\n      readOnly: false\n'));
    const w = await cli('-f', 'examples/site-uclh.yaml', write);
    expect(w.code).toBe(1);
    expect(w.stderr).toContain(`${write}: document 1 (Enclave cardiac-mri): spec.data[0].readOnly: DatasetReadOnly: expected true or nothing: site uclh's catalogue keeps "cardiac-mri-curated" (curated volume) read-only`);
  });

  it('reports schema problems as validate does', async () => {
    const r = await cli('-f', 'examples/invalid/', '--site-config', 'examples/site-uclh.yaml');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('examples/invalid/enclave-raw-zone.yaml: document 1 (Enclave raw-data-grab): spec.data[0]: unknown field(s) "zone", "source"');
    expect(r.stderr).toContain('examples/invalid/site-raw-zone.yaml: document 1 (SiteConfig uclh): datasets[0].zone: raw-zone data is never mounted');
  });

  it('rejects --active with --inactive and a --site other than the configuration\'s', async () => {
    expect((await cli('-f', 'examples/', '--active', '--inactive')).stderr).toBe('error: expected at most one of --active and --inactive; found both\n');
    const r = await cli('-f', 'examples/', '--site', 'gstt');
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('error: expected --site to be the site configuration\'s site "uclh"; found "gstt"\n');
  });
});
