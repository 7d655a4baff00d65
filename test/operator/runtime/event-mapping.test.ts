// Which primaries a watch event reconciles: owners found from a changed child, and changes confined to status.
import type { KubernetesObject } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { ownerKeys, statusOnlyChange } from '../../../operator/runtime/event-mapping.ts';
import { ENCLAVE } from '../../../api/labels.ts';
import { resourceType } from '../../../operator/runtime/resources.ts';

const Enclave = resourceType('sde.london/v1alpha1', 'Enclave', 'enclaves', false);
const Workspace = resourceType('sde.london/v1alpha1', 'Workspace', 'workspaces', true);

const child = (metadata: KubernetesObject['metadata']): KubernetesObject => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata });
const ref = (kind: string, name: string, controller: boolean, apiVersion = 'sde.london/v1alpha1') => ({ apiVersion, kind, name, uid: `uid-${name}`, controller });

describe('ownerKeys: which primary a changed child belongs to', () => {
  const enclaves = { primary: Enclave, ownerLabel: ENCLAVE };
  const workspaces = { primary: Workspace, ownerLabel: undefined };

  it.each([
    ['a controller owner reference', enclaves, child({ name: 'ns', ownerReferences: [ref('Enclave', 'omop-42', true)] }), ['omop-42']],
    ['a non-controller reference (ignored)', enclaves, child({ name: 'x', ownerReferences: [ref('Enclave', 'omop-42', false)] }), []],
    ['a reference to the same kind in another group (ignored)', enclaves, child({ name: 'x', ownerReferences: [ref('Enclave', 'omop-42', true, 'other.example/v1')] }), []],
    ['the enclave label inside the enclave namespace', enclaves, child({ name: 'quota', namespace: 'sandpit-omop-42', labels: { [ENCLAVE]: 'omop-42' } }), ['omop-42']],
    ['both, naming the same owner once', enclaves, child({ name: 'x', namespace: 'sandpit-omop-42', labels: { [ENCLAVE]: 'omop-42' }, ownerReferences: [ref('Enclave', 'omop-42', true)] }), ['omop-42']],
    ['a namespaced owner: key is namespace/name', workspaces, child({ name: 'alice-home', namespace: 'sandpit-a', ownerReferences: [ref('Workspace', 'alice-jupyter', true)] }), ['sandpit-a/alice-jupyter']],
    ['a label the workspace controller does not use (ignored)', workspaces, child({ name: 'x', namespace: 'sandpit-a', labels: { [ENCLAVE]: 'a' } }), []],
  ])('maps %s', (_name, controller, object, keys) => {
    expect(ownerKeys(controller.primary, controller.ownerLabel, object)).toEqual(keys);
  });
});

describe('statusOnlyChange: which watch events a controller may ignore', () => {
  const before = { apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'home', resourceVersion: '1', labels: { a: 'b' } }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } }, status: { phase: 'Pending' } };
  it.each([
    ['only the status and resourceVersion changed', { ...before, metadata: { ...before.metadata, resourceVersion: '2' }, status: { phase: 'Bound' } }, true],
    ['the spec changed', { ...before, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '2Gi' } } } }, false],
    ['a label changed', { ...before, metadata: { ...before.metadata, labels: { a: 'c' } } }, false],
    ['the status written by a manager taking its fields over (managedFields changed too)', { ...before, metadata: { ...before.metadata, resourceVersion: '2', managedFields: [{ manager: 'kube-apiserver', operation: 'Update', subresource: 'status' }] }, status: { phase: 'Bound' } }, true],
    ['a finalizer added', { ...before, metadata: { ...before.metadata, resourceVersion: '2', finalizers: ['kubernetes.io/pvc-protection'], managedFields: [{ manager: 'kube-controller-manager', operation: 'Update' }] } }, false],
    ['the spec was rewritten with its keys in another order', { ...before, metadata: { ...before.metadata, resourceVersion: '2' }, spec: { resources: { requests: { storage: '1Gi' } }, accessModes: ['ReadWriteOnce'] }, status: { phase: 'Bound' } }, true],
  ])('%s: %s', (_case, after, expected) => {
    expect(statusOnlyChange({ type: 'MODIFIED', object: after, previous: before })).toBe(expected);
  });

  it('an ADDED or DELETED event is never status only', () => {
    expect(statusOnlyChange({ type: 'ADDED', object: before })).toBe(false);
    expect(statusOnlyChange({ type: 'DELETED', object: before, previous: before })).toBe(false);
  });
});
