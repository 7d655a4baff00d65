// The API's rules, case by case, decided twice: by the zod schemas (what the operator and the CLI
// use) and by the generated CRD schema (what the API server uses). Where the CRD can decide a case
// both must agree; the rest are marked with where they are enforced instead.
import { describe, expect, it } from 'vitest';
import { allCustomResourceDefinitions } from '../../api/crd.ts';
import { DOCUMENT_SCHEMAS, problemsFromIssues } from '../../api/problems.ts';
import { crdValidator, type CrdViolation } from './crd-validator.ts';
import { CASES, type Case } from './schema-cases.ts';

type Validator = (obj: unknown) => CrdViolation[];
type CrdSchema = { spec: { names: { kind: string }; versions: { schema: { openAPIV3Schema: Record<string, unknown> } }[] } };

function validatorsByKind(crds: { crd: Record<string, unknown> }[]): Record<string, Validator> {
  return Object.fromEntries(
    crds.map(({ crd }) => {
      const { spec } = crd as CrdSchema;
      return [spec.names.kind, crdValidator((spec.versions[0] as CrdSchema['spec']['versions'][number]).schema.openAPIV3Schema)];
    }),
  );
}

const validators = validatorsByKind(allCustomResourceDefinitions());
// What a 1.23 API server is given: no CEL rules, so only the OpenAPI part of the schema decides.
const withoutCel = validatorsByKind(allCustomResourceDefinitions({ kubernetesVersion: { major: 1, minor: 23 } }));

function zodVerdict(c: Case): string[] {
  const result = (DOCUMENT_SCHEMAS[c.kind] as (typeof DOCUMENT_SCHEMAS)[string]).safeParse(c.doc);
  return result.success ? [] : problemsFromIssues(result.error.issues, { source: 'case', index: 1 }).map((p) => p.path);
}

describe('API schema cases', () => {
  it('covers at least 40 cases across the three kinds', () => {
    expect(CASES.length).toBeGreaterThanOrEqual(40);
    expect(new Set(CASES.map((c) => c.kind))).toEqual(new Set(['Enclave', 'Workspace', 'FederatedJob']));
  });

  it.each(CASES)('$kind: $name → zod says valid=$valid', (c) => {
    const fields = zodVerdict(c);
    if (c.valid) expect(fields).toEqual([]);
    else expect(fields).toContain(c.field);
  });

  it.each(CASES.filter((c) => c.decidedBy !== 'api-server'))('$kind: $name → the CRD schema agrees with zod', (c) => {
    const violations = (validators[c.kind] as Validator)(c.doc);
    if (c.valid) expect(violations).toEqual([]);
    else expect(violations.map((v) => v.path)).toContain(c.field);
  });

  it.each(CASES.filter((c) => c.decidedBy === 'api-server'))('$kind: $name → left to the API server by the CRD schema', (c) => {
    const violations = (validators[c.kind] as Validator)(c.doc);
    expect(violations).toEqual([]);
  });

  // The real-server suite skips `cel` cases where CEL is off and runs the rest: a case marked
  // wrongly would be skipped while OpenAPI decides it, or fail there for want of a rule.
  it.each(CASES.filter((c) => !c.valid && c.decidedBy !== 'api-server'))('$kind: $name → marked cel exactly when only a CEL rule names its field', (c) => {
    const named = (withoutCel[c.kind] as Validator)(c.doc).map((v) => v.path).includes(c.field as string);
    expect(c.cel === true).toBe(!named);
  });

  it('marks no valid or API-server case as resting on CEL', () => {
    expect(CASES.filter((c) => c.cel && (c.valid || c.decidedBy === 'api-server')).map((c) => c.name)).toEqual([]);
  });
});
