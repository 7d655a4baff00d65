// Everything a trust's site needs, declared as Pulumi resources: the CRDs, GPU support, the DGX
// nodes' labels and taint, the operator (from the same constructs the Helm chart mirrors) and,
// optionally, the site's enclaves as code.
import { readdirSync, readFileSync } from 'node:fs';
import * as k8s from '@pulumi/kubernetes';
import * as pulumi from '@pulumi/pulumi';
import { parse } from 'yaml';
import { allCustomResourceDefinitions } from '../../api/crd.ts';
import { parseKubernetesVersion } from '../../api/kubernetes-version.ts';
import { gpuNodeLabels, gpuNodeTaint, poolToleration, renderGpuSupport } from '../../constructs/install/gpu.ts';
import type { KubeObject } from '../../constructs/objects.ts';
import { renderOperatorInstall } from '../../constructs/install/operator.ts';
import { siteConfigOf, type StackConfig } from './config.ts';

const CRDS_DIR = new URL('../../crds/', import.meta.url);

/** The resources of one site, for the program's outputs and for tests to inspect. */
export interface SiteResources {
  provider: k8s.Provider;
  crds: k8s.yaml.v2.ConfigGroup;
  gpu: pulumi.Resource[];
  nodes: k8s.core.v1.NodePatch[];
  operator: k8s.yaml.v2.ConfigGroup;
  enclaves?: k8s.yaml.v2.ConfigGroup;
}

/**
 * The checked-in CRDs (crds/*.yaml), in file-name order; for a cluster older than 1.28
 * (`sde:kubernetesVersion`), the same CRDs with only the fields its release accepts.
 */
export function crdObjects(kubernetesVersion?: string): KubeObject[] {
  if (kubernetesVersion !== undefined) {
    return allCustomResourceDefinitions({ kubernetesVersion: parseKubernetesVersion(kubernetesVersion) })
      .sort((a, b) => a.file.localeCompare(b.file))
      .map(({ crd }) => crd as KubeObject);
  }
  return readdirSync(CRDS_DIR)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .map((f) => parse(readFileSync(new URL(f, CRDS_DIR), 'utf8')) as KubeObject);
}

/**
 * Declares the site on the cluster the config names. The operator and the enclaves depend on the
 * CRDs (so their kinds exist first); nothing is declared for a feature the config leaves off.
 */
export function declareSite(config: StackConfig): SiteResources {
  const site = siteConfigOf(config);
  const provider = new k8s.Provider('cluster', {
    // Credentials: kept encrypted in the stack's state whatever way the config gave them.
    ...(config.kubeconfig === undefined ? {} : { kubeconfig: pulumi.secret(config.kubeconfig) }),
    ...(config.context === undefined ? {} : { context: config.context }),
  });
  const opts = { provider };

  const crds = new k8s.yaml.v2.ConfigGroup('sde-crds', { objs: crdObjects(config.kubernetesVersion) }, opts);

  const gpu: pulumi.Resource[] = [];
  if (config.gpuSupport === 'device-plugin') {
    gpu.push(new k8s.yaml.v2.ConfigGroup('gpu-support', { objs: renderGpuSupport(site) }, opts));
  } else if (config.gpuSupport === 'gpu-operator') {
    const namespace = new k8s.core.v1.Namespace(
      'gpu-operator-namespace',
      // Its daemons mount host paths and load kernel modules: only `privileged` admits them.
      { metadata: { name: config.gpuOperator.namespace, labels: { 'pod-security.kubernetes.io/enforce': 'privileged' } } },
      opts,
    );
    gpu.push(
      namespace,
      new k8s.helm.v4.Chart(
        'gpu-operator',
        {
          chart: 'gpu-operator',
          version: config.gpuOperator.version,
          namespace: config.gpuOperator.namespace,
          repositoryOpts: { repo: config.gpuOperator.repository },
          values: {
            // DGX OS ships the driver; the operator must not try to build its own.
            driver: { enabled: false },
            daemonsets: { tolerations: [poolToleration(site)] },
          },
        },
        { provider, dependsOn: [namespace] },
      ),
    );
  }

  const taint = gpuNodeTaint(site);
  const nodes = site.gpuPool.nodes.map(
    (name) =>
      new k8s.core.v1.NodePatch(
        `dgx-${name}`,
        { metadata: { name, labels: gpuNodeLabels(site) }, spec: { taints: [taint] } },
        opts,
      ),
  );

  const operator = new k8s.yaml.v2.ConfigGroup('sde-operator', { objs: renderOperatorInstall(site, config.operator) }, { provider, dependsOn: [crds] });

  const resources: SiteResources = { provider, crds, gpu, nodes, operator };
  if (config.enclaves.length > 0) {
    resources.enclaves = new k8s.yaml.v2.ConfigGroup('sde-enclaves', { objs: config.enclaves }, { provider, dependsOn: [crds, operator] });
  }
  return resources;
}
