// The real kubectl (/usr/bin/kubectl, 1.32) against the devcluster: apply client- and
// server-side, get in every output format, categories, explain, wait, every patch type, label,
// annotate, delete with finalizers and namespaces, and get -w. Failures show kubectl's output.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startDevCluster } from '../../devcluster/index.ts';
import type { DevCluster } from '../../devcluster/index.ts';
import { BUILTINS } from '../../devcluster/store/builtins.ts';

const KUBECTL = '/usr/bin/kubectl';
const hasKubectl = existsSync(KUBECTL);
const root = join(import.meta.dirname, '..', '..');

let dc: DevCluster;
let cacheDir: string;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function kubectl(args: string[], stdin?: string): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(KUBECTL, [`--kubeconfig=${dc.kubeconfigPath}`, `--cache-dir=${cacheDir}`, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(stdin ?? '');
  });
}

/** Runs kubectl and fails with kubectl's own output unless it exits 0. */
async function ok(args: string[], stdin?: string): Promise<string> {
  const r = await kubectl(args, stdin);
  expect(r.code, `kubectl ${args.join(' ')}\n${r.stdout}${r.stderr}`).toBe(0);
  return r.stdout;
}

const DEPLOYMENT = `apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: sde-kubectl, labels: {app: web}}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: main
        image: nginx
        env: [{name: A, value: "1"}]
`;

beforeAll(async () => {
  if (!hasKubectl) return;
  cacheDir = mkdtempSync(join(tmpdir(), 'kubectl-cache-'));
  dc = await startDevCluster({ jobRunMillis: 200 });
  await ok(['apply', '-f', join(root, 'crds')]);
  await ok(['wait', '--for=condition=Established', 'crd/enclaves.sde.london', 'crd/workspaces.sde.london', '--timeout=10s']);
  await ok(['create', 'namespace', 'sde-kubectl']);
});

afterAll(async () => {
  if (!hasKubectl) return;
  await dc.stop();
  rmSync(cacheDir, { recursive: true, force: true });
});

describe.skipIf(!hasKubectl)('kubectl against the devcluster', () => {
  it('reports the client version it was tested with', async () => {
    expect(await ok(['version', '--client'])).toMatch(/Client Version: v1\.32/);
  });

  it('applies client-side and server-side, and gets YAML, JSON, wide and by label', async () => {
    expect(await ok(['apply', '-f', join(root, 'examples', 'enclave-cardiac-mri.yaml')])).toContain('enclave.sde.london/cardiac-mri created');
    expect(await ok(['apply', '--server-side', '-f', '-'], DEPLOYMENT)).toContain('deployment.apps/web serverside-applied');
    expect(await ok(['get', 'enclave', 'cardiac-mri', '-o', 'yaml'])).toContain('site: uclh');
    const json = JSON.parse(await ok(['get', 'deploy', 'web', '-n', 'sde-kubectl', '-o', 'json', '--show-managed-fields'])) as { metadata: { managedFields: { manager: string }[] } };
    expect(json.metadata.managedFields.map((m) => m.manager)).toContain('kubectl');
    expect(await ok(['get', 'nodes', '-o', 'wide'])).toMatch(/dgx-a100-01\s+Ready/);
    expect(await ok(['get', 'deploy', '-n', 'sde-kubectl', '-l', 'app=web', '-o', 'name'])).toBe('deployment.apps/web\n');
    expect(await ok(['get', 'deploy', '-n', 'sde-kubectl', '-l', 'app=other'])).toBe('');
  });

  it('shows an invalid custom resource refused with the field named', async () => {
    const r = await kubectl(['apply', '-f', join(root, 'examples', 'invalid', 'enclave-raw-zone.yaml')]);
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(r.stderr).toContain('strict decoding error: unknown field "spec.data[0].source"');
  });

  it('reports a server-side apply conflict between field managers', async () => {
    const scaled = DEPLOYMENT.replace('replicas: 2', 'replicas: 5');
    const r = await kubectl(['apply', '--server-side', '--field-manager=capacity-planner', '-f', '-'], scaled);
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(r.stderr).toContain('Apply failed with 1 conflict: conflict with "kubectl": .spec.replicas');
    expect(await ok(['apply', '--server-side', '--force-conflicts', '--field-manager=capacity-planner', '-f', '-'], scaled)).toContain('serverside-applied');
  });

  it('lists every resource in the sde category', async () => {
    await ok(['create', 'namespace', 'sde-cardiac-mri', '--dry-run=client', '-o', 'yaml']).then((yaml) => ok(['apply', '-f', '-'], yaml));
    await ok(['apply', '--server-side', '-f', join(root, 'examples', 'workspace-jupyter-gpu.yaml')]);
    const out = await ok(['get', 'sde', '-A']);
    expect(out).toContain('enclave.sde.london/cardiac-mri');
    expect(out).toContain('workspace.sde.london/okafor-jupyter');
  });

  it('explains the CRD from its OpenAPI schema', async () => {
    const out = await ok(['explain', 'enclave.spec.access']);
    expect(out).toContain('KIND:       Enclave');
    expect(out).toMatch(/expiresAt\s+<string> -required-/);
  });

  it('waits for a condition set by the simulated cluster', async () => {
    expect(await ok(['wait', '-n', 'sde-kubectl', '--for=condition=Available', 'deployment/web', '--timeout=20s'])).toContain('condition met');
    await ok(['scale', '-n', 'sde-kubectl', 'deployment/web', '--replicas=1']);
    expect(await ok(['wait', '-n', 'sde-kubectl', '--for=jsonpath={.status.replicas}=1', 'deployment/web', '--timeout=20s'])).toContain('condition met');
  });

  it('patches with strategic merge, merge and JSON patches, and labels and annotates', async () => {
    await ok(['patch', '-n', 'sde-kubectl', 'deploy', 'web', '-p', '{"spec":{"template":{"spec":{"containers":[{"name":"main","env":[{"name":"B","value":"2"}]}]}}}}']);
    expect(await ok(['get', '-n', 'sde-kubectl', 'deploy', 'web', '-o', 'jsonpath={.spec.template.spec.containers[0].env[*].name}'])).toBe('A B');
    await ok(['patch', 'enclave', 'cardiac-mri', '--type=merge', '-p', '{"spec":{"resources":{"gpus":2}}}']);
    const failed = await kubectl(['patch', 'enclave', 'cardiac-mri', '--type=json', '-p', '[{"op":"test","path":"/spec/resources/gpus","value":7},{"op":"replace","path":"/spec/resources/gpus","value":1}]']);
    expect(failed.code, failed.stderr).toBe(1);
    expect(failed.stderr).toContain('testing value /spec/resources/gpus failed');
    await ok(['patch', 'enclave', 'cardiac-mri', '--type=json', '-p', '[{"op":"test","path":"/spec/resources/gpus","value":2},{"op":"replace","path":"/spec/resources/gpus","value":1}]']);
    expect(await ok(['get', 'enclave', 'cardiac-mri', '-o', 'jsonpath={.spec.resources.gpus}'])).toBe('1');
    await ok(['label', 'enclave', 'cardiac-mri', 'sde.london/trust=uclh']);
    await ok(['annotate', 'enclave', 'cardiac-mri', 'sde.london/note=reviewed']);
    expect(await ok(['get', 'enclaves', '-l', 'sde.london/trust=uclh', '-o', 'jsonpath={.items[*].metadata.annotations.sde\\.london/note}'])).toBe('reviewed');
  });

  it('deletes a custom resource only once its finalizer is removed', async () => {
    await ok(['patch', 'enclave', 'cardiac-mri', '--type=merge', '-p', '{"metadata":{"finalizers":["sde.london/cleanup"]}}']);
    await ok(['delete', 'enclave', 'cardiac-mri', '--wait=false']);
    expect(await ok(['get', 'enclave', 'cardiac-mri', '-o', 'jsonpath={.metadata.deletionTimestamp}'])).not.toBe('');
    await ok(['patch', 'enclave', 'cardiac-mri', '--type=json', '-p', '[{"op":"remove","path":"/metadata/finalizers"}]']);
    const gone = await kubectl(['get', 'enclave', 'cardiac-mri']);
    expect(gone.stderr).toContain('enclaves.sde.london "cardiac-mri" not found');
  });

  it('watches with get -w until an event arrives', async () => {
    const child = spawn(KUBECTL, [`--kubeconfig=${dc.kubeconfigPath}`, `--cache-dir=${cacheDir}`, 'get', 'configmaps', '-n', 'sde-kubectl', '-w', '--output-watch-events'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const arrived = new Promise<void>((resolve) => {
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('watched-cm')) resolve();
      });
    });
    try {
      await new Promise((r) => setTimeout(r, 500));
      await ok(['create', 'configmap', 'watched-cm', '-n', 'sde-kubectl', '--from-literal=a=b']);
      await arrived;
      expect(out).toMatch(/ADDED\s+watched-cm/);
    } finally {
      child.kill();
    }
  });

  it('checks RBAC for an impersonated member with auth can-i', async () => {
    await ok(['create', 'role', 'researcher', '-n', 'sde-kubectl', '--verb=get,list,watch', '--resource=pods,pods/log']);
    await ok(['create', 'rolebinding', 'researchers', '-n', 'sde-kubectl', '--role=researcher', '--group=sde:researchers']);
    const as = ['--as=m.okafor@ucl.ac.uk', '--as-group=sde:researchers', '-n', 'sde-kubectl'];
    expect(await ok(['auth', 'can-i', 'get', 'pods', '--subresource=log', ...as])).toBe('yes\n');
    const secrets = await kubectl(['auth', 'can-i', 'get', 'secrets', ...as]);
    expect(secrets.stdout, secrets.stderr).toBe('no\n');
    const denied = await kubectl(['get', 'secrets', ...as]);
    expect(denied.stderr).toContain('secrets is forbidden: User "m.okafor@ucl.ac.uk" cannot list resource "secrets" in API group "" in the namespace "sde-kubectl"');
  });

  it('follows a StatefulSet rollout with rollout status, on the defaults the API server sets', async () => {
    const set = `apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db, namespace: sde-kubectl}
spec:
  replicas: 2
  serviceName: db
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db}}
    spec: {containers: [{name: main, image: postgres}]}
`;
    await ok(['apply', '-f', '-'], set);
    const spec = (JSON.parse(await ok(['get', 'sts', 'db', '-n', 'sde-kubectl', '-o', 'json'])) as { spec: Record<string, unknown> }).spec;
    expect(spec).toMatchObject({
      updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 0 } },
      podManagementPolicy: 'OrderedReady',
      revisionHistoryLimit: 10,
    });
    // Defaulted from 1.27 (StatefulSetAutoDeletePVC beta); the 1.23 server the devcluster follows leaves it out.
    expect(spec.persistentVolumeClaimRetentionPolicy).toBeUndefined();
    expect(await ok(['rollout', 'status', 'sts/db', '-n', 'sde-kubectl', '--timeout=20s'])).toContain('partitioned roll out complete: 2 new pods have been updated');
    await ok(['set', 'env', 'sts/db', '-n', 'sde-kubectl', 'MODE=replica']);
    expect(await ok(['rollout', 'status', 'sts/db', '-n', 'sde-kubectl', '--timeout=20s'])).toContain('partitioned roll out complete: 2 new pods have been updated');
    const pods = JSON.parse(await ok(['get', 'pods', '-n', 'sde-kubectl', '-l', 'app=db', '-o', 'json'])) as { items: { spec: { containers: { env?: { name: string }[] }[] } }[] };
    expect(pods.items.map((p) => p.spec.containers[0]?.env?.map((e) => e.name))).toEqual([['MODE'], ['MODE']]);
  });

  it('follows a Deployment rollout with rollout status, on the defaults the API server sets', async () => {
    const spec = (JSON.parse(await ok(['get', 'deploy', 'web', '-n', 'sde-kubectl', '-o', 'json'])) as { spec: Record<string, unknown> }).spec;
    expect(spec).toMatchObject({ strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } }, progressDeadlineSeconds: 600, revisionHistoryLimit: 10 });
    expect(await ok(['rollout', 'status', 'deploy/web', '-n', 'sde-kubectl', '--timeout=20s'])).toContain('successfully rolled out');
  });

  it('shows pod STATUS as kubectl does: Completed, Error, CrashLoopBackOff, Running', async () => {
    const ns = 'sde-status';
    const job = (name: string, annotations: string) => `apiVersion: batch/v1
kind: Job
metadata: {name: ${name}, namespace: ${ns}}
spec:
  backoffLimit: 0
  template:
    metadata: {annotations: {${annotations}}}
    spec: {restartPolicy: Never, containers: [{name: main, image: busybox}]}
`;
    const pod = (name: string, annotations: string) => `apiVersion: v1
kind: Pod
metadata: {name: ${name}, namespace: ${ns}, annotations: {${annotations}}}
spec: {containers: [{name: main, image: busybox}]}
`;
    await ok(['create', 'namespace', ns]);
    await ok(['apply', '-f', '-'], [job('done', ''), job('broken', 'devcluster.sde.london/fail: "true"'), pod('crashy', 'devcluster.sde.london/fail: "true"'), pod('serving', '')].join('---\n'));
    const states = (): string[] => dc.store.scan(BUILTINS.pods, { namespace: ns }).map((p) => {
      const status = p.status as { phase?: string; containerStatuses?: { state?: { waiting?: { reason?: string } } }[] };
      return `${p.metadata.name.split('-')[0] ?? ''}:${status.containerStatuses?.[0]?.state?.waiting?.reason ?? status.phase ?? ''}`;
    }).sort();
    await vi.waitFor(() => expect(states()).toEqual(['broken:Failed', 'crashy:CrashLoopBackOff', 'done:Succeeded', 'serving:Running']), { timeout: 10_000, interval: 5 });
    dc.simulation?.pauseKubelet();
    try {
      const rows = (await ok(['get', 'pods', '-n', ns, '--no-headers'])).trim().split('\n').map((line) => line.split(/\s+/));
      const shown = Object.fromEntries(rows.map(([name = '', ready, status]) => [name.split('-')[0], `${ready} ${status}`]));
      expect(shown).toEqual({ done: '0/1 Completed', broken: '0/1 Error', crashy: '0/1 CrashLoopBackOff', serving: '1/1 Running' });
    } finally {
      dc.simulation?.resumeKubelet();
    }
    await ok(['delete', 'namespace', ns, '--timeout=20s']);
  });

  it('deletes a namespace with its contents', async () => {
    expect(await ok(['delete', 'namespace', 'sde-kubectl', '--timeout=20s'])).toContain('namespace "sde-kubectl" deleted');
    const gone = await kubectl(['get', 'namespace', 'sde-kubectl']);
    expect(gone.stderr).toContain('namespaces "sde-kubectl" not found');
    expect(await ok(['get', 'pods', '-A', '-o', 'name'])).toBe('');
  });
});
