// GPU support on a site's DGX pool: the NVIDIA device plugin (which makes `nvidia.com/gpu` a
// schedulable resource), the RuntimeClass GPU pods name when the site uses one, and the labels
// and taint the site stack puts on DGX nodes so that only GPU pods land there.
import { ApiObject, App, Chart } from 'cdk8s';
import type { SiteConfig } from '../../api/siteconfig.ts';
import type { KubeObject } from '../objects.ts';

/** The device plugin image, pinned: v0.17.0 supports the A100 (MIG included) on containerd. */
export const DEVICE_PLUGIN_IMAGE = 'nvcr.io/nvidia/k8s-device-plugin:v0.17.0';
/** Namespace of the device plugin; it mounts the kubelet's socket directory, so it cannot be `restricted`. */
export const DEVICE_PLUGIN_NAMESPACE = 'nvidia-device-plugin';
/** Node label every GPU node carries (set by the site stack and by GPU feature discovery). */
export const GPU_NODE_LABEL = 'nvidia.com/gpu.present';
/** The container runtime handler the NVIDIA Container Toolkit registers with containerd. */
export const NVIDIA_RUNTIME_HANDLER = 'nvidia';

/** A node taint, as the site's GPU pool declares it. */
export interface NodeTaint {
  key: string;
  value: string;
  effect: 'NoSchedule' | 'NoExecute' | 'PreferNoSchedule';
}

/**
 * The labels the site stack puts on each listed DGX node: the GPU marker, and the product label
 * when the pool has a single product (with several, GPU feature discovery must tell them apart).
 */
export function gpuNodeLabels(site: SiteConfig): Record<string, string> {
  const pool = site.gpuPool;
  const only = pool.products.length === 1 ? pool.products[0] : undefined;
  return { [GPU_NODE_LABEL]: 'true', ...(only === undefined ? {} : { [pool.productLabel]: only }) };
}

/** The taint on each listed DGX node: the pool's own, which only GPU pods tolerate. */
export function gpuNodeTaint(site: SiteConfig): NodeTaint {
  return { ...site.gpuPool.taint };
}

/**
 * The toleration of the pool taint, for pods that must run on DGX nodes. Exact on key, value and
 * effect, so a pod tolerating it tolerates nothing else.
 */
export function poolToleration(site: SiteConfig): Record<string, string> {
  const t = site.gpuPool.taint;
  return { key: t.key, operator: 'Equal', value: t.value, effect: t.effect };
}

/**
 * The device plugin's namespace and DaemonSet, and the RuntimeClass when the site names one.
 * The DaemonSet runs only on nodes labelled {@link GPU_NODE_LABEL}=true and tolerates the pool taint.
 */
export function renderGpuSupport(site: SiteConfig): KubeObject[] {
  const chart = new Chart(new App(), 'sde-gpu-support', { disableResourceNameHashes: true });
  const labels = { 'app.kubernetes.io/name': 'nvidia-device-plugin', 'app.kubernetes.io/part-of': 'sde-enclave-operator' };
  const runtimeClassName = site.gpuPool.runtimeClassName;
  const objects: KubeObject[] = [
    {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: {
        name: DEVICE_PLUGIN_NAMESPACE,
        labels: {
          ...labels,
          // hostPath to /var/lib/kubelet/device-plugins is forbidden by baseline and restricted.
          'pod-security.kubernetes.io/enforce': 'privileged',
          'pod-security.kubernetes.io/warn': 'restricted',
        },
      },
    },
  ];
  if (runtimeClassName !== undefined) {
    objects.push({
      apiVersion: 'node.k8s.io/v1',
      kind: 'RuntimeClass',
      metadata: { name: runtimeClassName, labels },
      handler: NVIDIA_RUNTIME_HANDLER,
      // Pods naming this class can only start where the NVIDIA runtime is installed.
      scheduling: { nodeSelector: { [GPU_NODE_LABEL]: 'true' } },
    });
  }
  objects.push({
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: { name: 'nvidia-device-plugin', namespace: DEVICE_PLUGIN_NAMESPACE, labels },
    spec: {
      selector: { matchLabels: { 'app.kubernetes.io/name': 'nvidia-device-plugin' } },
      updateStrategy: { type: 'RollingUpdate' },
      template: {
        metadata: { labels },
        spec: {
          priorityClassName: 'system-node-critical',
          ...(runtimeClassName === undefined ? {} : { runtimeClassName }),
          tolerations: [poolToleration(site)],
          affinity: {
            nodeAffinity: {
              requiredDuringSchedulingIgnoredDuringExecution: {
                nodeSelectorTerms: [{ matchExpressions: [{ key: GPU_NODE_LABEL, operator: 'In', values: ['true'] }] }],
              },
            },
          },
          containers: [
            {
              name: 'nvidia-device-plugin',
              image: DEVICE_PLUGIN_IMAGE,
              imagePullPolicy: 'IfNotPresent',
              resources: { requests: { cpu: '50m', memory: '64Mi' }, limits: { memory: '256Mi' } },
              securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
              volumeMounts: [{ name: 'device-plugin', mountPath: '/var/lib/kubelet/device-plugins' }],
            },
          ],
          volumes: [{ name: 'device-plugin', hostPath: { path: '/var/lib/kubelet/device-plugins', type: 'Directory' } }],
        },
      },
    },
  });
  objects.forEach((object, i) => new ApiObject(chart, `gpu-${i}`, object));
  return chart.toJson() as KubeObject[];
}
