// The operator's own installation at a site: its namespace and network fence, identity and RBAC,
// the site configuration, the Deployment, the metrics Service, the public data use register's
// Service, policy and Ingress, the admission webhooks' Service and configurations, and
// (optionally) a ServiceMonitor.
// The Helm chart's templates are generated from these same functions (chart/).
import { ApiObject, App, Chart } from 'cdk8s';
import { toYaml } from '../../api/yaml.ts';
import type { SiteConfig } from '../../api/siteconfig.ts';
import type { KubeObject } from '../objects.ts';
import { renderInstallWebhooks, renderWebhookService, webhookContainer, webhookIngressRule } from './admission.ts';
import { parseInstallOptions, type OperatorInstallInput, type OperatorInstallOptions } from './options.ts';
import { OPERATOR_RULES } from './rbac.ts';
import { REGISTER_PORT_NAME, renderRegisterExposure } from './register.ts';

/** Name of the operator's ServiceAccount, ClusterRole, bindings and Deployment. */
export const OPERATOR_NAME = 'sde-operator';
/** ConfigMap holding the site configuration file the operator reads with --site-config. */
export const SITE_CONFIG_MAP = 'sde-site-config';
/** Where the site configuration file is mounted in the operator's container. */
export const SITE_CONFIG_PATH = '/etc/sde-operator/site.yaml';
/** Name of the container port serving /metrics, /healthz and /readyz. */
export const METRICS_PORT_NAME = 'metrics';
/** The non-root user the image is built for (distroless "nonroot"). */
export const OPERATOR_UID = 65532;

/** Labels on every object of the installation; the first two also select the operator's pods. */
export const OPERATOR_LABELS: Readonly<Record<string, string>> = Object.freeze({
  'app.kubernetes.io/name': OPERATOR_NAME,
  'app.kubernetes.io/component': 'controller',
  'app.kubernetes.io/part-of': 'sde-enclave-operator',
});

const SELECTOR = { 'app.kubernetes.io/name': OPERATOR_NAME, 'app.kubernetes.io/component': 'controller' };

/** Pod Security Admission labels that make a namespace `restricted` in every mode. */
export const RESTRICTED_NAMESPACE_LABELS: Readonly<Record<string, string>> = Object.freeze({
  'pod-security.kubernetes.io/enforce': 'restricted',
  'pod-security.kubernetes.io/enforce-version': 'latest',
  'pod-security.kubernetes.io/audit': 'restricted',
  'pod-security.kubernetes.io/warn': 'restricted',
});

/**
 * Everything a site needs to run the operator, in apply order (namespace first). Pure and
 * deterministic: same site and options, same objects. Throws InvalidInstallOptionsError when
 * the options do not validate (e.g. two replicas without leader election).
 *
 * With `webhook.certificate.generate` (the default) the webhook's certificate is made at install
 * time, so its TLS Secret and the webhook configurations trusting its CA are not here: the chart
 * and the stack add them from `renderWebhookTlsSecret` and `renderInstallWebhooks` (admission.ts).
 * A site that provides its own certificate gets the configurations here, with its caBundle.
 */
export function renderOperatorInstall(site: SiteConfig, input: OperatorInstallInput = {}): KubeObject[] {
  return renderInstall(site, parseInstallOptions(input));
}

/**
 * {@link renderOperatorInstall} for options already validated, or standing in for Helm values:
 * the chart generator (chart/tree.ts) passes placeholders that no validation would accept.
 */
export function renderInstall(site: SiteConfig, options: OperatorInstallOptions): KubeObject[] {
  const chart = new Chart(new App(), 'sde-operator-install', { disableResourceNameHashes: true });
  const add = (id: string, object: KubeObject): void => {
    new ApiObject(chart, id, object);
  };
  const ns = options.namespace;
  const meta = (name: string, namespaced = true) => ({ name, ...(namespaced ? { namespace: ns } : {}), labels: { ...OPERATOR_LABELS } });

  add('namespace', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns, labels: { ...OPERATOR_LABELS, ...RESTRICTED_NAMESPACE_LABELS } } });
  for (const policy of networkPolicies(site, options)) add(`netpol-${policy.metadata.name}`, policy);
  add('serviceaccount', { apiVersion: 'v1', kind: 'ServiceAccount', metadata: meta(OPERATOR_NAME) });
  add('clusterrole', { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: meta(OPERATOR_NAME, false), rules: structuredClone(OPERATOR_RULES.cluster) });
  add('clusterrolebinding', {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRoleBinding',
    metadata: meta(OPERATOR_NAME, false),
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: OPERATOR_NAME },
    subjects: [{ kind: 'ServiceAccount', name: OPERATOR_NAME, namespace: ns }],
  });
  add('role', { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: meta(`${OPERATOR_NAME}-leader-election`), rules: structuredClone(OPERATOR_RULES.leaseNamespace) });
  add('rolebinding', {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'RoleBinding',
    metadata: meta(`${OPERATOR_NAME}-leader-election`),
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: `${OPERATOR_NAME}-leader-election` },
    subjects: [{ kind: 'ServiceAccount', name: OPERATOR_NAME, namespace: ns }],
  });
  add('configmap', { apiVersion: 'v1', kind: 'ConfigMap', metadata: meta(SITE_CONFIG_MAP), data: { 'site.yaml': toYaml(site) } });
  add('deployment', deployment(site, options));
  add('service', {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: meta(`${OPERATOR_NAME}-metrics`),
    spec: { type: 'ClusterIP', selector: { ...SELECTOR }, ports: [{ name: METRICS_PORT_NAME, port: options.metrics.port, targetPort: METRICS_PORT_NAME, protocol: 'TCP' }] },
  });
  for (const object of renderRegisterExposure(options, OPERATOR_LABELS, SELECTOR)) add(`register-${object.kind.toLowerCase()}`, object);
  if (options.webhook.enabled) {
    add('webhook-service', renderWebhookService(options, OPERATOR_LABELS, SELECTOR));
    if (!options.webhook.certificate.generate) {
      for (const object of renderInstallWebhooks(options, options.webhook.certificate.caBundle, OPERATOR_LABELS)) add(`webhook-${object.kind.toLowerCase()}`, object);
    }
  }
  if (options.serviceMonitor.enabled) {
    add('servicemonitor', {
      apiVersion: 'monitoring.coreos.com/v1',
      kind: 'ServiceMonitor',
      metadata: meta(OPERATOR_NAME),
      spec: {
        selector: { matchLabels: { ...SELECTOR } },
        endpoints: [{ port: METRICS_PORT_NAME, path: '/metrics', interval: options.serviceMonitor.interval }],
      },
    });
  }
  return chart.toJson() as KubeObject[];
}

function networkPolicies(site: SiteConfig, options: OperatorInstallOptions): KubeObject[] {
  const metadata = (name: string) => ({ name, namespace: options.namespace, labels: { ...OPERATOR_LABELS } });
  return [
    {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: metadata('default-deny'),
      spec: { podSelector: {}, policyTypes: ['Ingress', 'Egress'] },
    },
    {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: metadata(OPERATOR_NAME),
      spec: {
        podSelector: { matchLabels: { ...SELECTOR } },
        policyTypes: ['Ingress', 'Egress'],
        // Kubelet probes come from the node, which CNIs admit without a rule; only the scrapers
        // and (for the admission webhooks) the API server need one.
        ingress: [
          {
            from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': options.monitoring.namespace } } }],
            ports: [{ protocol: 'TCP', port: options.metrics.port }],
          },
          ...(options.webhook.enabled ? [webhookIngressRule(options)] : []),
        ],
        // Policies see the API server's endpoint addresses and ports (after the Service's DNAT), hence 6443 as well as 443.
        egress: [
          {
            to: options.apiServer.cidrs.map((cidr) => ({ ipBlock: { cidr } })),
            ports: options.apiServer.ports.map((port) => ({ protocol: 'TCP', port })),
          },
          {
            to: [
              {
                namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': site.dns.namespace } },
                podSelector: { matchLabels: { ...site.dns.podLabels } },
              },
            ],
            ports: [
              { protocol: 'UDP', port: site.dns.port },
              { protocol: 'TCP', port: site.dns.port },
            ],
          },
        ],
      },
    },
  ];
}

function deployment(site: SiteConfig, options: OperatorInstallOptions): KubeObject {
  const args = ['run', '--site', site.site, '--site-config', SITE_CONFIG_PATH, '--namespace', options.namespace];
  if (options.leaderElection.enabled) args.push('--leader-elect', '--lease-namespace', options.namespace);
  args.push('--port', String(options.metrics.port), '--register-port', String(options.register.port));
  const webhook = options.webhook.enabled ? webhookContainer(options) : undefined;
  if (webhook) args.push(...webhook.args);
  const probe = (path: string, periodSeconds: number) => ({
    httpGet: { path, port: METRICS_PORT_NAME },
    periodSeconds,
    timeoutSeconds: 2,
    failureThreshold: 3,
  });
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: OPERATOR_NAME, namespace: options.namespace, labels: { ...OPERATOR_LABELS } },
    spec: {
      replicas: options.replicas,
      selector: { matchLabels: { ...SELECTOR } },
      template: {
        metadata: { labels: { ...OPERATOR_LABELS } },
        spec: {
          serviceAccountName: OPERATOR_NAME,
          // The operator talks to the API server, so it needs its token.
          automountServiceAccountToken: true,
          securityContext: {
            runAsNonRoot: true,
            runAsUser: OPERATOR_UID,
            runAsGroup: OPERATOR_UID,
            seccompProfile: { type: 'RuntimeDefault' },
          },
          // Spread leader and standby so one node failure does not take both.
          affinity: {
            podAntiAffinity: {
              preferredDuringSchedulingIgnoredDuringExecution: [
                { weight: 100, podAffinityTerm: { topologyKey: 'kubernetes.io/hostname', labelSelector: { matchLabels: { ...SELECTOR } } } },
              ],
            },
          },
          containers: [
            {
              name: 'operator',
              image: `${options.image.repository}:${options.image.tag}`,
              imagePullPolicy: options.image.pullPolicy,
              // The image's ENTRYPOINT with node's own flags, which NODE_OPTIONS may not carry.
              command: ['node', ...runtimeNodeFlags(options.heap), IMAGE_BUNDLE],
              args,
              env: [
                { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
                { name: 'POD_NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
                ...Object.entries(runtimeEnv(options.heap)).map(([name, value]) => ({ name, value })),
              ],
              ports: [
                { name: METRICS_PORT_NAME, containerPort: options.metrics.port, protocol: 'TCP' },
                { name: REGISTER_PORT_NAME, containerPort: options.register.port, protocol: 'TCP' },
                ...(webhook ? [webhook.port] : []),
              ],
              livenessProbe: probe('/healthz', 10),
              readinessProbe: probe('/readyz', 5),
              resources: structuredClone(options.resources),
              securityContext: {
                allowPrivilegeEscalation: false,
                readOnlyRootFilesystem: true,
                runAsNonRoot: true,
                capabilities: { drop: ['ALL'] },
                seccompProfile: { type: 'RuntimeDefault' },
              },
              volumeMounts: [
                { name: 'site-config', mountPath: '/etc/sde-operator', readOnly: true },
                { name: 'tmp', mountPath: '/tmp' },
                ...(webhook ? [webhook.volumeMount] : []),
              ],
            },
          ],
          // A writable /tmp on a read-only root, for libraries that insist on a scratch file.
          volumes: [
            { name: 'site-config', configMap: { name: SITE_CONFIG_MAP } },
            { name: 'tmp', emptyDir: { sizeLimit: '64Mi' } },
            ...(webhook ? [webhook.volume] : []),
          ],
        },
      },
    },
  };
}

/** The bundle the image runs, relative to its working directory (its ENTRYPOINT is `node` and this). */
export const IMAGE_BUNDLE = 'dist/sde-operator.mjs';

/**
 * The flags the install option `heap` gives `node` on the operator's command line, before the
 * bundle: V8 flags NODE_OPTIONS does not accept. The benchmarks start the operator with the same.
 */
export function runtimeNodeFlags(heap: OperatorInstallOptions['heap']): string[] {
  return heap.memorySaver ? ['--memory-saver-mode'] : [];
}

/**
 * The environment the install option `heap` gives the operator's container, in the Deployment's
 * order: V8's heap limits (NODE_OPTIONS) and glibc's malloc arena count (MALLOC_ARENA_MAX). The
 * benchmarks start the operator with the same, so their figures are the Deployment's.
 */
export function runtimeEnv(heap: OperatorInstallOptions['heap']): { NODE_OPTIONS: string; MALLOC_ARENA_MAX: string } {
  return {
    NODE_OPTIONS: `--max-old-space-size=${heap.maxOldSpaceMB} --max-semi-space-size=${heap.maxSemiSpaceMB}`,
    MALLOC_ARENA_MAX: String(heap.mallocArenas),
  };
}
