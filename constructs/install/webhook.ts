// The admission webhook configurations that make the API server ask the operator: authors act for
// themselves (Workspaces, FederatedJobs) and an enclave's access record only grows.
import { GROUP, VERSION } from '../../api/meta.ts';
import type { KubeObject } from '../objects.ts';

/** Where the API server reaches the webhooks: the operator's Service in the cluster, or a URL (a webhook run beside a control plane). */
export type WebhookEndpoint = { service: { namespace: string; name: string; port: number } } | { url: string };

/** The paths the operator serves, one per webhook: what the configurations name and operator/webhook serves. */
export const WEBHOOK_PATHS = {
  validateWorkspaces: '/validate/workspaces',
  validateFederatedJobs: '/validate/federatedjobs',
  mutateFederatedJobs: '/mutate/federatedjobs',
  validateEnclaves: '/validate/enclaves',
  mutateEnclaves: '/mutate/enclaves',
} as const;

function clientConfig(endpoint: WebhookEndpoint, path: string, caBundle: string): Record<string, unknown> {
  const ca = caBundle === '' ? {} : { caBundle };
  if ('url' in endpoint) return { url: `${endpoint.url.replace(/\/+$/, '')}${path}`, ...ca };
  return { service: { ...endpoint.service, path }, ...ca };
}

function webhook(name: string, resource: string, operations: string[], scope: 'Namespaced' | 'Cluster', path: string, endpoint: WebhookEndpoint, caBundle: string): Record<string, unknown> {
  return {
    name: `${resource}.${name}.${GROUP}`,
    admissionReviewVersions: ['v1'],
    clientConfig: clientConfig(endpoint, path, caBundle),
    rules: [{ apiGroups: [GROUP], apiVersions: [VERSION], resources: [resource], operations, scope }],
    // Refuse rather than admit unchecked: a workspace for another member must never slip through.
    failurePolicy: 'Fail',
    matchPolicy: 'Equivalent',
    sideEffects: 'None',
    timeoutSeconds: 5,
  };
}

/**
 * The ValidatingWebhookConfiguration and MutatingWebhookConfiguration named `name` (cluster
 * scoped): Workspaces and FederatedJobs are checked on create, change and delete (their status
 * subresource is not), an Enclave's access record on change; a FederatedJob's submitter and who
 * changed an Enclave's access are recorded from the request. Each webhook fails closed.
 * `caBundle` is the base64 PEM of the CA that signed the webhook's certificate.
 */
export function renderAdmissionWebhooks(options: { name: string; endpoint: WebhookEndpoint; caBundle: string; labels?: Record<string, string> }): KubeObject[] {
  const { name, endpoint, caBundle } = options;
  const metadata = { name, ...(options.labels ? { labels: options.labels } : {}) };
  const validating: KubeObject = {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'ValidatingWebhookConfiguration',
    metadata,
    webhooks: [
      webhook('validate', 'workspaces', ['CREATE', 'UPDATE', 'DELETE'], 'Namespaced', WEBHOOK_PATHS.validateWorkspaces, endpoint, caBundle),
      webhook('validate', 'federatedjobs', ['UPDATE', 'DELETE'], 'Namespaced', WEBHOOK_PATHS.validateFederatedJobs, endpoint, caBundle),
      webhook('validate', 'enclaves', ['UPDATE'], 'Cluster', WEBHOOK_PATHS.validateEnclaves, endpoint, caBundle),
    ],
  } as KubeObject;
  const mutating: KubeObject = {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'MutatingWebhookConfiguration',
    metadata,
    webhooks: [
      { ...webhook('mutate', 'federatedjobs', ['CREATE', 'UPDATE'], 'Namespaced', WEBHOOK_PATHS.mutateFederatedJobs, endpoint, caBundle), reinvocationPolicy: 'Never' },
      { ...webhook('mutate', 'enclaves', ['CREATE', 'UPDATE'], 'Cluster', WEBHOOK_PATHS.mutateEnclaves, endpoint, caBundle), reinvocationPolicy: 'Never' },
    ],
  } as KubeObject;
  return [validating, mutating];
}
