// The pod every enclave workload runs: PSA restricted, no service account token, datasets
// as the enclave allows them, and the compute placement of constructs/gpu.ts.
import type { V1Container, V1EnvVar, V1PodSpec, V1Volume, V1VolumeMount } from '@kubernetes/client-node';
import type { Placement } from './gpu.ts';
import type { PodDatasets } from './datasets.ts';
import { restrictedContainerSecurity, restrictedPodSecurity } from './pod-security.ts';
import { WORKLOAD_SERVICE_ACCOUNT } from './rbac.ts';

/** The one container of an enclave pod and what surrounds it. */
export interface PodParts {
  containerName: string;
  image: string;
  command?: string[] | undefined;
  args?: string[] | undefined;
  ports: { name: string; port: number }[];
  env: V1EnvVar[];
  volumes: V1Volume[];
  mounts: V1VolumeMount[];
  datasets: PodDatasets;
  placement: Placement;
  restartPolicy: 'Always' | 'Never' | 'OnFailure';
  /** A port whose accepting connections makes the pod Ready (a tool server); none for batch pods. */
  readinessPort?: string;
}

/**
 * A complete pod spec with every field that matters stated: the workload ServiceAccount without
 * a token, no service links, PSA-restricted security contexts, resources and scheduling from
 * the placement, dataset volumes after the pod's own. Host namespaces are left at their default
 * (off), which the API server stores as absent: stating `hostNetwork: false` would only make each
 * apply of the template a write (and PSA restricted refuses host namespaces anyway).
 */
export function enclavePodSpec(p: PodParts): V1PodSpec {
  const container: V1Container = {
    name: p.containerName,
    image: p.image,
    imagePullPolicy: 'IfNotPresent',
    ...(p.command ? { command: p.command } : {}),
    ...(p.args ? { args: p.args } : {}),
    ...(p.ports.length > 0 ? { ports: p.ports.map((x) => ({ name: x.name, containerPort: x.port, protocol: 'TCP' })) } : {}),
    env: [...p.env, ...p.datasets.env],
    resources: p.placement.resources,
    securityContext: restrictedContainerSecurity(),
    volumeMounts: [...p.mounts, ...p.datasets.mounts],
    terminationMessagePolicy: 'FallbackToLogsOnError',
    ...(p.readinessPort !== undefined
      ? { readinessProbe: { tcpSocket: { port: p.readinessPort }, initialDelaySeconds: 5, periodSeconds: 10, timeoutSeconds: 1, successThreshold: 1, failureThreshold: 3 } }
      : {}),
  };
  return {
    serviceAccountName: WORKLOAD_SERVICE_ACCOUNT,
    automountServiceAccountToken: false,
    enableServiceLinks: false,
    restartPolicy: p.restartPolicy,
    terminationGracePeriodSeconds: 30,
    securityContext: restrictedPodSecurity(),
    containers: [container],
    volumes: [...p.volumes, ...p.datasets.volumes],
    ...(p.placement.nodeSelector ? { nodeSelector: p.placement.nodeSelector } : {}),
    ...(p.placement.tolerations ? { tolerations: p.placement.tolerations } : {}),
    ...(p.placement.runtimeClassName ? { runtimeClassName: p.placement.runtimeClassName } : {}),
    ...(p.placement.affinity ? { affinity: p.placement.affinity } : {}),
  };
}
