// The real-cluster tier (`npm run test:real`, the last step of `npm test`): starts Kubernetes
// 1.23's own control plane from ../shared/kubernetes beside this repository, runs the end-to-end
// suite (test/e2e) against it, and stops it again, also when the suite fails or is interrupted.
// Where ../shared/kubernetes is absent it says the tier was skipped and exits 0.
//
//   npm run test:real                        # a fresh control plane in a temporary folder
//   SDE_KUBE_DIR=/tmp/sde-kube npm run test:real   # reuse (and keep) one running there
//   npm run test:real -- test/e2e/failover   # only the files matching a filter
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { controlPlaneAvailable, SHARED_KUBERNETES, startControlPlane, stopControlPlane } from './control-plane.ts';

const root = fileURLToPath(new URL('..', import.meta.url));

if (!controlPlaneAvailable()) {
  console.log(`real-cluster tier skipped: no control plane at ${join(SHARED_KUBERNETES, 'up')} (it comes with the project's shared folder beside the repository; \`KUBECONFIG=... npm run test:e2e\` runs the suite against any other cluster)`);
  process.exit(0);
}

// A folder of the caller's is reused and left running; a temporary one is this run's alone.
const keep = process.env.SDE_KUBE_DIR !== undefined;
const dir = process.env.SDE_KUBE_DIR ?? mkdtempSync(join(tmpdir(), 'sde-kube-tier-'));

function stop(): void {
  if (!keep && stopControlPlane(dir)) rmSync(dir, { recursive: true, force: true });
}

let kubeconfig: string;
try {
  kubeconfig = startControlPlane(dir).kubeconfig;
} catch (error) {
  console.error(`real-cluster tier: ${(error as Error).message}`);
  stop();
  process.exit(1);
}
console.log(`real-cluster tier: Kubernetes 1.23 control plane up in ${dir}`);

const suite = spawn(process.execPath, [join(root, 'node_modules', 'vitest', 'vitest.mjs'), 'run', '--config', join(root, 'vitest.e2e.config.ts'), ...process.argv.slice(2)], {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, KUBECONFIG: kubeconfig, SDE_AUDIT_LOG: join(dir, 'audit.log'), SDE_KUBE_DIR: dir },
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => suite.kill(signal));
}
suite.on('exit', (code, signal) => {
  stop();
  process.exit(code ?? (signal ? 1 : 0));
});
