// A platform engineer's session with the real kubectl against the local Kubernetes and the
// operator. Needs /usr/bin/kubectl (kubectl 1.32 on these machines); skipped where it is absent.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { root, startTestSite } from './harness.ts';
import type { TestSite } from './harness.ts';

const KUBECTL = process.env.KUBECTL ?? '/usr/bin/kubectl';
const hasKubectl = existsSync(KUBECTL);
if (!hasKubectl) console.warn(`kubectl tests skipped: ${KUBECTL} not found`);

describe.skipIf(!hasKubectl)('kubectl against the operator', () => {
  let site: TestSite;
  // Asynchronous on purpose: the local API server runs in this process and must keep serving.
  const kubectl = (...args: string[]) =>
    new Promise<{ code: number; out: string; err: string; all: string }>((done) => {
      execFile(KUBECTL, ['--kubeconfig', site.cluster.kubeconfigPath, ...args], { cwd: root.pathname, timeout: 60_000 }, (error, out, err) => {
        done({ code: error ? ((error as { code?: number }).code ?? 1) : 0, out, err, all: `${out}${err}` });
      });
    });
  beforeAll(async () => {
    site = await startTestSite();
    await site.startOperator();
  });
  afterAll(async () => site?.close());

  it('applies the examples, waits for Ready, and lists them together with `get sde`', async () => {
    const applied = await kubectl('apply', '--server-side', '-f', 'examples/enclave-cardiac-mri.yaml');
    expect(applied.code, applied.all).toBe(0);
    const waited = await kubectl('wait', '--for=condition=Ready', 'enclave/cardiac-mri', '--timeout=30s');
    expect(waited.code, waited.all).toBe(0);
    const rest = await kubectl('apply', '-f', 'examples/workspace-jupyter-gpu.yaml', '-f', 'examples/workspace-rstudio.yaml', '-f', 'examples/federatedjob-nvflare.yaml');
    expect(rest.code, rest.all).toBe(0);
    const ws = await kubectl('-n', 'sde-cardiac-mri', 'wait', '--for=condition=Ready', 'ws', '--all', '--timeout=30s');
    expect(ws.code, ws.all).toBe(0);
    const all = await kubectl('get', 'sde', '-A');
    expect(all.code, all.all).toBe(0);
    expect(all.out).toMatch(/enclave\.sde\.london\/cardiac-mri\s+uclh\s+Ready\s+True\s+2027-12-31T23:59:59Z\s+4/);
    expect(all.out).toMatch(/workspace\.sde\.london\/okafor-jupyter\s+m\.okafor@ucl\.ac\.uk\s+jupyterlab\s+1\s+Running\s+True/);
    expect(all.out).toMatch(/federatedjob\.sde\.london\/cardiac-segmentation-fl\s+nvflare\s+Running/);
  });

  // Hostile: an enclave that says where its data lives and calls a raw export curated. The zone and
  // source are the site's, so kubectl's strict field validation refuses the fields outright, and
  // without it the API server drops them and still refuses the access period that never ends.
  it('rejects the invalid example at the API server, naming the fields', async () => {
    const r = await kubectl('apply', '-f', 'examples/invalid/enclave-raw-zone.yaml');
    expect(r.code).not.toBe(0);
    expect(r.err).toContain('unknown field "spec.data[0].source"');
    expect(r.err).toContain('unknown field "spec.data[0].zone"');
    const lax = await kubectl('apply', '--validate=false', '-f', 'examples/invalid/enclave-raw-zone.yaml');
    expect(lax.code).not.toBe(0);
    expect(lax.err).toContain('The Enclave "raw-data-grab" is invalid: spec.access.expiresAt: Required value');
  });

  it('explains the API from the CRD descriptions', async () => {
    const r = await kubectl('explain', 'enclave.spec.access');
    expect(r.code, r.all).toBe(0);
    expect(r.out).toMatch(/extensions\s+<\[\]Object>\s+Approved extensions, append-only and kept as history; the effective end is\s+the latest of/);
  });
});
