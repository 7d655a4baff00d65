import type { KubernetesObject } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { isProtectedFromPrune, OPERATOR_IDENTITY, PROTECTED_KINDS, USER_AGENT } from '../../operator/identity.ts';

describe('the operator\'s identity, given to the runtime', () => {
  it('writes as sde-operator and says so in every request', () => {
    expect(OPERATOR_IDENTITY).toMatchObject({ fieldManager: 'sde-operator', managedBy: { label: 'app.kubernetes.io/managed-by', value: 'sde-operator' } });
    expect(USER_AGENT).toMatch(/^sde-operator\/\d+\.\d+\.\d+ \(node v24\./);
  });
});

describe('prune: protected data', () => {
  const object = (kind: string, labels: Record<string, string> = {}): KubernetesObject => ({ apiVersion: 'v1', kind, metadata: { name: 'x', labels } });

  it('names PersistentVolume as a protected kind', () => {
    expect(PROTECTED_KINDS).toContain('PersistentVolume');
  });

  it.each([
    ['a dataset PersistentVolume', object('PersistentVolume', { 'sde.london/enclave': 'a' }), true],
    ['an unlabelled PersistentVolume', object('PersistentVolume'), true],
    ['a PVC marked as data', object('PersistentVolumeClaim', { 'sde.london/data': 'true' }), true],
    ['a home PVC not marked as data', object('PersistentVolumeClaim', { 'sde.london/enclave': 'a' }), false],
    ['a PVC with data=false', object('PersistentVolumeClaim', { 'sde.london/data': 'false' }), false],
    ['a StatefulSet', object('StatefulSet', { 'sde.london/enclave': 'a' }), false],
    ['a RoleBinding', object('RoleBinding'), false],
  ])('%s is protected: %s', (_name, candidate, expected) => {
    expect(isProtectedFromPrune(candidate)).toBe(expected);
    expect(OPERATOR_IDENTITY.protectFromPrune(candidate)).toBe(expected);
  });
});
