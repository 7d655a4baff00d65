// Workspace → a researcher's tool server: StatefulSet, Service and home volume.
import * as kplus from 'cdk8s-plus-27';
import type { V1PersistentVolumeClaimSpec, V1StatefulSetSpec } from '@kubernetes/client-node';
import { enclaveNamespace } from '../api/enclave.ts';
import type { Enclave } from '../api/enclave.ts';
import type { SiteConfig } from '../api/siteconfig.ts';
import { workspaceImage } from '../api/workspace.ts';
import type { Workspace } from '../api/workspace.ts';
import { podDatasets } from './datasets.ts';
import type { RenderOptions } from './objects.ts';
import { placement } from './gpu.ts';
import { APP_NAME, COMPONENT, COMPONENTS, DATA, WORKSPACE, enclaveLabels } from './labels.ts';
import { mirrorPodParts } from './mirror.ts';
import { childName } from '../api/names.ts';
import { PlainApiObject, ownerReferences, synthesize } from './objects.ts';
import type { KubeObject } from './objects.ts';
import { enclavePodSpec } from './pod.ts';
import { TOOL_HOMES, TOOL_PORTS } from './tools.ts';

/** The home volume claim of workspace `name`: a claim of its own, not a volumeClaimTemplate, so its retention is ours to decide. */
export function homeClaimName(name: string): string {
  return childName(name, 'home');
}

/** The labels that select a workspace's pods; fixed for its lifetime because a StatefulSet's selector is immutable. */
export function workspacePodSelector(name: string): Record<string, string> {
  return { [WORKSPACE]: name, [COMPONENT]: COMPONENTS.workspace };
}

/**
 * The desired state of a workspace: a StatefulSet (1 replica; 0 when Stopped or access is
 * inactive), a headless Service `<name>` on the tool's port, and the home claim `<name>-home`
 * (owned by the Workspace only when the enclave's retention is Delete; otherwise labelled as data
 * so that it outlives the workspace). Datasets are mounted read-only at /data/<name>; pip, conda,
 * R and npm use the site's package mirror when the enclave allows it (constructs/mirror.ts).
 */
export function renderWorkspace(ws: Workspace, enclave: Enclave, site: SiteConfig, opts: RenderOptions): KubeObject[] {
  const name = ws.metadata.name;
  const namespace = ws.metadata.namespace ?? enclaveNamespace(enclave.metadata.name);
  const owners = ownerReferences(ws);
  const tool = ws.spec.tool;
  const port = TOOL_PORTS[tool];
  const labels = { ...enclaveLabels(enclave), [WORKSPACE]: name, [APP_NAME]: tool, [COMPONENT]: COMPONENTS.workspace };
  const home = homeClaimName(name);
  const retain = enclave.spec.retention.homeVolumes === 'Retain';
  const datasets = podDatasets(enclave, ws.spec.datasets ?? enclave.spec.data.map((d) => d.name), site);
  const running = ws.spec.state === 'Running' && opts.accessActive;
  const mirror = mirrorPodParts(enclave, site);

  return synthesize((chart) => {
    const homeSpec: V1PersistentVolumeClaimSpec = {
      accessModes: ['ReadWriteOnce'],
      storageClassName: site.storageClass,
      volumeMode: 'Filesystem',
      resources: { requests: { storage: String(ws.spec.storage.home) } },
    };
    new PlainApiObject(chart, 'home', {
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      metadata: {
        name: home,
        namespace,
        labels: { ...labels, [COMPONENT]: 'home', ...(retain ? { [DATA]: 'true' } : {}) },
        ownerReferences: retain ? undefined : owners,
      },
      spec: homeSpec,
    });

    // Headless: the StatefulSet's governing Service, whose name resolves to the pod's address. A
    // cluster IP adds nothing for one pod and is costly to allocate: on kube-apiserver 1.23 every
    // allocation updates one shared record in etcd (measured: 17 Services created a second while
    // 1,000 enclaves start, each taking 1.3 s; headless ones 2 to 4 times as fast on an idle server).
    const service = new kplus.Service(chart, 'service', {
      metadata: { name, namespace, labels, ownerReferences: owners },
      type: kplus.ServiceType.CLUSTER_IP,
      clusterIP: 'None',
      ports: [{ name: 'http', port, targetPort: port, protocol: kplus.Protocol.TCP }],
    });
    for (const [k, v] of Object.entries(workspacePodSelector(name))) service.selectLabel(k, v);

    const spec: V1StatefulSetSpec = {
      replicas: running ? 1 : 0,
      serviceName: name,
      podManagementPolicy: 'OrderedReady',
      updateStrategy: { type: 'RollingUpdate' },
      selector: { matchLabels: workspacePodSelector(name) },
      template: {
        metadata: { labels },
        spec: enclavePodSpec({
          containerName: tool,
          image: workspaceImage(ws, site),
          ports: [{ name: 'http', port }],
          env: [{ name: 'HOME', value: TOOL_HOMES[tool] }, ...mirror.env],
          volumes: [{ name: 'home', persistentVolumeClaim: { claimName: home } }, ...mirror.volumes],
          mounts: [{ name: 'home', mountPath: TOOL_HOMES[tool] }, ...mirror.mounts],
          datasets,
          placement: placement(ws.spec.resources, site, enclave.spec.resources.gpuProduct),
          restartPolicy: 'Always',
          readinessPort: 'http',
        }),
      },
    };
    new PlainApiObject(chart, 'statefulset', {
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      metadata: {
        name,
        namespace,
        labels,
        annotations: { 'sde.london/idle-timeout': ws.spec.idleTimeout ?? enclave.spec.workspaces.idleTimeout, 'sde.london/owner': ws.spec.owner },
        ownerReferences: owners,
      },
      spec,
    });
  });
}
