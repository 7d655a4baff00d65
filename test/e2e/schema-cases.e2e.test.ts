// The schema case table (test/api/schema-cases.ts) on a real API server: each spec is created with
// dryRun=All (nothing is stored) and must get the table's verdict, naming the table's field.
// Locally ajv and a CEL library stand in for the server; this is the truth they stand in for.
// Runs when KUBECONFIG points at a cluster, skipped with a message otherwise.
//   KUBECONFIG=/tmp/kube/kubeconfig npx vitest run --config vitest.e2e.config.ts test/e2e/schema-cases.e2e.test.ts
import { ApiException, KubeConfig } from '@kubernetes/client-node';
import type { KubernetesObject } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KINDS } from '../../api/crd.ts';
import { atLeast, formatKubernetesVersion, parseKubernetesVersion, type KubernetesVersion } from '../../api/kubernetes-version.ts';
import { installCustomResourceDefinitions } from '../../operator/crds.ts';
import { KubeClient, Kinds } from '../../operator/runtime/index.ts';
import { CASES, type Case } from '../api/schema-cases.ts';

const kubeconfig = process.env.KUBECONFIG;
if (!kubeconfig) console.warn('schema cases on a real server skipped: set KUBECONFIG to a cluster to run them');

const FIELD_MANAGER = 'sde-e2e';
const NAMESPACE = `sde-schema-cases-${Math.random().toString(36).slice(2, 8)}`;
const NAMESPACED = new Set(KINDS.filter((k) => k.scope === 'Namespaced').map((k) => k.kind));

// Read at collection time, so the CEL cases can be skipped by name on a server that has no CEL.
const client = kubeconfig ? new KubeClient(fromFile(kubeconfig)) : undefined;
const version = client ? parseKubernetesVersion(await client.serverVersion()) : undefined;
const celServed = version !== undefined && atLeast(version, 1, 25);
const CEL_SKIPPED = `skipped on ${version ? formatKubernetesVersion(version) : 'this server'}: CEL is alpha and off before 1.25, so its CRDs carry no rules and zod alone decides`;

function fromFile(path: string): KubeConfig {
  const config = new KubeConfig();
  config.loadFromFile(path);
  return config;
}

// What the server answered: the HTTP status, the fields its Status names (details.causes), its message.
interface Answer { code: number; fields: string[]; message: string }

type Status = { message?: string; details?: { causes?: { field?: string }[] } };

async function dryRunCreate(c: Case): Promise<Answer> {
  const object = structuredClone(c.doc) as KubernetesObject;
  const { namespace: _, ...metadata } = object.metadata ?? {};
  object.metadata = NAMESPACED.has(c.kind) ? { ...metadata, namespace: NAMESPACE } : metadata;
  try {
    await (client as KubeClient).objects.create(object, undefined, 'All', FIELD_MANAGER);
    return { code: 201, fields: [], message: '' };
  } catch (error) {
    if (!(error instanceof ApiException)) throw error;
    const body = error.body as unknown;
    const status = (typeof body === 'string' ? JSON.parse(body) : body) as Status;
    return { code: error.code, fields: (status.details?.causes ?? []).flatMap((c) => (c.field ? [c.field] : [])), message: status.message ?? '' };
  }
}

const titled = (cases: Case[]): (Case & { expected: string })[] => cases.map((c) => ({ ...c, expected: c.valid ? 'accepted' : `refused at ${c.field}` }));

function expectVerdict(c: Case, answer: Answer): void {
  if (c.valid) {
    expect(answer.code, answer.message).toBe(201);
  } else {
    expect(answer.code, answer.message).toBe(422);
    expect(answer.fields, answer.message).toContain(c.field);
  }
}

// Before 1.28 a CEL rule has no fieldPath, so the server names the object carrying the rule: the
// case's field or a path above it, "<nil>" for the root (as 1.23 did with its alpha gate on,
// e.g. spec.access for validFrom's rule, "<nil>" for the name's).
function expectCelVerdict(c: Case, answer: Answer): void {
  if (atLeast(version as KubernetesVersion, 1, 28)) return expectVerdict(c, answer);
  const field = c.field as string;
  expect(answer.code, answer.message).toBe(422);
  expect(answer.fields.some((f) => f === '<nil>' || field === f || field.startsWith(`${f}.`) || field.startsWith(`${f}[`)), answer.message).toBe(true);
}

describe.skipIf(!client)(`the schema case table on the API server in KUBECONFIG (${version ? formatKubernetesVersion(version) : 'none'})`, () => {
  beforeAll(async () => {
    const kube = client as KubeClient;
    await installCustomResourceDefinitions(kube, FIELD_MANAGER);
    await kube.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NAMESPACE } }, { fieldManager: FIELD_MANAGER, force: true });
  });
  afterAll(async () => {
    await client?.delete({ apiVersion: Kinds.Namespace.apiVersion, kind: Kinds.Namespace.kind, metadata: { name: NAMESPACE } });
  });

  describe('decided by the CRD\'s OpenAPI schema', () => {
    it.each(titled(CASES.filter((c) => c.decidedBy !== 'api-server' && !c.cel)))('$kind: $name → $expected', async (c) => {
      expectVerdict(c, await dryRunCreate(c));
    });
  });

  describe('decided by the API server itself (list-map and set uniqueness, metadata name syntax)', () => {
    it.each(titled(CASES.filter((c) => c.decidedBy === 'api-server')))('$kind: $name → $expected', async (c) => {
      expectVerdict(c, await dryRunCreate(c));
    });
  });

  describe(celServed ? 'decided by CEL rules' : `decided by CEL rules: ${CEL_SKIPPED}`, () => {
    it.skipIf(!celServed).each(titled(CASES.filter((c) => c.cel)))('$kind: $name → $expected', async (c) => {
      expectCelVerdict(c, await dryRunCreate(c));
    });
  });
});
