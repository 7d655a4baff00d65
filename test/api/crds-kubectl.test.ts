// The checked-in CRDs install on the project's local Kubernetes with the real kubectl, become
// Established, and then serve the examples. Needs /usr/bin/kubectl; skipped where it is absent.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDevCluster } from '../../devcluster/index.ts';
import type { DevCluster } from '../../devcluster/index.ts';

const KUBECTL = process.env.KUBECTL ?? '/usr/bin/kubectl';
const hasKubectl = existsSync(KUBECTL);
const root = new URL('../../', import.meta.url).pathname;

describe.skipIf(!hasKubectl)('crds/ with kubectl apply --server-side', () => {
  let cluster: DevCluster;
  // Asynchronous: the API server runs in this process and must keep serving while kubectl runs.
  const kubectl = (...args: string[]) =>
    new Promise<{ code: number; out: string; err: string }>((done) => {
      execFile(KUBECTL, ['--kubeconfig', cluster.kubeconfigPath, ...args], { cwd: root, timeout: 60_000 }, (error, out, err) => done({ code: error ? ((error as { code?: number }).code ?? 1) : 0, out, err }));
    });
  beforeAll(async () => {
    cluster = await startDevCluster({ simulate: false });
  });
  afterAll(async () => cluster?.stop());

  it('installs all three, Established, and the example manifests validate against them on the server', async () => {
    const applied = await kubectl('apply', '--server-side', '-f', 'crds/');
    expect(applied.code, applied.err).toBe(0);
    expect(applied.out).toContain('customresourcedefinition.apiextensions.k8s.io/enclaves.sde.london serverside-applied');
    const established = await kubectl('wait', '--for=condition=Established', 'crd/enclaves.sde.london', 'crd/workspaces.sde.london', 'crd/federatedjobs.sde.london', '--timeout=20s');
    expect(established.code, established.err).toBe(0);
    const dryRun = await kubectl('apply', '--server-side', '--dry-run=server', '-f', 'examples/enclave-cardiac-mri.yaml');
    expect(dryRun.code, dryRun.err).toBe(0);
  });
});
