// The site rules against generated inputs: they never throw, and they agree with what the renderer allows.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { approvedEgress } from '../../constructs/network.ts';
import { checkEnclave, checkFederatedJob, checkWorkspace, FINDING_REASONS } from '../../policy/index.ts';
import { worldArb } from '../constructs/arbitraries.ts';

describe('site rules over generated inputs', () => {
  it('never throw, and give only known reasons with a field and a message', () => {
    fc.assert(
      fc.property(worldArb, (w) => {
        const findings = [
          ...checkEnclave(w.enclave, w.site),
          ...w.workspaces.flatMap((ws) => checkWorkspace(ws, w.enclave, w.site)),
          ...checkFederatedJob(w.job, w.enclave, w.site),
        ];
        for (const f of findings) {
          expect(FINDING_REASONS).toContain(f.reason);
          expect(f.field).toMatch(/^(spec|metadata)\./);
          expect(f.message).toMatch(/^expected .+; found /);
        }
      }),
      { numRuns: 150 },
    );
  });

  it('find no egress problem exactly when the renderer allows every requested egress rule in full', () => {
    fc.assert(
      fc.property(worldArb, (w) => {
        const refused = checkEnclave(w.enclave, w.site).some((f) => f.field.startsWith('spec.network.egress'));
        const rendered = approvedEgress(w.enclave, w.site);
        const requested = w.enclave.spec.network.egress.map((r) => ({ cidr: r.cidr, ports: r.ports }));
        expect(!refused).toBe(JSON.stringify(rendered) === JSON.stringify(requested));
      }),
      { numRuns: 200 },
    );
  });
});
