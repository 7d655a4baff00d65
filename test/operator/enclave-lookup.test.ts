// Which enclave changes reconcile the workloads inside it.
import type { KubernetesObject } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { enclaveChangeMattersToWorkloads } from '../../operator/enclave/lookup.ts';

type Condition = { type: string; status: string; reason: string };
const enclave = (resourceVersion: string, conditions: Condition[], extra: { phase?: string; workspaces?: number; expiresAt?: string } = {}): KubernetesObject =>
  ({
    apiVersion: 'sde.london/v1alpha1',
    kind: 'Enclave',
    metadata: { name: 'cardiac-mri', resourceVersion, generation: 1 },
    spec: { access: { expiresAt: extra.expiresAt ?? '2027-01-01T00:00:00Z' } },
    status: { phase: extra.phase ?? 'Ready', workspaces: extra.workspaces ?? 0, conditions },
  }) as unknown as KubernetesObject;
const isolated: Condition = { type: 'NetworkIsolated', status: 'True', reason: 'DefaultDeny' };
const valid: Condition = { type: 'SpecValid', status: 'True', reason: 'Valid' };
const active: Condition = { type: 'AccessActive', status: 'True', reason: 'Active' };
const modified = (previous: KubernetesObject, object: KubernetesObject) => ({ type: 'MODIFIED' as const, previous, object });

describe('enclave changes that reconcile its workloads', () => {
  it('ignores status changes a workload never reads: phase, workspace count, access conditions', () => {
    const before = enclave('1', [valid, isolated, active]);
    expect(enclaveChangeMattersToWorkloads(modified(before, enclave('2', [valid, isolated, { ...active, status: 'False', reason: 'Expired' }], { phase: 'Expired' })))).toBe(false);
    expect(enclaveChangeMattersToWorkloads(modified(before, enclave('2', [valid, isolated, active], { workspaces: 2 })))).toBe(false);
  });

  it('counts isolation and validity, which admission reads, and every spec change', () => {
    expect(enclaveChangeMattersToWorkloads(modified(enclave('1', [valid]), enclave('2', [valid, isolated])))).toBe(true);
    expect(enclaveChangeMattersToWorkloads(modified(enclave('1', [valid, isolated]), enclave('2', [{ ...valid, status: 'False', reason: 'EgressNotAllowed' }, isolated])))).toBe(true);
    expect(enclaveChangeMattersToWorkloads(modified(enclave('1', [valid, isolated]), enclave('2', [valid, isolated], { expiresAt: '2028-01-01T00:00:00Z' })))).toBe(true);
    expect(enclaveChangeMattersToWorkloads({ type: 'ADDED', object: enclave('1', []) })).toBe(true);
    expect(enclaveChangeMattersToWorkloads({ type: 'DELETED', object: enclave('1', []) })).toBe(true);
  });
});
