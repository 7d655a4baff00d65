// A bug the fuzzing found (fixed in a57d110): datasets larger than the enclave's storage quota
// used to make the operator retry a 403 forever with no condition and a namespace left behind.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chaosSite } from '../../bench/lib/chaos.ts';
import { FLEET_SITE } from '../../bench/lib/fleet.ts';
import { exampleDoc } from './mutations.ts';
import { createOperator } from '../../operator/operator.ts';
import { createLogger, Kinds } from '../../operator/runtime/index.ts';
import type { Manager } from '../../operator/runtime/index.ts';
import type { KubernetesObject } from '@kubernetes/client-node';

type Condition = { type: string; status: string; reason: string; message: string };

describe('an enclave whose datasets exceed its storage quota', () => {
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

  // resources.storage omitted: the default 500Gi quota cannot hold the example's 2Ti curated volume.
  it('is refused with StorageAboveQuota naming spec.resources.storage, and gets no namespace', async () => {
    const doc = exampleDoc('enclave-cardiac-mri.yaml') as unknown as KubernetesObject & { spec: { resources: Record<string, unknown> } };
    delete doc.spec.resources.storage;
    await site.user.apply({ ...doc, metadata: { name: 'storage-short' } }, { fieldManager: 'test', force: true });
    const judged = await site.observer.until(() => {
      const c = ((site.observer.cache('Enclave').get('storage-short') as { status?: { conditions?: Condition[] } } | undefined)?.status?.conditions ?? []).find((x) => x.type === 'SpecValid');
      return c !== undefined;
    }, 8_000);
    expect(judged).toBe(true);
    const c = ((site.observer.cache('Enclave').get('storage-short') as { status?: { conditions?: Condition[] } }).status?.conditions ?? []).find((x) => x.type === 'SpecValid');
    expect(c?.reason).toBe('StorageAboveQuota');
    expect(c?.message).toContain('spec.resources.storage');
    expect(await site.user.get(Kinds.Namespace, 'sde-storage-short')).toBeUndefined();
  }, 20_000);
});
