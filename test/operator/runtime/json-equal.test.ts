import { describe, expect, it } from 'vitest';
import { jsonEqual } from '../../../operator/runtime/json-equal.ts';

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
