// Rules shared by workspaces and federated jobs: namespace, datasets, GPUs and images.
import { enclaveDatasets } from '../api/dataset-catalogue.ts';
import { enclaveNamespace } from '../api/enclave.ts';
import type { Enclave } from '../api/enclave.ts';
import type { SiteConfig } from '../api/siteconfig.ts';
import type { Finding } from './findings.ts';
import { imageAllowed, type ImageRule } from './images.ts';

/** A namespaced custom resource must live in its enclave's namespace. */
export function checkNamespace(namespace: string | undefined, enclave: Enclave): Finding[] {
  const expected = enclaveNamespace(enclave.metadata.name);
  if (namespace === undefined || namespace === expected) return [];
  return [{ field: 'metadata.namespace', reason: 'NamespaceMismatch', message: `expected the namespace of enclave ${enclave.metadata.name}, "${expected}"; found "${namespace}"` }];
}

/** Every named dataset must be one of the enclave's that the site catalogues. */
export function checkDatasets(names: readonly string[], field: string, enclave: Enclave, site: SiteConfig): Finding[] {
  const known = enclaveDatasets(enclave.spec, site).map((d) => d.name);
  return names.flatMap((name, i) =>
    known.includes(name)
      ? []
      : [{ field: `${field}[${i}]`, reason: 'UnknownDataset' as const, message: `expected one of the enclave's datasets (${known.join(', ') || 'none'}); found "${name}"` }],
  );
}

/** A pod's GPUs fit within the enclave's total, and its product is one the site's pool has. */
export function checkGpus(request: { gpus: number; gpuProduct?: string | undefined }, field: string, enclave: Enclave, site: SiteConfig): Finding[] {
  const out: Finding[] = [];
  if (request.gpus > enclave.spec.resources.gpus) {
    out.push({ field: `${field}.gpus`, reason: 'GpusAboveEnclave', message: `expected at most the enclave's ${enclave.spec.resources.gpus} GPU(s); found ${request.gpus}` });
  }
  if (request.gpuProduct !== undefined && !site.gpuPool.products.includes(request.gpuProduct)) {
    out.push({ field: `${field}.gpuProduct`, reason: 'GpuProductUnavailable', message: `expected a product of site ${site.site}'s GPU pool (${site.gpuPool.products.join(', ')}); found "${request.gpuProduct}"` });
  }
  return out;
}

/** The image must be under one of the site's registries and, when the enclave names any, one of its allowed images. */
export function checkImage(image: string, field: string, rule: ImageRule): Finding[] {
  if (imageAllowed(image, rule)) return [];
  const quoted = (prefixes: readonly string[]): string => prefixes.map((p) => `"${p}"`).join(', ');
  const enclave = rule.enclave.length > 0 ? ` and one of the enclave's allowed images (${quoted(rule.enclave)})` : '';
  return [{ field, reason: 'ImageNotAllowed', message: `expected an image under one of the site's registries (${quoted(rule.site)})${enclave}; found "${image}"` }];
}
