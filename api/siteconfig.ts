// SiteConfig: one trust's site as the operator, the constructs and the Pulumi stack see it.
// A configuration file kind (like KubeletConfiguration), not a CRD: the stack writes it into a
// ConfigMap and the operator reads it with --site-config.
import { z } from 'zod';
import { cidr, ipv4Address } from './cidr.ts';
import { checkCatalogueServices, datasetCatalogue, SERVICE_KINDS } from './dataset-catalogue.ts';
import { API_VERSION, dnsLabel, gpuProduct } from './meta.ts';
import { duration } from './duration.ts';
import { checkMirrorIndexes, mirrorIndexes, oneMirrorPerEcosystem } from './package-mirror.ts';

const port = z.object({
  port: z.int().min(1).max(65535).describe('Port number.'),
  protocol: z.enum(['TCP', 'UDP']).default('TCP').describe('TCP or UDP.'),
});

/** A network destination outside the cluster's pods: what a NetworkPolicy ipBlock can name. */
export const destination = z.object({
  name: dnsLabel.describe('Name enclaves and jobs refer to.'),
  host: z.string().min(1).max(253).optional().describe('Host name clients use (informational; policies use the CIDR).'),
  cidr: cidr.describe('Addresses of the destination, as the NetworkPolicy ipBlock names them.'),
  ports: z.array(port).min(1).max(32).describe('Ports open on the destination.'),
});

/** A package mirror: a destination that names the index each package ecosystem's tools use on it. */
export const packageMirror = destination
  .extend({ indexes: mirrorIndexes.optional().describe('Index URL per ecosystem (pypi, conda, cran, npm), each https on the mirror\'s host; workspaces and federated-job participants are pointed at them.') })
  .superRefine(checkMirrorIndexes);

const labels = z.record(z.string(), z.string());

/** The site configuration's fields, each checked on its own; the site stack builds its configuration from them. */
export const siteConfigFields = z.object({
  apiVersion: z.literal(API_VERSION),
  kind: z.literal('SiteConfig'),
  site: dnsLabel.describe('Site (trust) name; the operator acts only on enclaves for this site.'),
  displayName: z.string().min(1).max(200).optional().describe('Trust name for people, e.g. "University College London Hospitals".'),
  gpuPool: z
    .object({
      productLabel: z.string().default('nvidia.com/gpu.product').describe('Node label naming the GPU product (set by GPU feature discovery).'),
      defaultProduct: gpuProduct.default('NVIDIA-A100-SXM4-80GB'),
      products: z.array(gpuProduct).min(1).default(['NVIDIA-A100-SXM4-80GB']).describe('GPU products the pool has.'),
      totalGpus: z.int().min(0).default(16).describe('GPUs in the pool; no enclave may be granted more.'),
      taint: z
        .object({
          key: z.string().default('nvidia.com/gpu'),
          value: z.string().default('present'),
          effect: z.enum(['NoSchedule', 'NoExecute', 'PreferNoSchedule']).default('NoSchedule'),
        })
        .prefault({})
        .describe('Taint on the DGX nodes; only GPU pods tolerate it.'),
      runtimeClassName: dnsLabel.optional().describe('RuntimeClass for GPU pods (e.g. "nvidia") when the site uses one.'),
      nodes: z.array(dnsLabel).default([]).describe('DGX node names, for the site stack to label and taint.'),
    })
    .prefault({})
    .describe('The DGX A100 GPU pool.'),
  dns: z
    .object({
      namespace: dnsLabel.default('kube-system'),
      podLabels: labels.default({ 'k8s-app': 'kube-dns' }),
      port: z.int().min(1).max(65535).default(53),
    })
    .prefault({})
    .describe('The cluster DNS service enclaves may query.'),
  gateway: z
    .object({
      namespace: dnsLabel.default('sde-gateway'),
      podLabels: labels.default({ 'app.kubernetes.io/name': 'sde-gateway' }),
    })
    .prefault({})
    .describe('The workspace gateway (authenticating reverse proxy): the only source allowed to reach workspaces.'),
  packageMirrors: z.array(packageMirror).superRefine(oneMirrorPerEcosystem).default([]).describe('The site\'s approved package mirrors (e.g. Nexus for PyPI, CRAN, conda), at most one per ecosystem.'),
  datasets: datasetCatalogue,
  dataServices: z
    .array(destination.extend({ kind: z.enum(SERVICE_KINDS).describe('database (OMOP), imaging (XNAT), search (CogStack).') }))
    .default([])
    .describe('Data services the catalogue\'s database, imaging and search datasets live in.'),
  aggregators: z
    .array(
      destination.extend({
        kitSecret: dnsLabel
          .optional()
          .describe('The Secret each enclave namespace holds with this federation\'s CA and the site\'s client certificate (its startup kit): the only Secret a FederatedJob for this aggregator may mount. None may be mounted when omitted.'),
      }),
    )
    .default([])
    .describe('Federated learning aggregators FederatedJobs may name.'),
  peerSites: z
    .array(z.object({ name: dnsLabel.describe('Site (trust) name as FederatedJobs list it.'), cidr: cidr.describe('Addresses that site\'s federated-learning participants connect from.') }))
    .optional()
    .describe('Other sites\' source addresses: the only sources outside this site allowed to reach an aggregator hosted here.'),
  allowedEgress: z.array(destination).default([]).describe('Extra destinations enclaves may request in network.egress.'),
  allowedRegistries: z.array(z.string().min(1)).min(1).default(['nvcr.io/', 'quay.io/jupyter/', 'docker.io/rocker/', 'docker.io/codercom/']).describe('Image prefixes workspaces and jobs may use when the enclave names none.'),
  images: z
    .object({
      jupyterlab: z.string().default('quay.io/jupyter/scipy-notebook:2025-01-06'),
      rstudio: z.string().default('docker.io/rocker/rstudio:4.4.2'),
      vscode: z.string().default('docker.io/codercom/code-server:4.96.2'),
    })
    .prefault({})
    .describe('Default image per tool.'),
  storageClass: z.string().min(1).default('standard').describe('Storage class for home volumes and scratch claims.'),
  groups: z.record(z.string(), z.array(z.string())).optional().describe('Group membership the site can resolve, for auto-provisioning a workspace per user of a member group.'),
  isolation: z
    .object({
      onDrift: z
        .enum(['report', 'revert'])
        .default('report')
        .describe('What the operator does with a foreign object that opens a path or grants a permission beyond an enclave\'s spec: report it (a False condition, a Warning Event, a metric) or also delete it. Its own objects are always put back.'),
      gateWorkspaces: z.boolean().default(false).describe('Whether workspaces and federated jobs are stopped, and not started, while their enclave\'s NetworkIsolated or AccessIsolated is False.'),
      period: duration('How often every enclave\'s isolation is evaluated in full, besides on watch events.').default('10m'),
      probes: z
        .object({
          image: z.string().min(1).describe('Image of the probe Job: a shell with nc (BusyBox will do), from the site\'s registries.'),
          canary: z
            .object({
              ip: ipv4Address.describe('An address outside every destination an enclave may reach: the probe expects it closed.'),
              port: z.int().min(1).max(65535).default(443),
            })
            .describe('The address the probe expects to be closed.'),
          period: duration('How often each enclave is probed.').default('1h'),
          podAnnotations: labels.default({}).describe('Annotations on each probe pod, such as a sidecar injector\'s opt-out.'),
        })
        .optional()
        .describe('Probe Jobs that try the network from inside each enclave, on clusters whose CNI enforces NetworkPolicies; none when omitted.'),
    })
    .prefault({})
    .describe('The isolation monitor: each enclave\'s live network policies, Pod Security labels and members\' permissions checked against its spec.'),
  expiryWarning: duration('How long before expiry members are warned (Event and condition).').default('168h'),
});

/** The site configuration file (`kind: SiteConfig`): its fields, and the catalogue's data services found among the site's. */
export const siteConfig = siteConfigFields.superRefine(checkCatalogueServices);

export type SiteConfig = z.output<typeof siteConfig>;
export type Destination = z.output<typeof destination>;
export type PackageMirror = z.output<typeof packageMirror>;
