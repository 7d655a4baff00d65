// FederatedJob: this site's part of a federated learning run (NVIDIA FLARE or Flower).
import { z } from 'zod';
import { API_VERSION, conditions, dnsLabel, gpuProduct, objectMeta, podGpus, quantity, secretRef, timestamp, unique } from './meta.ts';

export const FRAMEWORKS = ['nvflare', 'flower'] as const;
export type Framework = (typeof FRAMEWORKS)[number];

/** FederatedJob.spec: the run as all sites share it, plus this site's participant. */
export const federatedJobSpec = z.object({
  framework: z.enum(FRAMEWORKS).describe('nvflare (NVIDIA FLARE) or flower.'),
  aggregator: z
    .object({
      endpoint: dnsLabel.describe('Name of the aggregator endpoint in the site configuration; the participants\' only egress.'),
      site: dnsLabel.describe('The site that hosts the aggregator; that site\'s operator also runs it.'),
      caSecretRef: secretRef.optional().describe('Secret with the federation\'s CA and this site\'s client certificate.'),
      image: z.string().min(1).max(512).optional().describe('Aggregator (server) image, used by the hosting site; the participant image when omitted.'),
    })
    .describe('The aggregator (FL server) the participants report to.'),
  sites: z
    .array(dnsLabel)
    .min(1, { message: 'must name at least one site' })
    .max(64)
    .meta({ 'x-kubernetes-list-type': 'set' })
    .superRefine(unique((site) => site))
    .describe('Sites taking part; each site\'s operator acts only if its own site is listed.'),
  participant: z
    .object({
      image: z.string().min(1).max(512).describe('Participant (FL client) image; must match the enclave\'s allowed images.'),
      command: z.array(z.string().max(4096)).max(64).optional().describe('Entrypoint override.'),
      args: z.array(z.string().max(4096)).max(256).optional().describe('Arguments.'),
      env: z
        .array(z.object({ name: z.string().min(1).max(253).describe('Variable name.'), value: z.string().max(32768).default('').describe('Value.') }))
        .max(128)
        .optional()
        .describe('Extra environment; the operator adds the framework\'s own (aggregator address, site name).'),
      resources: z
        .object({
          cpu: quantity('CPU request and limit.').default('4'),
          memory: quantity('Memory request and limit.').default('32Gi'),
          gpus: podGpus,
          gpuProduct: gpuProduct.optional(),
        })
        .prefault({})
        .describe('Compute per participant pod.'),
      datasets: z.array(dnsLabel).max(64).superRefine(unique((name) => name)).default([]).meta({ 'x-kubernetes-list-type': 'set' }).describe('Enclave datasets to mount read-only at /data/<name>.'),
    })
    .describe('This site\'s training process.'),
  rounds: z.int().min(1, { message: 'must be at least 1' }).max(100000).default(1).describe('Federated rounds to train.'),
  backoffLimit: z.int().min(0).max(100).default(2).describe('Retries of a failed participant before the run fails at this site.'),
  activeDeadlineSeconds: z.int().min(1).optional().describe('Longest the participant may run.'),
});

const siteStatus = z.object({
  site: z.string().describe('Site name.'),
  phase: z.enum(['Pending', 'Running', 'Succeeded', 'Failed', 'Suspended']).describe('Phase of this site\'s participant.'),
  startTime: timestamp('When the participant started.').optional(),
  completionTime: timestamp('When it finished.').optional(),
  failures: z.int().nonnegative().optional().describe('Failed participant pods.'),
});

/** FederatedJob.status, written by the operator only. */
export const federatedJobStatus = z.object({
  phase: z.enum(['Pending', 'Running', 'Succeeded', 'Failed', 'Suspended', 'NotThisSite']).optional().describe('Summary for the printer column.'),
  observedGeneration: z.int().nonnegative().optional().describe('The metadata.generation the status reflects.'),
  sites: z.array(siteStatus).optional().meta({ 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['site'] }).describe('Per-site progress, as far as this site knows it.'),
  conditions: conditions.optional(),
});

export const federatedJob = z.object({
  apiVersion: z.literal(API_VERSION),
  kind: z.literal('FederatedJob'),
  metadata: objectMeta,
  spec: federatedJobSpec,
  status: federatedJobStatus.optional(),
});

export type FederatedJobSpec = z.output<typeof federatedJobSpec>;
export type FederatedJobStatus = z.output<typeof federatedJobStatus>;
export type FederatedJob = z.output<typeof federatedJob>;
