import { describe, expect, it } from 'vitest';
import { jsonEqual } from '../../../operator/runtime/json-equal.ts';
import { statusOnlyChange } from '../../../operator/runtime/event-mapping.ts';

describe('jsonEqual: the runtime\'s one deep equality', () => {
  const shared = { matchLabels: { app: 'jupyter' } };
  it.each([
    ['equal primitives', 'gpu', 'gpu', true],
    ['different primitives', 1, '1', false],
    ['null and an object', null, {}, false],
    ['objects with keys in another order', { a: 1, b: [1, 2] }, { b: [1, 2], a: 1 }, true],
    ['arrays in another order', [1, 2], [2, 1], false],
    ['an array and an object with index keys', [1], { 0: 1 }, false],
    ['a key holding undefined and an absent key', { a: 1, b: undefined }, { a: 1 }, true],
    ['a nested difference', { spec: { replicas: 1 } }, { spec: { replicas: 2 } }, false],
    ['the same subtree shared', { selector: shared }, { selector: shared }, true],
  ])('%s', (_case, a, b, expected) => {
    expect(jsonEqual(a, b)).toBe(expected);
    expect(jsonEqual(b, a)).toBe(expected);
  });
});

describe('statusOnlyChange: which watch events a controller may ignore', () => {
  const before = { apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'home', resourceVersion: '1', labels: { a: 'b' } }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } }, status: { phase: 'Pending' } };
  it.each([
    ['only the status and resourceVersion changed', { ...before, metadata: { ...before.metadata, resourceVersion: '2' }, status: { phase: 'Bound' } }, true],
    ['the spec changed', { ...before, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '2Gi' } } } }, false],
    ['a label changed', { ...before, metadata: { ...before.metadata, labels: { a: 'c' } } }, false],
    ['the spec was rewritten with its keys in another order', { ...before, metadata: { ...before.metadata, resourceVersion: '2' }, spec: { resources: { requests: { storage: '1Gi' } }, accessModes: ['ReadWriteOnce'] }, status: { phase: 'Bound' } }, true],
  ])('%s: %s', (_case, after, expected) => {
    expect(statusOnlyChange({ type: 'MODIFIED', object: after, previous: before })).toBe(expected);
  });

  it('an ADDED or DELETED event is never status only', () => {
    expect(statusOnlyChange({ type: 'ADDED', object: before })).toBe(false);
    expect(statusOnlyChange({ type: 'DELETED', object: before, previous: before })).toBe(false);
  });
});
