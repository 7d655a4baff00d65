// CustomResourceDefinitions generated from the zod schemas: the one source of truth for the API.
import { z } from 'zod';
import { ENCLAVE_NAME_MAX, NAMESPACE_PREFIX, enclaveSpec, enclaveStatus } from './enclave.ts';
import { federatedJobSpec, federatedJobStatus } from './federatedjob.ts';
import { atLeast, type KubernetesVersion } from './kubernetes-version.ts';
import { GROUP, VERSION } from './meta.ts';
import { workspaceSpec, workspaceStatus } from './workspace.ts';

type JsonSchema = { [key: string]: unknown };

interface PrinterColumn {
  name: string;
  type: 'string' | 'integer' | 'number' | 'boolean' | 'date';
  jsonPath: string;
  description?: string;
  priority?: number;
}

/** What makes one kind: names, scope, schemas and how kubectl shows it. */
export interface KindDefinition {
  kind: string;
  plural: string;
  singular: string;
  shortNames: string[];
  scope: 'Cluster' | 'Namespaced';
  description: string;
  spec: z.ZodType;
  status: z.ZodType;
  printerColumns: PrinterColumn[];
  /** CEL rules on the whole object (e.g. on metadata.name), which the schema cannot say otherwise. */
  objectRules?: { rule: string; message: string; fieldPath?: string }[];
}

const READY = '.status.conditions[?(@.type=="Ready")].status';
const AGE: PrinterColumn = { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' };

/** The three kinds of the sde.london API, in the order they are documented and applied. */
export const KINDS: readonly KindDefinition[] = [
  {
    kind: 'Enclave',
    plural: 'enclaves',
    singular: 'enclave',
    shortNames: ['enc'],
    scope: 'Cluster',
    description: 'An approved project\'s secure sandpit at one site: a namespace with zero-trust networking, quotas, read-only data and time-limited member access.',
    spec: enclaveSpec,
    status: enclaveStatus,
    printerColumns: [
      { name: 'Site', type: 'string', jsonPath: '.spec.site' },
      { name: 'Project', type: 'string', jsonPath: '.spec.project.id', priority: 1 },
      { name: 'Phase', type: 'string', jsonPath: '.status.phase' },
      { name: 'Ready', type: 'string', jsonPath: READY },
      { name: 'Expires', type: 'string', jsonPath: '.status.effectiveExpiresAt' },
      { name: 'GPUs', type: 'integer', jsonPath: '.spec.resources.gpus' },
      { name: 'Namespace', type: 'string', jsonPath: '.status.namespace', priority: 1 },
      AGE,
    ],
    objectRules: [
      {
        rule: `self.metadata.name.size() <= ${ENCLAVE_NAME_MAX}`,
        message: `must be at most ${ENCLAVE_NAME_MAX} characters: the enclave's namespace is "${NAMESPACE_PREFIX}<name>"`,
        fieldPath: '.metadata.name',
      },
      {
        rule: "self.metadata.name.matches('^[a-z0-9]([-a-z0-9]*[a-z0-9])?$')",
        message: `must be a DNS label (lowercase letters, digits and "-", no dots): the enclave's namespace is "${NAMESPACE_PREFIX}<name>"`,
        fieldPath: '.metadata.name',
      },
    ],
  },
  {
    kind: 'Workspace',
    plural: 'workspaces',
    singular: 'workspace',
    shortNames: ['ws'],
    scope: 'Namespaced',
    description: 'A researcher\'s JupyterLab, RStudio or VS Code server inside an enclave, with the enclave\'s datasets mounted read-only.',
    spec: workspaceSpec,
    status: workspaceStatus,
    printerColumns: [
      { name: 'Owner', type: 'string', jsonPath: '.spec.owner' },
      { name: 'Tool', type: 'string', jsonPath: '.spec.tool' },
      { name: 'GPUs', type: 'integer', jsonPath: '.spec.resources.gpus' },
      { name: 'Phase', type: 'string', jsonPath: '.status.phase' },
      { name: 'Ready', type: 'string', jsonPath: READY },
      { name: 'Node', type: 'string', jsonPath: '.status.node', priority: 1 },
      AGE,
    ],
  },
  {
    kind: 'FederatedJob',
    plural: 'federatedjobs',
    singular: 'federatedjob',
    shortNames: ['fedjob'],
    scope: 'Namespaced',
    description: 'This site\'s part of a federated learning run (NVIDIA FLARE or Flower): a GPU job whose only egress is the aggregator.',
    spec: federatedJobSpec,
    status: federatedJobStatus,
    printerColumns: [
      { name: 'Framework', type: 'string', jsonPath: '.spec.framework' },
      { name: 'Phase', type: 'string', jsonPath: '.status.phase' },
      { name: 'Sites', type: 'string', jsonPath: '.spec.sites' },
      { name: 'Rounds', type: 'integer', jsonPath: '.spec.rounds', priority: 1 },
      AGE,
    ],
  },
];

const SAFE_INT = Number.MAX_SAFE_INTEGER;

/**
 * Rewrites zod's OpenAPI 3.0 output into a Kubernetes structural schema: int-or-string marked,
 * no patterns beside formats, no unrepresentable bounds, unknown values preserved.
 */
export function toStructural(node: JsonSchema): JsonSchema {
  const out: JsonSchema = {};
  for (const [key, value] of Object.entries(node)) {
    if (key === '$schema' || key === 'id' || key === 'uniqueItems') continue;
    if ((key === 'maximum' && value === SAFE_INT) || (key === 'minimum' && value === -SAFE_INT)) continue;
    if (key === 'properties') {
      out.properties = Object.fromEntries(Object.entries(value as Record<string, JsonSchema>).map(([k, v]) => [k, toStructural(v)]));
    } else if (key === 'items' || (key === 'additionalProperties' && typeof value === 'object')) {
      out[key] = toStructural(value as JsonSchema);
    } else {
      out[key] = value;
    }
  }
  if (out['x-kubernetes-int-or-string'] === true && Array.isArray(out.anyOf)) {
    const branches = out.anyOf as JsonSchema[];
    const pattern = branches.find((b) => b.type === 'string')?.pattern;
    out.anyOf = [{ type: 'integer' }, { type: 'string' }];
    if (pattern !== undefined) out.pattern = pattern;
  }
  if (out.format === 'date-time') delete out.pattern;
  if (out.additionalProperties === false && out.properties !== undefined) delete out.additionalProperties;
  if (Object.keys(out).every((k) => k === 'description' || k === 'default')) {
    out['x-kubernetes-preserve-unknown-fields'] = true;
  }
  return out;
}

function schemaOf(type: z.ZodType): JsonSchema {
  const raw = z.toJSONSchema(type, { target: 'openapi-3.0', io: 'input', reused: 'inline', unrepresentable: 'any' }) as JsonSchema;
  return toStructural(raw);
}

/** The OpenAPI v3 schema of one kind's objects, as the CRD carries it. */
export function openApiSchema(def: KindDefinition): JsonSchema {
  return {
    type: 'object',
    description: def.description,
    required: ['spec'],
    properties: {
      apiVersion: { type: 'string', description: 'APIVersion defines the versioned schema of this representation of an object.' },
      kind: { type: 'string', description: 'Kind is a string value representing the REST resource this object represents.' },
      metadata: { type: 'object' },
      spec: { ...schemaOf(def.spec), description: `Desired state of the ${def.kind}.` },
      status: { ...schemaOf(def.status), description: `Observed state of the ${def.kind}, written by the operator.` },
    },
    ...(def.objectRules ? { 'x-kubernetes-validations': def.objectRules } : {}),
  };
}

/** The CustomResourceDefinition of one kind: structural schema, status subresource, printer columns, category sde. */
export function customResourceDefinition(def: KindDefinition): JsonSchema {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: {
      name: `${def.plural}.${GROUP}`,
      labels: { 'app.kubernetes.io/name': 'sde-operator', 'app.kubernetes.io/part-of': 'sde-enclave-operator' },
    },
    spec: {
      group: GROUP,
      scope: def.scope,
      names: {
        kind: def.kind,
        listKind: `${def.kind}List`,
        plural: def.plural,
        singular: def.singular,
        shortNames: def.shortNames,
        categories: ['sde'],
      },
      versions: [
        {
          name: VERSION,
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: def.printerColumns,
          schema: { openAPIV3Schema: openApiSchema(def) },
        },
      ],
    },
  };
}

/**
 * Fields of an `x-kubernetes-validations` rule and the release whose API server first accepts
 * them; an older one refuses the whole CRD (`unknown field "fieldPath"`).
 */
const RULE_FIELDS_SINCE: ReadonlyArray<readonly [field: string, major: number, minor: number]> = [
  ['messageExpression', 1, 27],
  ['fieldPath', 1, 28],
  ['reason', 1, 28],
  ['optionalOldSelf', 1, 29],
];

/**
 * A copy of `node` that a `version` API server accepts. Before 1.25 CEL rules are alpha and off
 * (and 1.23's cost estimator refuses some of ours), so they go whole and zod alone decides them,
 * in the operator, which reports a refusal as a condition. From 1.25, each rule keeps what the
 * release knows.
 */
function forRelease(node: unknown, version: KubernetesVersion): unknown {
  if (Array.isArray(node)) return node.map((item) => forRelease(item, version));
  if (node === null || typeof node !== 'object') return node;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(node)) {
    if (key === 'x-kubernetes-validations') {
      if (!atLeast(version, 1, 25)) continue;
      out[key] = (value as Record<string, unknown>[]).map((rule) =>
        Object.fromEntries(Object.entries(rule).filter(([field]) => RULE_FIELDS_SINCE.every(([name, major, minor]) => name !== field || atLeast(version, major, minor)))),
      );
    } else {
      out[key] = forRelease(value, version);
    }
  }
  return out;
}

/**
 * Every CRD of the API, keyed by the file name it is checked in under crds/. Without a version
 * they carry every field (what `crds/` holds, for 1.28 and later); with one, only what that
 * release's API server accepts (see {@link forRelease}).
 */
export function allCustomResourceDefinitions(options: { kubernetesVersion?: KubernetesVersion } = {}): { file: string; crd: JsonSchema }[] {
  const { kubernetesVersion } = options;
  return KINDS.map((def) => {
    const crd = customResourceDefinition(def);
    return { file: `${def.plural}.${GROUP}.yaml`, crd: kubernetesVersion ? (forRelease(crd, kubernetesVersion) as JsonSchema) : crd };
  });
}
