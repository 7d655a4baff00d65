// Installing the API's CustomResourceDefinitions on a cluster (operator/crds.ts): on the dev
// cluster, and against a server that never establishes them.
import { KubeConfig, type KubernetesObject } from '@kubernetes/client-node';
import { afterEach, describe, expect, it } from 'vitest';
import { allCustomResourceDefinitions } from '../../api/crd.ts';
import { startDevCluster, type DevCluster } from '../../devcluster/index.ts';
import { installCustomResourceDefinitions } from '../../operator/crds.ts';
import { Kinds, KubeClient } from '../../operator/runtime/index.ts';

let cluster: DevCluster | undefined;

afterEach(async () => {
  await cluster?.stop();
  cluster = undefined;
});

describe('installCustomResourceDefinitions', () => {
  it('applies every CRD the server\'s release takes, and returns once each is Established', async () => {
    cluster = await startDevCluster({ simulate: false });
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromFile(cluster.kubeconfigPath);
    const client = new KubeClient(kubeConfig);
    expect((await installCustomResourceDefinitions(client, 'crd-test')).gitVersion).toMatch(/devcluster/);
    for (const { crd } of allCustomResourceDefinitions()) {
      const live = (await client.get(Kinds.CustomResourceDefinition, (crd.metadata as { name: string }).name)) as KubernetesObject & { spec?: unknown; status?: { conditions?: { type: string; status: string }[] } };
      expect(live?.status?.conditions?.find((c) => c.type === 'Established')?.status).toBe('True');
      expect(live?.spec).toEqual(crd.spec);
    }
  });

  it('applies the 1.23 rendering to a 1.23 server, and says which CRD is not Established in time', async () => {
    const applied: string[] = [];
    const server = {
      serverVersion: async () => ({ major: '1', minor: '23', gitVersion: 'v1.23.0' }),
      apply: async (object: KubernetesObject) => (applied.push(JSON.stringify(object)), object),
      get: async (_type: unknown, name: string) => ({ metadata: { name }, status: { conditions: [{ type: 'NamesAccepted', status: 'True' }] } }),
    } as unknown as KubeClient;
    await expect(installCustomResourceDefinitions(server, 'crd-test', 300)).rejects.toThrow(/expected CustomResourceDefinition enclaves\.sde\.london to be Established within 0\.3 s/);
    expect(applied).toEqual(allCustomResourceDefinitions({ kubernetesVersion: { major: 1, minor: 23 } }).map(({ crd }) => JSON.stringify(crd)));
  });
});
