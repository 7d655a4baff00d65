// Building blocks shared by every kind of the sde.london API: names, quantities, times,
// conditions and the cross-field rule helper that keeps zod and CEL in step.
import { z } from 'zod';

export const GROUP = 'sde.london';
export const VERSION = 'v1alpha1';
export const API_VERSION = `${GROUP}/${VERSION}`;

/** A DNS-1123 label, the shape Kubernetes requires of namespace and most object names. */
export const dnsLabel = z
  .string()
  .min(1)
  .max(63)
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, {
    message: 'must be a DNS-1123 label: lower-case letters, digits and "-", starting and ending with a letter or digit, at most 63 characters',
  });

/** A value that can be used as a Kubernetes label value (at most 63 characters). */
export const labelValue = z
  .string()
  .min(1)
  .max(63)
  .regex(/^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/, {
    message: 'must be a label value: letters, digits, "-", "_" and ".", starting and ending with a letter or digit, at most 63 characters',
  });

// The Kubernetes quantity grammar (resource.Quantity) without a sign: requests and limits are never negative.
const QUANTITY = /^(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))))?$/;

/** A non-negative Kubernetes quantity ("500m", "4Gi", 2); rendered in the CRD as int-or-string with the quantity pattern. */
export function quantity(description: string) {
  return z
    .union([
      z.int().nonnegative(),
      z.string().regex(QUANTITY, { message: 'must be a Kubernetes quantity such as "500m", "2", "16Gi" or "1Ti"' }),
    ])
    .meta({ 'x-kubernetes-int-or-string': true, description });
}

/** An RFC 3339 timestamp with a time zone ("2027-03-31T23:59:59Z"). */
export function timestamp(description: string) {
  return z.iso
    .datetime({ offset: true, error: (iss) => (iss.input === undefined ? undefined : 'must be an RFC 3339 date-time such as "2027-03-31T23:59:59Z"') })
    .describe(description);
}

/** The number of NVIDIA GPUs a single pod may ask for: a DGX A100 node has eight. */
export const podGpus = z
  .int()
  .min(0, { message: 'must be between 0 and 8 (a DGX A100 node has 8 GPUs)' })
  .max(8, { message: 'must be between 0 and 8 (a DGX A100 node has 8 GPUs)' })
  .default(0)
  .describe('NVIDIA GPUs for this pod (0-8, the most one DGX A100 node has); each is an nvidia.com/gpu of the NVIDIA device plugin.');

/** An NVIDIA product name as GPU feature discovery labels nodes (nvidia.com/gpu.product). */
export const gpuProduct = z
  .string()
  .regex(/^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/, { message: 'must be an nvidia.com/gpu.product label value such as "NVIDIA-A100-SXM4-80GB"' })
  .max(63)
  .describe('GPU model to schedule on, as the nvidia.com/gpu.product node label names it, e.g. NVIDIA-A100-SXM4-80GB.');

/** A reference to a Secret in the enclave's namespace. */
export const secretRef = z
  .object({
    name: dnsLabel.describe('Name of the Secret.'),
    key: z.string().min(1).max(253).optional().describe('Key inside the Secret; the whole Secret when omitted.'),
  })
  .describe('A Secret in the same namespace holding credentials; its contents are never copied into other objects.');

/** One Kubernetes-shaped status condition. */
export const condition = z.object({
  type: z.string().min(1).max(316).describe('Condition type, CamelCase: Ready, plus one per concern (e.g. NetworkIsolated, AccessActive).'),
  status: z.enum(['True', 'False', 'Unknown']).describe('True, False or Unknown.'),
  reason: z.string().min(1).max(1024).describe('CamelCase reason from a closed set, e.g. Provisioned, Expired, InvalidSpec.'),
  message: z.string().max(32768).default('').describe('Human-readable details; names the field at fault when the spec is invalid.'),
  lastTransitionTime: timestamp('When status last changed.'),
  observedGeneration: z.int().nonnegative().optional().describe('The metadata.generation this condition was computed from.'),
});

/** The `conditions` list, keyed by type as Kubernetes lists of conditions are. */
export const conditions = z
  .array(condition)
  .meta({ 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['type'] })
  .describe('Current state per concern, Kubernetes convention; Ready summarises them.');

/**
 * Refuses a list in which an item repeats an earlier one's key, naming the repeat by its index
 * (`spec.sites[1]: Duplicate value: "uclh"`), as the API server does for a `list-type` set or map.
 */
export function unique<T>(keyOf: (item: T) => string): (list: T[], context: z.RefinementCtx) => void {
  return (list, context) => {
    const seen = new Set<string>();
    list.forEach((item, index) => {
      const key = keyOf(item);
      if (seen.has(key)) context.addIssue({ code: 'custom', message: `Duplicate value: "${key}"`, path: [index] });
      seen.add(key);
    });
  };
}

/** ObjectMeta as far as validation cares; the API server owns the rest. */
export const objectMeta = z
  .object({
    name: dnsLabel.describe('Object name.'),
    namespace: dnsLabel.optional().describe('Namespace, for namespaced kinds.'),
    labels: z.record(z.string(), z.string()).optional(),
    annotations: z.record(z.string(), z.string()).optional(),
  })
  .loose();

/**
 * A cross-field rule stated once and enforced twice: by zod (`check`) in the operator and the
 * CLI, and by the API server through the CEL `rule` emitted into the CRD.
 */
export interface CrossFieldRule<T> {
  /** CEL expression over `self`, as in x-kubernetes-validations. */
  rule: string;
  message: string;
  /** Field the rule is about, relative to the object it is attached to (e.g. "expiresAt"). */
  field?: string;
  check: (value: T) => boolean;
}

/** Attaches cross-field rules to an object schema: a zod refinement per rule plus the CEL list for the CRD. */
export function withRules<S extends z.ZodType>(schema: S, rules: CrossFieldRule<z.output<S>>[]): S {
  const validations = rules.map((r) => ({
    rule: r.rule,
    message: r.message,
    ...(r.field ? { fieldPath: `.${r.field}` } : {}),
  }));
  const refined = schema.superRefine((value, ctx) => {
    for (const r of rules) {
      if (!r.check(value as z.output<S>)) {
        ctx.addIssue({ code: 'custom', message: r.message, path: r.field ? r.field.split('.') : [] });
      }
    }
  });
  return refined.meta({ 'x-kubernetes-validations': validations }) as unknown as S;
}
