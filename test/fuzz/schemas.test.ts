// 10,000 mutated specs through the zod schemas and the generated CRD schemas: neither crashes, a
// refusal always names the field that was broken, and the CRD never refuses what the operator accepts.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { customResourceDefinition, KINDS } from '../../api/crd.ts';
import { DOCUMENT_SCHEMAS, problemsFromIssues } from '../../api/problems.ts';
import { crdValidator } from '../api/crd-validator.ts';
import { exampleDoc, mutantArb, related } from './mutations.ts';

const CASES: { kind: string; file: string; runs: number }[] = [
  { kind: 'Enclave', file: 'enclave-cardiac-mri.yaml', runs: 4_000 },
  { kind: 'Workspace', file: 'workspace-jupyter-gpu.yaml', runs: 3_000 },
  { kind: 'FederatedJob', file: 'federatedjob-nvflare.yaml', runs: 3_000 },
];
const SEED = Number(process.env.FUZZ_SEED ?? 20261127);

function validatorFor(kind: string): ReturnType<typeof crdValidator> {
  const def = KINDS.find((k) => k.kind === kind);
  if (!def) throw new Error(`expected a CRD for ${kind}`);
  const crd = customResourceDefinition(def) as { spec: { versions: { schema: { openAPIV3Schema: Record<string, unknown> } }[] } };
  return crdValidator(crd.spec.versions[0]!.schema.openAPIV3Schema);
}

describe.each(CASES)('$runs mutated $kind specs', ({ kind, file, runs }) => {
  const schema = DOCUMENT_SCHEMAS[kind]!;
  const crd = validatorFor(kind);
  const base = exampleDoc(file);

  it('never crash the schemas; each refusal names the mutated field; the CRD accepts whatever zod accepts', () => {
    const tally = { zodRefused: 0, crdRefused: 0, bothAccepted: 0 };
    fc.assert(
      fc.property(mutantArb(base), (m) => {
        const parsed = schema.safeParse(m.doc);
        const wire = JSON.parse(JSON.stringify(m.doc)) as unknown;
        const violations = crd(wire);
        if (!parsed.success) {
          tally.zodRefused += 1;
          const problems = problemsFromIssues(parsed.error.issues, { source: 'fuzz', index: 1 });
          expect(problems.length).toBeGreaterThan(0);
          for (const p of problems) expect(p.path, p.message).not.toBe('');
          expect(problems.some((p) => related(p.path, m.path)), `zod names ${m.path}: ${JSON.stringify(problems.map((p) => p.path))}`).toBe(true);
        }
        if (violations.length > 0) {
          tally.crdRefused += 1;
          expect(violations.some((v) => related(v.path, m.path)), `CRD names ${m.path}: ${JSON.stringify(violations)}`).toBe(true);
        }
        if (parsed.success && schema.safeParse(wire).success) {
          expect(violations, `the CRD refuses a spec zod accepts (${m.path})`).toEqual([]);
          tally.bothAccepted += 1;
        }
      }),
      { numRuns: runs, seed: SEED },
    );
    console.log(`fuzz ${kind}: ${runs} specs, zod refused ${tally.zodRefused}, CRD refused ${tally.crdRefused}, both accepted ${tally.bothAccepted}`);
  }, 60_000);
});
