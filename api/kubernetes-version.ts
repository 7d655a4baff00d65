// Which Kubernetes releases the API and the operator support, and what each release can be given.

/** A Kubernetes release as major.minor (the patch level never changes what the API server accepts here). */
export interface KubernetesVersion {
  major: number;
  minor: number;
}

/** The oldest release the operator runs against: Pod Security admission (beta, on by default) came in 1.23. */
export const MINIMUM_KUBERNETES: KubernetesVersion = { major: 1, minor: 23 };

/** The releases the project tests on: 1.23 (../shared/kubernetes, the real-cluster tier) and the devcluster, which serves today's CRD fields. */
export const TESTED_KUBERNETES = ['1.23'] as const;

/** Bad `--kubernetes-version` input or an unreadable server version. */
export class KubernetesVersionError extends Error {
  override readonly name = 'KubernetesVersionError';
}

/**
 * Reads "1.23", "v1.23.0", "1.23+" (as managed clusters report their minor) or the `/version`
 * answer's `{major, minor}`. Throws {@link KubernetesVersionError} naming what it found.
 */
export function parseKubernetesVersion(value: string | { major?: string; minor?: string }): KubernetesVersion {
  const text = typeof value === 'string' ? value : `${value.major ?? ''}.${value.minor ?? ''}`;
  const match = /^v?(\d+)\.(\d+)\+?(?:\.\d+)?(?:[-+].*)?$/.exec(text.trim());
  if (!match) throw new KubernetesVersionError(`expected a Kubernetes version like 1.23 or v1.23.0, but found "${text}"`);
  return { major: Number(match[1]), minor: Number(match[2]) };
}

/** True when `version` is `major.minor` or later. */
export function atLeast(version: KubernetesVersion, major: number, minor: number): boolean {
  return version.major > major || (version.major === major && version.minor >= minor);
}

/** "1.23". */
export function formatKubernetesVersion(version: KubernetesVersion): string {
  return `${version.major}.${version.minor}`;
}
