// A cache of labelled objects holds all of them on a real API server. kube-apiserver 1.23 drops
// objects from a paged list with a label selector read from etcd (kubernetes/kubernetes#111488):
// at 1,000 enclaves the operator's caches held 504 of 1,000 namespaces after a resync, and it
// re-applied what it could not see, for ever. The Reflector now lists as client-go's informers do.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KubeClient } from '../../operator/runtime/index.ts';
import { Kinds, Reflector, resourceType } from '../../operator/runtime/index.ts';
import { connect, kubeconfigPath } from './harness.ts';

const NAMESPACE = `paged-${Date.now().toString(36)}`;
const LABEL = 'sde.test/paged';
const LABELLED = 1_000;
const PAGE = 500;

describe.skipIf(!kubeconfigPath)('a labelled cache on the cluster in KUBECONFIG', () => {
  let client: KubeClient;

  beforeAll(async () => {
    ({ client } = connect());
    await client.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NAMESPACE } });
    // A few unlabelled objects sort first, then more labelled ones than one page holds.
    const objects = [
      ...Array.from({ length: 4 }, (_, i) => ({ name: `a-${i}`, labels: {} })),
      ...Array.from({ length: LABELLED }, (_, i) => ({ name: `b-${String(i).padStart(4, '0')}`, labels: { [LABEL]: 'yes' } })),
    ];
    for (let i = 0; i < objects.length; i += 32) {
      await Promise.all(objects.slice(i, i + 32).map(({ name, labels }) => client.apply({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: NAMESPACE, labels } })));
    }
  }, 180_000);

  afterAll(async () => {
    await client?.delete({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NAMESPACE } });
  });

  it(`holds all ${LABELLED} labelled ConfigMaps when they span more than one page of ${PAGE}`, async () => {
    const type = Object.freeze({ ...resourceType('v1', 'ConfigMap', 'configmaps', true), labelSelector: `${LABEL}=yes` });
    const reflector = new Reflector({ client, type, namespace: NAMESPACE, pageSize: PAGE });
    reflector.start();
    try {
      await reflector.cache.whenSynced();
      // What the same list read from etcd page by page gives on this server, for the record.
      let fromEtcd = 0;
      let continueToken: string | undefined;
      do {
        const page = await client.list(Kinds.ConfigMap, { namespace: NAMESPACE, labelSelector: `${LABEL}=yes`, limit: PAGE, ...(continueToken ? { continueToken } : {}) });
        fromEtcd += page.items.length;
        continueToken = page.continue;
      } while (continueToken);
      console.log(`paged list from etcd: ${fromEtcd} of ${LABELLED}; the Reflector's cache: ${reflector.cache.list({ namespace: NAMESPACE }).length}`);
      expect(reflector.cache.list({ namespace: NAMESPACE }).length).toBe(LABELLED);
    } finally {
      await reflector.stop();
    }
  }, 60_000);
});
