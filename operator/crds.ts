// The API's CustomResourceDefinitions put on a cluster: those its release accepts, applied
// server-side, then waited for until each is Established. For the demo, the tests and the
// benchmarks; a site installs them with the chart, its Pulumi stack or `kubectl apply`.
import { setTimeout as sleep } from 'node:timers/promises';
import type { KubernetesObject } from '@kubernetes/client-node';
import { allCustomResourceDefinitions } from '../api/crd.ts';
import { atLeast, parseKubernetesVersion } from '../api/kubernetes-version.ts';
import { findCondition, Kinds, type Condition, type KubeClient } from './runtime/index.ts';

type Crd = KubernetesObject & { status?: { conditions?: Condition[] } };

/**
 * Applies the CustomResourceDefinitions the server's release accepts (the project's own
 * `crds --kubernetes-version` rendering before 1.28, crds/ from then on) with `fieldManager`, and
 * resolves once each is Established, with the server's `/version` answer it went by; throws when
 * one is not within `timeoutMs`.
 */
export async function installCustomResourceDefinitions(client: KubeClient, fieldManager: string, timeoutMs = 60_000): Promise<Awaited<ReturnType<KubeClient['serverVersion']>>> {
  const version = await client.serverVersion();
  const release = parseKubernetesVersion(version);
  const crds = allCustomResourceDefinitions(atLeast(release, 1, 28) ? {} : { kubernetesVersion: release });
  for (const { crd } of crds) await client.apply(crd as KubernetesObject, { fieldManager, force: true });
  const deadline = Date.now() + timeoutMs;
  for (const { crd } of crds) {
    const name = (crd.metadata as { name: string }).name;
    for (;;) {
      const live = (await client.get(Kinds.CustomResourceDefinition, name)) as Crd | undefined;
      if (findCondition(live?.status?.conditions, 'Established')?.status === 'True') break;
      if (Date.now() > deadline) throw new Error(`expected CustomResourceDefinition ${name} to be Established within ${timeoutMs / 1000} s, but it is not`);
      await sleep(100);
    }
  }
  return version;
}
