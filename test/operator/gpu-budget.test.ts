// The enclave's GPU quota, first come first served among its workspaces and federated jobs.
import type { KubernetesObject } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { gpuQuotaRefusal, gpusHeldBefore } from '../../operator/gpu-budget.ts';

const at = '2026-11-27T09:00:00Z';
const later = '2026-11-27T09:05:00Z';
const workspace = (name: string, gpus: number, extra: { created?: string; phase?: string; state?: string } = {}): KubernetesObject =>
  ({ apiVersion: 'sde.london/v1alpha1', kind: 'Workspace', metadata: { name, creationTimestamp: extra.created ?? at }, spec: { resources: { gpus }, ...(extra.state ? { state: extra.state } : {}) }, ...(extra.phase ? { status: { phase: extra.phase } } : {}) }) as unknown as KubernetesObject;
const job = (name: string, gpus: number, phase?: string): KubernetesObject =>
  ({ apiVersion: 'sde.london/v1alpha1', kind: 'FederatedJob', metadata: { name, creationTimestamp: at }, spec: { participant: { resources: { gpus } } }, ...(phase ? { status: { phase } } : {}) }) as unknown as KubernetesObject;

describe('GPU budget', () => {
  it('counts what earlier workloads hold, by creation time and then name', () => {
    const consumers = [workspace('alpha', 2), workspace('beta', 1), workspace('zeta', 1, { created: later })];
    expect(gpusHeldBefore(consumers[1]!, consumers)).toBe(2);
    expect(gpusHeldBefore(consumers[2]!, consumers)).toBe(3);
    expect(gpusHeldBefore(consumers[0]!, consumers)).toBe(0);
  });

  it('refuses a request over what is left, naming the field and the figures', () => {
    const consumers = [workspace('alpha', 2), workspace('greedy', 4)];
    expect(gpuQuotaRefusal(consumers[1]!, consumers, 4, 4, 'spec.resources.gpus')).toEqual({
      reason: 'QuotaExceeded',
      message: "spec.resources.gpus: asks for 4 GPU(s) but the enclave's quota of 4 has 2 left (2 held by earlier workspaces and jobs)",
    });
    expect(gpuQuotaRefusal(consumers[0]!, consumers, 2, 4, 'spec.resources.gpus')).toBeUndefined();
  });

  it('keeps refusing a workload it refused before: its own Failed phase does not free its request', () => {
    const refused = workspace('greedy', 4, { phase: 'Failed' });
    const consumers = [workspace('alpha', 2), refused];
    expect(gpuQuotaRefusal(refused, consumers, 4, 4, 'spec.resources.gpus')?.reason).toBe('QuotaExceeded');
  });

  it('lets refused workloads, stopped workspaces and finished jobs hold nothing', () => {
    const consumers = [workspace('alpha', 4, { phase: 'Failed' }), workspace('beta', 4, { state: 'Stopped' }), job('gamma', 4, 'Succeeded'), job('delta', 4, 'Failed'), workspace('zeta', 4, { created: later })];
    expect(gpuQuotaRefusal(consumers[4]!, consumers, 4, 4, 'spec.resources.gpus')).toBeUndefined();
    const running = [job('gamma', 3, 'Running'), workspace('zeta', 4, { created: later })];
    expect(gpuQuotaRefusal(running[1]!, running, 4, 4, 'spec.resources.gpus')?.reason).toBe('QuotaExceeded');
  });
});
