// The operator's admission webhooks as a site installs them: the Service the API server calls, the
// operator's part of the pod (port, certificate, flags), the network rule that lets the API server
// in, the TLS Secret of a certificate made at install time and the configurations that trust it.
// Every replica serves the webhooks (leader or standby), so the Service selects them all.
import type { KubeObject } from '../objects.ts';
import type { OperatorInstallOptions } from './options.ts';
import { renderAdmissionWebhooks } from './webhook.ts';

/** Name of the webhooks' Service; the API server calls `https://sde-operator-webhook.<namespace>.svc:443`. */
export const WEBHOOK_SERVICE_NAME = 'sde-operator-webhook';
/** The Service's port, the one the API server dials. */
export const WEBHOOK_SERVICE_PORT = 443;
/** Name of the container port serving the webhooks. */
export const WEBHOOK_PORT_NAME = 'webhook';
/** Name of the ValidatingWebhookConfiguration and the MutatingWebhookConfiguration. */
export const ADMISSION_NAME = 'sde-operator';
// A folder of its own, not under the site configuration's /etc/sde-operator: a mount inside a
// ConfigMap volume would put its mount point in the kubelet's copy of that ConfigMap.
/** Where the TLS Secret is mounted in the operator's container (run --webhook-cert-dir). */
export const WEBHOOK_CERT_DIR = '/etc/sde-operator-webhook';
/** Common name of the CA the chart and the stack make; it signs the serving certificate and nothing else. */
export const WEBHOOK_CA_NAME = 'sde-operator-webhook-ca';

/**
 * How long the certificates the chart and the stack make stay valid. The CA outlives the serving
 * certificate so the stack can renew the latter under the same CA (no caBundle change); the chart
 * makes both anew at every install and upgrade.
 */
export const WEBHOOK_CERTIFICATE_DAYS = Object.freeze({ ca: 3650, serving: 730 });
/** Days before its end in which a `pulumi up` renews the serving certificate (the stack only). */
export const WEBHOOK_RENEWAL_DAYS = 90;

/** Certificate material as PEM text: the CA and the serving certificate it signed, with that certificate's key. */
export interface WebhookCertificate {
  caPem: string;
  certPem: string;
  keyPem: string;
}

/**
 * The one DNS name the serving certificate must carry: the API server reaches a Service-backed
 * webhook as `<service>.<namespace>.svc` and checks the certificate against exactly that name.
 */
export function webhookDnsName(namespace: string): string {
  return `${WEBHOOK_SERVICE_NAME}.${namespace}.svc`;
}

/** The base64 text a webhook configuration's caBundle holds for a CA in PEM. */
export function caBundleOf(caPem: string): string {
  return Buffer.from(caPem, 'utf8').toString('base64');
}

/** The Service in front of every replica's webhook port (443 to the container's `webhook` port). */
export function renderWebhookService(options: OperatorInstallOptions, labels: Readonly<Record<string, string>>, selector: Readonly<Record<string, string>>): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: WEBHOOK_SERVICE_NAME, namespace: options.namespace, labels: { ...labels } },
    spec: { type: 'ClusterIP', selector: { ...selector }, ports: [{ name: 'https', port: WEBHOOK_SERVICE_PORT, targetPort: WEBHOOK_PORT_NAME, protocol: 'TCP' }] },
  };
}

/** The operator container's part in serving the webhooks: its flags, port, and the certificate's volume and mount. */
export function webhookContainer(options: OperatorInstallOptions): { args: string[]; port: Record<string, unknown>; volume: Record<string, unknown>; volumeMount: Record<string, unknown> } {
  const { port, trustedGroups, certificate } = options.webhook;
  return {
    // One flag per group: a value after a variadic flag could otherwise be read as another group.
    args: ['--webhook-cert-dir', WEBHOOK_CERT_DIR, '--webhook-port', String(port), ...trustedGroups.flatMap((group) => ['--trusted-group', group])],
    port: { name: WEBHOOK_PORT_NAME, containerPort: port, protocol: 'TCP' },
    volume: { name: 'webhook-certificate', secret: { secretName: certificate.secretName } },
    volumeMount: { name: 'webhook-certificate', mountPath: WEBHOOK_CERT_DIR, readOnly: true },
  };
}

/**
 * The operator NetworkPolicy's ingress rule for the webhooks: the API server's addresses
 * (`apiServer.cidrs`) to the container's webhook port (policies see the port after the Service).
 */
export function webhookIngressRule(options: OperatorInstallOptions): Record<string, unknown> {
  return {
    from: options.apiServer.cidrs.map((cidr) => ({ ipBlock: { cidr } })),
    ports: [{ protocol: 'TCP', port: options.webhook.port }],
  };
}

/**
 * The kubernetes.io/tls Secret (`tls.crt`, `tls.key`, and the CA as `ca.crt`) named
 * `webhook.certificate.secretName`, holding a certificate made at install time.
 */
export function renderWebhookTlsSecret(options: OperatorInstallOptions, certificate: WebhookCertificate, labels: Readonly<Record<string, string>>): KubeObject {
  const base64 = (pem: string) => Buffer.from(pem, 'utf8').toString('base64');
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: options.webhook.certificate.secretName, namespace: options.namespace, labels: { ...labels } },
    type: 'kubernetes.io/tls',
    data: { 'ca.crt': base64(certificate.caPem), 'tls.crt': base64(certificate.certPem), 'tls.key': base64(certificate.keyPem) },
  };
}

/** The Validating and Mutating webhook configurations (fail closed) calling the webhook Service and trusting `caBundle`. */
export function renderInstallWebhooks(options: OperatorInstallOptions, caBundle: string, labels: Readonly<Record<string, string>>): KubeObject[] {
  return renderAdmissionWebhooks({
    name: ADMISSION_NAME,
    endpoint: { service: { namespace: options.namespace, name: WEBHOOK_SERVICE_NAME, port: WEBHOOK_SERVICE_PORT } },
    caBundle,
    labels: { ...labels },
  });
}
