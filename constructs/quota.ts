// What an enclave may consume: a ResourceQuota on its namespace and container defaults so that
// pods without requests still count against it.
import type { Construct } from 'constructs';
import { enclaveDatasets } from '../api/dataset-catalogue.ts';
import { enclaveNamespace } from '../api/enclave.ts';
import type { Enclave } from '../api/enclave.ts';
import type { SiteConfig } from '../api/siteconfig.ts';
import { GPU_RESOURCE } from './gpu.ts';
import { enclaveChildLabels } from './labels.ts';
import type { OwnerReference } from './objects.ts';
import { PlainApiObject } from './objects.ts';

export const QUOTA_NAME = 'enclave-quota';
export const LIMIT_RANGE_NAME = 'enclave-limits';
/** Pods beyond one per workspace, for federated-job participants and an aggregator. */
export const JOB_POD_ALLOWANCE = 8;

/** Container defaults applied by the LimitRange to a container that states no resources. */
export const CONTAINER_DEFAULTS = {
  limits: { cpu: '1', memory: '2Gi' },
  requests: { cpu: '250m', memory: '512Mi' },
} as const;

/**
 * Renders the quota (CPU and memory, requests and limits; storage, claims, pods; nvidia.com/gpu
 * requests)
 * and the LimitRange. Claims allow one home volume per workspace plus the claims of the volume
 * datasets the site catalogues for it; dataset claims count against requests.storage like any claim.
 */
export function addEnclaveQuota(scope: Construct, enclave: Enclave, site: SiteConfig, ownerReferences: OwnerReference[] | undefined): void {
  const namespace = enclaveNamespace(enclave.metadata.name);
  const labels = enclaveChildLabels(enclave, 'quota');
  const r = enclave.spec.resources;
  const volumeDatasets = enclaveDatasets(enclave.spec, site).filter((d) => d.kind === 'volume').length;
  new PlainApiObject(scope, 'quota', {
    apiVersion: 'v1',
    kind: 'ResourceQuota',
    metadata: { name: QUOTA_NAME, namespace, labels, ownerReferences },
    spec: {
      hard: {
        'requests.cpu': String(r.cpu),
        'limits.cpu': String(r.cpu),
        'requests.memory': String(r.memory),
        'limits.memory': String(r.memory),
        'requests.storage': String(r.storage),
        persistentvolumeclaims: String(r.maxWorkspaces + volumeDatasets),
        pods: String(r.maxWorkspaces + JOB_POD_ALLOWANCE),
        // Quota counts an extended resource by its requests only: a limits.nvidia.com/gpu key is
        // accepted and limits nothing (a 2-GPU pod was admitted under limits.nvidia.com/gpu: 1 on
        // kube-apiserver 1.23), and a GPU's request always equals its limit.
        [`requests.${GPU_RESOURCE}`]: String(r.gpus),
      },
    },
  });
  new PlainApiObject(scope, 'limits', {
    apiVersion: 'v1',
    kind: 'LimitRange',
    metadata: { name: LIMIT_RANGE_NAME, namespace, labels, ownerReferences },
    spec: {
      limits: [{ type: 'Container', default: { ...CONTAINER_DEFAULTS.limits }, defaultRequest: { ...CONTAINER_DEFAULTS.requests } }],
    },
  });
}
