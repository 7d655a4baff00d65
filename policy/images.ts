// Which container images an enclave may run.
import type { Enclave } from '../api/enclave.ts';
import type { SiteConfig } from '../api/siteconfig.ts';

/** The image prefixes workspaces may use: the enclave's allowedImages, or the site's allowed registries when it names none. */
export function workspaceImagePrefixes(enclave: Enclave, site: SiteConfig): string[] {
  return enclave.spec.workspaces.allowedImages.length > 0 ? enclave.spec.workspaces.allowedImages : site.allowedRegistries;
}

/**
 * The image prefixes federated-job pods may use: the enclave's workspace images and the site's
 * allowed registries, since FL frameworks ship their own images (e.g. nvcr.io/nvidia/) that a
 * workspace list would not name.
 */
export function jobImagePrefixes(enclave: Enclave, site: SiteConfig): string[] {
  return [...new Set([...enclave.spec.workspaces.allowedImages, ...site.allowedRegistries])];
}

/** True when the image starts with one of the prefixes. */
export function imageAllowed(image: string, prefixes: readonly string[]): boolean {
  return prefixes.some((p) => image.startsWith(p));
}
