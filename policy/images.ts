// Which container images an enclave may run: the site's registries, narrowed by the enclave.
import type { Enclave } from '../api/enclave.ts';
import type { SiteConfig } from '../api/siteconfig.ts';

/**
 * What an image must match, in two layers that must both hold: one of the site's allowed
 * registries (the trust's hard boundary) and, when the enclave names any, one of its allowed
 * images. An enclave's list narrows the site's and can never widen it: `docker.io/` in it lets
 * nothing from docker.io run at a site that does not allow that registry.
 */
export interface ImageRule {
  site: readonly string[];
  enclave: readonly string[];
}

/** The rule for every pod of `enclave`: workspaces, auto-provisioned workspaces and federated-job participants and aggregators alike. */
export function enclaveImageRule(enclave: Enclave, site: SiteConfig): ImageRule {
  return { site: site.allowedRegistries, enclave: enclave.spec.workspaces.allowedImages };
}

/** True when the image starts with one of the site's prefixes and, if the enclave names any, one of the enclave's. */
export function imageAllowed(image: string, rule: ImageRule): boolean {
  const within = (prefixes: readonly string[]): boolean => prefixes.some((p) => image.startsWith(p));
  return within(rule.site) && (rule.enclave.length === 0 || within(rule.enclave));
}

/**
 * True when an enclave's allowed-image prefix lies inside one of the site's registries, so that
 * it narrows them. A prefix shorter than every site registry (e.g. `nexus.sde.uclh.nhs.uk` for
 * the site's `nexus.sde.uclh.nhs.uk/`) still admits only images both lists allow, but says more
 * than the site does; it is refused so that the enclave's list reads as what it can run.
 */
export function narrowsSite(prefix: string, site: SiteConfig): boolean {
  return site.allowedRegistries.some((registry) => prefix.startsWith(registry));
}
