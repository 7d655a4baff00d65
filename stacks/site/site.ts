// Everything a trust's site needs, declared as Pulumi resources: the CRDs, GPU support, the DGX
// nodes' labels and taint, the operator (from the same constructs the Helm chart mirrors) with its
// admission webhooks and their certificate and, optionally, the site's enclaves as code.
import { readdirSync, readFileSync } from 'node:fs';
import * as k8s from '@pulumi/kubernetes';
import * as pulumi from '@pulumi/pulumi';
import { parse } from 'yaml';
import { allCustomResourceDefinitions } from '../../api/crd.ts';
import { parseKubernetesVersion } from '../../api/kubernetes-version.ts';
import { caBundleOf, renderInstallWebhooks, renderWebhookTlsSecret } from '../../constructs/install/admission.ts';
import { gpuNodeLabels, gpuNodeTaint, poolToleration, renderGpuSupport } from '../../constructs/install/gpu.ts';
import type { KubeObject } from '../../constructs/objects.ts';
import { OPERATOR_LABELS, renderOperatorInstall } from '../../constructs/install/operator.ts';
import { siteConfigOf, type StackConfig } from './config.ts';
import { declareWebhookCertificate } from './webhook-certificate.ts';

const CRDS_DIR = new URL('../../crds/', import.meta.url);

/** The resources of one site, for the program's outputs and for tests to inspect. */
export interface SiteResources {
  provider: k8s.Provider;
  crds: k8s.yaml.v2.ConfigGroup;
  gpu: pulumi.Resource[];
  nodes: k8s.core.v1.NodePatch[];
  operator: k8s.yaml.v2.ConfigGroup;
  /** The webhooks' certificate and the configurations trusting it, when the stack makes the certificate (webhook.certificate.generate). */
  admission?: { secret: k8s.core.v1.Secret; configurations: pulumi.CustomResource[] };
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

  const { webhook } = config.operator;
  const secret = webhook.enabled && webhook.certificate.generate ? webhookTlsSecret(config, provider) : undefined;
  const operator = new k8s.yaml.v2.ConfigGroup('sde-operator', { objs: renderOperatorInstall(site, config.operator) }, { provider, dependsOn: [crds, ...(secret ? [secret.resource] : [])] });

  const resources: SiteResources = { provider, crds, gpu, nodes, operator };
  // The configurations come after the Deployment is ready, so no write is refused for want of a
  // replica on the first install; the enclaves after them, so theirs pass admission like any other.
  if (secret) resources.admission = { secret: secret.resource, configurations: admissionConfigurations(config, secret.caPem, provider, operator) };
  if (config.enclaves.length > 0) {
    resources.enclaves = new k8s.yaml.v2.ConfigGroup('sde-enclaves', { objs: config.enclaves }, { provider, dependsOn: [crds, operator, ...(resources.admission?.configurations ?? [])] });
  }
  return resources;
}

type ObjectMeta = k8s.types.input.meta.v1.ObjectMeta;
type ValidatingWebhook = k8s.types.input.admissionregistration.v1.ValidatingWebhook;
type MutatingWebhook = k8s.types.input.admissionregistration.v1.MutatingWebhook;

// One field of a rendered object that exists only once an Output resolves, typed as the resource's argument.
function field<T>(object: pulumi.Output<KubeObject>, key: string): pulumi.Output<T> {
  return object.apply((o) => o[key] as T);
}

/** The kubernetes.io/tls Secret of a certificate the stack makes (@pulumi/tls), its data secret in the state. */
function webhookTlsSecret(config: StackConfig, provider: k8s.Provider): { resource: k8s.core.v1.Secret; caPem: pulumi.Output<string> } {
  const { certificate, caPem } = declareWebhookCertificate(config.operator.namespace);
  const secret = certificate.apply((c) => renderWebhookTlsSecret(config.operator, c, OPERATOR_LABELS));
  const resource = new k8s.core.v1.Secret(
    'sde-operator-webhook-tls',
    // Only the data is secret; its name and type stay readable in previews and the state.
    { metadata: pulumi.unsecret(field<ObjectMeta>(secret, 'metadata')), type: pulumi.unsecret(field<string>(secret, 'type')), data: field<Record<string, string>>(secret, 'data') },
    { provider },
  );
  return { resource, caPem };
}

/** The Validating and Mutating webhook configurations, trusting the CA the stack made: its certificate (an Output) becomes their caBundle. */
function admissionConfigurations(config: StackConfig, caPem: pulumi.Output<string>, provider: k8s.Provider, operator: pulumi.Resource): pulumi.CustomResource[] {
  const [validating, mutating] = ['ValidatingWebhookConfiguration', 'MutatingWebhookConfiguration'].map((kind) =>
    caPem.apply((pem) => renderInstallWebhooks(config.operator, caBundleOf(pem), OPERATOR_LABELS).find((o) => o.kind === kind) as KubeObject),
  ) as [pulumi.Output<KubeObject>, pulumi.Output<KubeObject>];
  const opts = { provider, dependsOn: [operator] };
  return [
    new k8s.admissionregistration.v1.ValidatingWebhookConfiguration('sde-operator-validating-webhooks', { metadata: field<ObjectMeta>(validating, 'metadata'), webhooks: field<ValidatingWebhook[]>(validating, 'webhooks') }, opts),
    new k8s.admissionregistration.v1.MutatingWebhookConfiguration('sde-operator-mutating-webhooks', { metadata: field<ObjectMeta>(mutating, 'metadata'), webhooks: field<MutatingWebhook[]>(mutating, 'webhooks') }, opts),
  ];
}
