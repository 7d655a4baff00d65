// Rules shared by workspaces and federated jobs: namespace, datasets, GPUs and images.
import { enclaveNamespace } from '../api/enclave.ts';
import type { Enclave } from '../api/enclave.ts';
import type { SiteConfig } from '../api/siteconfig.ts';
import type { Finding } from './findings.ts';
import { imageAllowed } from './images.ts';

/** A namespaced custom resource must live in its enclave's namespace. */
export function checkNamespace(namespace: string | undefined, enclave: Enclave): Finding[] {
  const expected = enclaveNamespace(enclave.metadata.name);
  if (namespace === undefined || namespace === expected) return [];
  return [{ field: 'metadata.namespace', reason: 'NamespaceMismatch', message: `expected the namespace of enclave ${enclave.metadata.name}, "${expected}"; found "${namespace}"` }];
}

/** Every named dataset must be one of the enclave's. */
export function checkDatasets(names: readonly string[], field: string, enclave: Enclave): Finding[] {
  const known = enclave.spec.data.map((d) => d.name);
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

/** The image must start with one of the allowed prefixes. */
export function checkImage(image: string, field: string, prefixes: readonly string[]): Finding[] {
  if (imageAllowed(image, prefixes)) return [];
  return [{ field, reason: 'ImageNotAllowed', message: `expected an image starting with one of ${prefixes.map((p) => `"${p}"`).join(', ')}; found "${image}"` }];
}
