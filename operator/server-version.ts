// The operator refuses, in one line, an API server older than the releases it supports.
import { atLeast, formatKubernetesVersion, MINIMUM_KUBERNETES, parseKubernetesVersion, type KubernetesVersion } from '../api/kubernetes-version.ts';
import type { KubeClient } from './runtime/index.ts';

/** The API server is older than {@link MINIMUM_KUBERNETES}: nothing the operator would write is safe there. */
export class UnsupportedKubernetesError extends Error {
  override readonly name = 'UnsupportedKubernetesError';
}

/**
 * Reads the server's version and returns it; throws {@link UnsupportedKubernetesError} when it is
 * older than the minimum (an enclave's Pod Security labels would be ignored there).
 */
export async function requireSupportedServer(client: KubeClient): Promise<KubernetesVersion> {
  const answer = await client.serverVersion();
  const version = parseKubernetesVersion(answer);
  if (!atLeast(version, MINIMUM_KUBERNETES.major, MINIMUM_KUBERNETES.minor)) {
    const server = client.kubeConfig.getCurrentCluster()?.server ?? 'the API server';
    throw new UnsupportedKubernetesError(
      `expected Kubernetes ${formatKubernetesVersion(MINIMUM_KUBERNETES)} or later, but ${server} runs ${answer.gitVersion ?? formatKubernetesVersion(version)}; the operator does not start there`,
    );
  }
  return version;
}
