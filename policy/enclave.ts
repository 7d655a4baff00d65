// Site rules for an Enclave: what the CRD schema cannot know because it depends on the site.
import { enclaveDatasets } from '../api/dataset-catalogue.ts';
import type { Enclave } from '../api/enclave.ts';
import type { SiteConfig } from '../api/siteconfig.ts';
import { parseQuantity } from '../api/quantity.ts';
import { cidrContains, isCidr } from '../api/cidr.ts';
import { checkGpus, checkImage } from './common.ts';
import type { Finding } from './findings.ts';
import { enclaveImageRule, narrowsSite } from './images.ts';

function checkEgress(enclave: Enclave, site: SiteConfig): Finding[] {
  const out: Finding[] = [];
  const allowedNames = site.allowedEgress.map((d) => `${d.name} ${d.cidr}`).join(', ') || 'none';
  enclave.spec.network.egress.forEach((rule, i) => {
    if (!isCidr(rule.cidr)) {
      out.push({ field: `spec.network.egress[${i}].cidr`, reason: 'InvalidCidr', message: `expected an IPv4 CIDR with octets 0-255 such as "10.20.0.0/24"; found ${rule.cidr}` });
      return;
    }
    const containing = site.allowedEgress.filter((d) => cidrContains(d.cidr, rule.cidr));
    if (containing.length === 0) {
      out.push({ field: `spec.network.egress[${i}].cidr`, reason: 'EgressNotAllowed', message: `expected a network inside a destination site ${site.site} allows (${allowedNames}); found ${rule.cidr}` });
      return;
    }
    rule.ports.forEach((p, j) => {
      if (containing.some((d) => d.ports.some((q) => q.port === p.port && q.protocol === p.protocol))) return;
      const open = [...new Set(containing.flatMap((d) => d.ports.map((q) => `${q.port}/${q.protocol}`)))].join(', ');
      out.push({ field: `spec.network.egress[${i}].ports[${j}]`, reason: 'EgressNotAllowed', message: `expected a port the site allows to ${rule.cidr} (${open}); found ${p.port}/${p.protocol}` });
    });
  });
  return out;
}

// Dataset volume claims count against the enclave's storage quota: if they cannot fit, the API
// server would refuse the claims and the enclave would never be provisioned.
function checkStorage(enclave: Enclave, site: SiteConfig): Finding[] {
  const volumes = enclaveDatasets(enclave.spec, site).filter((d) => d.kind === 'volume');
  const claimed = volumes.reduce((sum, d) => sum + parseQuantity(d.size), 0);
  const quota = parseQuantity(enclave.spec.resources.storage);
  if (claimed <= quota) return [];
  const sizes = volumes.map((d) => `${d.name} ${d.size}`).join(', ');
  return [{ field: 'spec.resources.storage', reason: 'StorageAboveQuota', message: `expected room for the dataset volumes (${sizes}); found a storage quota of ${enclave.spec.resources.storage}` }];
}

// An enclave names entries of the site's catalogue and only narrows them: a name the catalogue
// lacks, or a writable mount of an entry the catalogue keeps read-only, is refused.
function checkCatalogue(enclave: Enclave, site: SiteConfig): Finding[] {
  const known = site.datasets.map((d) => d.name).join(', ') || 'none';
  return enclave.spec.data.flatMap((ref, i): Finding[] => {
    const entry = site.datasets.find((d) => d.name === ref.name);
    if (entry === undefined) {
      return [{ field: `spec.data[${i}].name`, reason: 'DatasetNotInCatalogue', message: `expected a dataset of site ${site.site}'s catalogue (${known}); found "${ref.name}"` }];
    }
    if (ref.readOnly === false && (entry.kind !== 'volume' || entry.readOnly)) {
      return [{ field: `spec.data[${i}].readOnly`, reason: 'DatasetReadOnly', message: `expected true or nothing: site ${site.site}'s catalogue keeps "${ref.name}" (${entry.zone} ${entry.kind}) read-only, and an enclave can only narrow it; found false` }];
    }
    return [];
  });
}

// An enclave narrows the site's registries and never widens them: a prefix outside them is refused.
function checkAllowedImages(enclave: Enclave, site: SiteConfig): Finding[] {
  const registries = site.allowedRegistries.map((r) => `"${r}"`).join(', ');
  return enclave.spec.workspaces.allowedImages.flatMap((prefix, i) =>
    narrowsSite(prefix, site)
      ? []
      : [{ field: `spec.workspaces.allowedImages[${i}]`, reason: 'ImageNotAllowed', message: `expected a prefix within one of site ${site.site}'s registries (${registries}): an enclave narrows them and never widens them; found "${prefix}"` }],
  );
}

/**
 * Checks an enclave against its site: the site is this one; GPUs within the pool and of a
 * product it has; every dataset is an entry of the site's catalogue, writable only where the
 * catalogue lets it be, and its volumes fit the storage quota; every extra egress lies inside a destination the site allows, on ports it opens; every
 * allowed-image prefix lies within the site's registries; and an auto-provisioned workspace's
 * image and GPUs are allowed. Returns no findings when all hold.
 */
export function checkEnclave(enclave: Enclave, site: SiteConfig): Finding[] {
  const out: Finding[] = [];
  const spec = enclave.spec;
  if (spec.site !== site.site) {
    out.push({ field: 'spec.site', reason: 'SiteMismatch', message: `expected this site, "${site.site}"; found "${spec.site}"` });
  }
  if (spec.resources.gpus > site.gpuPool.totalGpus) {
    out.push({ field: 'spec.resources.gpus', reason: 'GpusAbovePool', message: `expected at most the ${site.gpuPool.totalGpus} GPU(s) of site ${site.site}'s pool; found ${spec.resources.gpus}` });
  }
  if (spec.resources.gpuProduct !== undefined && !site.gpuPool.products.includes(spec.resources.gpuProduct)) {
    out.push({ field: 'spec.resources.gpuProduct', reason: 'GpuProductUnavailable', message: `expected a product of site ${site.site}'s GPU pool (${site.gpuPool.products.join(', ')}); found "${spec.resources.gpuProduct}"` });
  }
  out.push(...checkCatalogue(enclave, site), ...checkEgress(enclave, site), ...checkStorage(enclave, site), ...checkAllowedImages(enclave, site));
  const auto = spec.workspaces.autoProvision;
  if (auto !== undefined) {
    out.push(...checkImage(auto.image ?? site.images[auto.tool], 'spec.workspaces.autoProvision.image', enclaveImageRule(enclave, site)));
    out.push(...checkGpus(auto.resources, 'spec.workspaces.autoProvision.resources', enclave, site));
  }
  return out;
}
