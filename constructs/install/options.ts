// How the operator is installed at a site: image, replicas, resources, leader election, metrics,
// the admission webhooks and the network peers it talks to. The Helm chart's values.yaml and
// values.schema.json are generated from this schema (chart/): its defaults, descriptions and,
// where JSON Schema can say it, its cross-field rules (each refinement's `meta` beside it).
import { z } from 'zod';
import { cidr } from '../../api/cidr.ts';
import { duration } from '../../api/duration.ts';
import { dnsLabel, quantity } from '../../api/meta.ts';

// A DNS name as a host, IngressClass or Secret takes it (lower-case labels joined by dots), or "" for none.
const dnsNameOrNone = z
  .string()
  .max(253)
  .regex(/^$|^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/, { message: 'must be a lower-case DNS name such as "register.sde.uclh.nhs.uk", or "" for none' });

// A standard base64 string (a caBundle), or "" for none.
const base64OrNone = z.string().regex(/^([A-Za-z0-9+/]{4})*([A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/, { message: 'must be base64 (the CA\'s PEM, base64-encoded), or "" for none' });

const resourceList = z.object({
  cpu: quantity('CPU, e.g. "100m".'),
  memory: quantity('Memory, e.g. "256Mi".'),
});

/** The install options; every field has a default, and the defaults equal the chart's values.yaml. */
export const operatorInstallOptions = z
  .object({
    namespace: dnsLabel.default('sde-system').describe('Namespace the operator runs in; it also holds the leader election Lease.'),
    image: z
      .object({
        repository: z.string().min(1).default('ghcr.io/sde-london/sde-operator'),
        tag: z.string().min(1).default('0.1.0'),
        pullPolicy: z.enum(['Always', 'IfNotPresent', 'Never']).default('IfNotPresent'),
      })
      .strict()
      .prefault({}),
    replicas: z.int().min(1).max(5).default(2).describe('One leads, the rest stand by; more than one needs leader election.'),
    resources: z
      .object({ requests: resourceList, limits: resourceList })
      .strict()
      .default({ requests: { cpu: '200m', memory: '512Mi' }, limits: { cpu: '2', memory: '1Gi' } }),
    heap: z
      .object({
        maxOldSpaceMB: z.int().min(64).default(640).describe('V8 old-space limit: keep it well under the memory limit (code, buffers and the young generation live outside it).'),
        maxSemiSpaceMB: z.int().min(1).max(64).default(4).describe('V8 semi-space size: small keeps short-lived render garbage from swelling the resident set.'),
        mallocArenas: z
          .int()
          .min(1)
          .default(2)
          .describe('glibc malloc arenas (MALLOC_ARENA_MAX): fewer arenas hold less freed memory (measured at 1,000 enclaves: 227.6 MB peak RSS with 2, 236.7 MB with glibc\'s default, same speed).'),
        memorySaver: z
          .boolean()
          .default(true)
          .describe('V8\'s memory saver mode (node --memory-saver-mode): the heap kept close to the live data, at the cost of CPU (measured at 1,000 enclaves on Kubernetes 1.23: peak RSS 201.5 MB against 227.5, the same time to Ready, 1.5 times the operator\'s CPU).'),
      })
      .strict()
      .prefault({})
      .describe('Node.js heap sizing, passed as NODE_OPTIONS, MALLOC_ARENA_MAX and node\'s own flags. Without it V8 grows its heap far past the live data while reconciling a large site (measured: 94 MB live, 492 MB heap).'),
    leaderElection: z.object({ enabled: z.boolean().default(true) }).strict().prefault({}),
    metrics: z.object({ port: z.int().min(1024).max(65535).default(8080) }).strict().prefault({}).describe('Port serving /metrics, /healthz and /readyz.'),
    monitoring: z
      .object({ namespace: dnsLabel.default('monitoring') })
      .strict()
      .prefault({})
      .describe('Namespace whose pods (Prometheus) may reach the metrics port.'),
    register: z
      .object({
        port: z.int().min(1024).max(65535).default(8081).describe('Port of the public data use register: /, /register.csv, /register.json.'),
        ingressController: z
          .object({
            namespace: dnsLabel.default('ingress-nginx'),
            podLabels: z.record(z.string(), z.string()).default({}).describe('Labels of its pods; {} admits every pod of the namespace.'),
          })
          .strict()
          .prefault({})
          .describe('The site\'s ingress controller: the only pods that may reach the register.'),
        ingress: z
          .object({
            host: dnsNameOrNone.default('').describe('Publish the register at this host through the ingress controller; "" for no Ingress (route to Service sde-operator-register yourself).'),
            className: dnsNameOrNone.default('').describe('IngressClass; "" for the cluster\'s default.'),
            tlsSecretName: dnsNameOrNone.default('').describe('Secret with the host\'s TLS certificate; "" for none.'),
          })
          .strict()
          .prefault({}),
      })
      .strict()
      .prefault({})
      .describe('The public data use register: its own port and Service, reachable only from the site\'s ingress controller.'),
    webhook: z
      .object({
        enabled: z
          .boolean()
          .default(true)
          .describe('Serve the admission webhooks (authors act for themselves, the access record only grows) and register them with the API server. They fail closed: while no replica serves, the writes they check are refused.'),
        port: z.int().min(1024).max(65535).default(9443).describe('Container port of the webhooks (HTTPS); Service sde-operator-webhook maps 443 to it.'),
        trustedGroups: z
          .array(z.string().regex(/^[^-\s]/, { message: 'must be a group name (not empty, not starting with "-" or a space)' }))
          .default([])
          .describe('Groups whose users may act for any member (the site\'s platform engineers), besides cluster administrators and kube-system\'s controllers.'),
        certificate: z
          .object({
            generate: z
              .boolean()
              .default(true)
              .describe('true: the chart (at each install and upgrade) or the stack makes a CA and the serving certificate, and trusts that CA; false: the site provides Secret secretName and caBundle.'),
            secretName: dnsLabel.default('sde-operator-webhook-tls').describe('The kubernetes.io/tls Secret (tls.crt, tls.key) in the operator\'s namespace that the webhooks serve with.'),
            caBundle: base64OrNone.default('').describe('With generate: false, the base64 PEM of the CA that signed the Secret\'s certificate; "" with generate: true.'),
          })
          .strict()
          .prefault({})
          .refine((c) => c.generate === (c.caBundle === ''), {
            message: 'caBundle is the CA of a certificate the site provides: set it with generate: false, and leave it "" with generate: true',
            path: ['caBundle'],
          })
          .meta({ if: { properties: { generate: { const: true } } }, then: { properties: { caBundle: { const: '' } } }, else: { properties: { caBundle: { type: 'string', minLength: 1 } } } }),
      })
      .strict()
      .prefault({})
      .describe('The admission webhooks every replica serves. Their failure policy is Fail and not an option: with Ignore, a workspace for another member would be admitted whenever the operator is down.'),
    apiServer: z
      .object({
        cidrs: z.array(cidr).min(1).default(['0.0.0.0/0']),
        ports: z.array(z.int().min(1).max(65535)).min(1).default([443, 6443]),
      })
      .strict()
      .prefault({})
      .describe('Where the Kubernetes API server answers, as network policies see it (its endpoints, after the Service is resolved): narrow cidrs to its addresses, which may also call the admission webhooks.'),
    serviceMonitor: z
      .object({ enabled: z.boolean().default(false), interval: duration('Scrape interval.').default('30s') })
      .strict()
      .prefault({})
      .describe('A Prometheus Operator ServiceMonitor for the metrics Service (needs the Prometheus Operator\'s CRD).'),
  })
  .strict()
  .refine((o) => o.replicas === 1 || o.leaderElection.enabled, {
    message: 'more than one replica needs leader election (leaderElection.enabled: true), or two operators would write at once',
    path: ['replicas'],
  })
  .refine((o) => o.register.port !== o.metrics.port, {
    message: 'the register needs a port of its own: the metrics port is reachable from the monitoring namespace only',
    path: ['register', 'port'],
  })
  .refine((o) => !o.webhook.enabled || (o.webhook.port !== o.metrics.port && o.webhook.port !== o.register.port), {
    message: 'the webhooks need a port of their own: only the API server may reach it',
    path: ['webhook', 'port'],
  })
  // The first rule, for JSON Schema; the two on ports compare two values, which draft 7 cannot.
  .meta({ if: { required: ['leaderElection'], properties: { leaderElection: { type: 'object', required: ['enabled'], properties: { enabled: { const: false } } } } }, then: { properties: { replicas: { const: 1 } } } });

/** Install options as a caller writes them (any field may be left out). */
export type OperatorInstallInput = z.input<typeof operatorInstallOptions>;
/** Install options with every default filled in. */
export type OperatorInstallOptions = z.output<typeof operatorInstallOptions>;

/** Install options that do not validate; the message names each field at fault. */
export class InvalidInstallOptionsError extends Error {
  override readonly name = 'InvalidInstallOptionsError';
}

/** Validates and defaults install options, or throws {@link InvalidInstallOptionsError} naming the fields. */
export function parseInstallOptions(input: OperatorInstallInput = {}): OperatorInstallOptions {
  const result = operatorInstallOptions.safeParse(input);
  if (result.success) return result.data;
  throw new InvalidInstallOptionsError(
    result.error.issues.map((i) => `${i.path.join('.') || '(options)'}: ${i.message}`).join('; '),
  );
}
