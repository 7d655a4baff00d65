// Compute and placement of a pod on the site's nodes: the one place that knows the NVIDIA
// device plugin's resource, the DGX pool's product label, taint and RuntimeClass.
import type { V1Affinity, V1ResourceRequirements, V1Toleration } from '@kubernetes/client-node';
import type { SiteConfig } from '../api/siteconfig.ts';

/** The NVIDIA device plugin's extended resource. */
export const GPU_RESOURCE = 'nvidia.com/gpu';
/** The node label GPU feature discovery sets on nodes with NVIDIA GPUs. */
export const GPU_PRESENT_LABEL = 'nvidia.com/gpu.present';

/** What a workload asks for: CPU and memory quantities, GPUs and optionally a product. */
export interface ComputeRequest {
  cpu: string | number;
  memory: string | number;
  gpus: number;
  gpuProduct?: string | undefined;
}

/** The pod spec fields that decide where a pod runs and what it may use. */
export interface Placement {
  resources: V1ResourceRequirements;
  nodeSelector?: Record<string, string>;
  tolerations?: V1Toleration[];
  runtimeClassName?: string;
  affinity?: V1Affinity;
}

/**
 * Resources and scheduling for one pod. With GPUs: the nvidia.com/gpu limit (and equal request),
 * a node selector for the product, the pool's toleration and RuntimeClass. Without: no GPU
 * resource, no toleration, and a required node affinity that keeps the pod off GPU nodes.
 * CPU and memory requests equal limits (Guaranteed QoS, so a researcher's pod is never evicted first).
 */
export function placement(request: ComputeRequest, site: SiteConfig, enclaveProduct?: string): Placement {
  const cpu = String(request.cpu);
  const memory = String(request.memory);
  if (request.gpus <= 0) {
    return {
      resources: { requests: { cpu, memory }, limits: { cpu, memory } },
      affinity: {
        nodeAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: {
            nodeSelectorTerms: [
              {
                matchExpressions: [
                  { key: GPU_PRESENT_LABEL, operator: 'NotIn', values: ['true'] },
                  { key: site.gpuPool.productLabel, operator: 'DoesNotExist' },
                ],
              },
            ],
          },
        },
      },
    };
  }
  const gpus = String(request.gpus);
  const product = request.gpuProduct ?? enclaveProduct ?? site.gpuPool.defaultProduct;
  const { key, value, effect } = site.gpuPool.taint;
  return {
    resources: { requests: { cpu, memory, [GPU_RESOURCE]: gpus }, limits: { cpu, memory, [GPU_RESOURCE]: gpus } },
    nodeSelector: { [site.gpuPool.productLabel]: product },
    tolerations: [{ key, operator: 'Equal', value, effect }],
    ...(site.gpuPool.runtimeClassName ? { runtimeClassName: site.gpuPool.runtimeClassName } : {}),
  };
}
