import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { KubeClient } from '../../../operator/runtime/kube.ts';
import { Kinds } from '../../../operator/runtime/resources.ts';
import { startTestCluster, TEST_FIELD_MANAGER, userClient, type TestCluster } from './harness.ts';

const child = fileURLToPath(new URL('./fixtures/operator-process.ts', import.meta.url));

describe('an operator process', () => {
  let cluster: TestCluster;
  let user: KubeClient;

  beforeEach(async () => {
    cluster = await startTestCluster();
    user = userClient(cluster.kubeconfigPath);
    await user.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'sde-system' } });
  });

  afterEach(async () => {
    await cluster.stop();
  });

  it.each(['SIGTERM', 'SIGINT'] as const)('on %s finishes, releases its lease and exits 0 with nothing left running', async (signal) => {
    const process_ = spawn(process.execPath, [child, cluster.kubeconfigPath, 'replica-signal'], { stdio: ['ignore', 'pipe', 'inherit'] });
    let output = '';
    const leading = new Promise<void>((resolve, reject) => {
      process_.stdout.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes('leading')) resolve();
      });
      process_.once('exit', (code) => reject(new Error(`expected the operator to lead, but it exited with ${code}`)));
    });
    await leading;
    const lease = (await user.get(Kinds.Lease, `${TEST_FIELD_MANAGER}-leader`, 'sde-system')) as { spec?: { holderIdentity?: string } };
    expect(lease.spec?.holderIdentity).toBe('replica-signal');
    const exited = new Promise<number | null>((resolve) => process_.once('exit', (code) => resolve(code)));
    process_.kill(signal);
    expect(await exited).toBe(0);
    expect(output).toContain('stopped');
    const released = (await user.get(Kinds.Lease, `${TEST_FIELD_MANAGER}-leader`, 'sde-system')) as { spec?: { holderIdentity?: string } };
    expect(released.spec?.holderIdentity).toBeUndefined();
  });
});
