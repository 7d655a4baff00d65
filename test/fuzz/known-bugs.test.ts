// Bugs the fuzzing found, kept as failing tests (`it.fails`) until the owners fix them: each
// passes once the bug is gone, and then `it.fails` must become `it`.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chaosSite } from '../../bench/lib/chaos.ts';
import { FLEET_SITE } from '../../bench/lib/fleet.ts';
import { exampleDoc } from './mutations.ts';
import { createOperator } from '../../operator/operator.ts';
import { createLogger } from '../../operator/runtime/index.ts';
import type { Manager } from '../../operator/runtime/index.ts';
import type { KubernetesObject } from '@kubernetes/client-node';

type Condition = { type: string; status: string; reason: string; message: string };

describe('known bugs', () => {
  let site: Awaited<ReturnType<typeof chaosSite>>;
  let operator: Manager;
  beforeAll(async () => {
    site = await chaosSite(2);
    operator = createOperator({ site: FLEET_SITE, kubeConfig: site.kubeConfig, port: false, logger: createLogger({ level: 'silent' }) });
    await operator.start();
  });
  afterAll(async () => {
    await operator?.stop();
    await site?.observer.stop();
    await site?.cluster.stop();
  });

  // policy/enclave.ts does not check that the dataset volumes' sizes fit spec.resources.storage
  // (default 500Gi; the example's curated volume is 2Ti). The operator applies the quota, then the
  // dataset PVC is refused with 403 "exceeded quota"; reconcileEnclave throws, retries forever
  // with backoff, and never writes a condition: the user sees an enclave with no status at all.
  // Fix: a site rule (e.g. reason StorageAboveQuota on spec.resources.storage) comparing the sum of
  // data[].size with resources.storage, so it is refused with a condition like any other rule.
  it.fails('an enclave whose datasets exceed its storage quota gets a condition naming spec.resources.storage', async () => {
    const doc = exampleDoc('enclave-cardiac-mri.yaml') as unknown as KubernetesObject & { spec: { resources: Record<string, unknown> } };
    delete doc.spec.resources.storage;
    await site.user.apply({ ...doc, metadata: { name: 'storage-short' } }, { fieldManager: 'test', force: true });
    const judged = await site.observer.until(() => {
      const c = ((site.observer.cache('Enclave').get('storage-short') as { status?: { conditions?: Condition[] } } | undefined)?.status?.conditions ?? []).find((x) => x.type === 'SpecValid');
      return c !== undefined;
    }, 8_000);
    expect(judged).toBe(true);
    const c = ((site.observer.cache('Enclave').get('storage-short') as { status?: { conditions?: Condition[] } }).status?.conditions ?? []).find((x) => x.type === 'SpecValid');
    expect(c?.message).toContain('spec.resources.storage');
  }, 20_000);
});
