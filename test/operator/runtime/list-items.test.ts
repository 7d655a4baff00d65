import { describe, expect, it } from 'vitest';
import { ListItemReader } from '../../../operator/runtime/list-items.ts';

function split(text: string): { items: unknown[]; envelope: unknown } {
  const items: unknown[] = [];
  const reader = new ListItemReader((item) => items.push(item));
  reader.write(text);
  return { items, envelope: reader.end() };
}

// A value whose strings hold what a scanner could trip on: quotes, escapes, brackets, commas.
function awkwardValue(seed: number): unknown {
  const strings = ['plain', 'with "quotes"', 'ends with a backslash \\', '\\"', 'braces { } [ ] , :', 'line\nbreak\ttab', 'ünïcødé ✓ 🚀', ''];
  const pick = (i: number): string => strings[(seed + i) % strings.length] as string;
  return {
    metadata: { name: `item-${seed}`, labels: { [pick(1)]: pick(2) }, resourceVersion: String(1000 + seed) },
    spec: { values: [pick(3), seed, -seed / 7, true, null, [], {}, [pick(4), { deep: [pick(5)] }]], text: pick(6) },
    status: seed % 2 === 0 ? { phase: pick(7) } : {},
  };
}

describe('ListItemReader: a list response parsed an item at a time', () => {
  it('gives every item in order, each equal to JSON.parse of the whole, and the envelope without them', () => {
    const list = { kind: 'ConfigMapList', apiVersion: 'v1', metadata: { resourceVersion: '4242', continue: 'tok"en' }, items: Array.from({ length: 40 }, (_, i) => awkwardValue(i)) };
    for (const text of [JSON.stringify(list), JSON.stringify(list, null, 2)]) {
      const { items, envelope } = split(text);
      const whole = JSON.parse(text) as typeof list;
      expect(items).toEqual(whole.items);
      expect(items).toHaveLength(40);
      expect(envelope).toEqual({ ...whole, items: [] });
    }
  });

  it('reads the same from pieces of any size, handing each item over as soon as it is complete', () => {
    const list = { kind: 'RoleList', apiVersion: 'rbac.authorization.k8s.io/v1', metadata: { resourceVersion: '9' }, items: Array.from({ length: 25 }, (_, i) => awkwardValue(i)) };
    const text = JSON.stringify(list);
    for (const size of [1, 2, 3, 7, 64, 1000]) {
      const items: unknown[] = [];
      let written = 0;
      const completeWhen: number[] = [];
      const reader = new ListItemReader((item) => {
        items.push(item);
        completeWhen.push(written);
      });
      for (let at = 0; at < text.length; at += size) {
        written = Math.min(text.length, at + size);
        reader.write(text.slice(at, at + size));
      }
      expect(reader.end()).toEqual({ ...list, items: [] });
      expect(items).toEqual(JSON.parse(text).items);
      // Each item was handed over while its own piece was written, not at the end.
      const ends = (JSON.parse(text).items as unknown[]).map((item) => text.indexOf(JSON.stringify(item)) + JSON.stringify(item).length);
      expect(completeWhen.map((w, i) => w >= ends[i]! && w - ends[i]! < size)).toEqual(ends.map(() => true));
    }
  });

  it('finds items wherever the key comes, past values of every type, and ignores "items" deeper down', () => {
    const text = '{"a":"items","b":{"items":[1,2]},"c":[{"items":[3]}],"d":12.5e3,"e":null,"f":false,"items":[{"x":1} , {"x":"]"}],"metadata":{"resourceVersion":"7"}}';
    const { items, envelope } = split(text);
    expect(items).toEqual([{ x: 1 }, { x: ']' }]);
    expect(envelope).toEqual({ a: 'items', b: { items: [1, 2] }, c: [{ items: [3] }], d: 12500, e: null, f: false, items: [], metadata: { resourceVersion: '7' } });
  });

  it('handles an empty list, a list without items and items that are null', () => {
    expect(split('{"metadata":{"resourceVersion":"1"},"items":[]}')).toEqual({ items: [], envelope: { metadata: { resourceVersion: '1' }, items: [] } });
    expect(split('{"metadata":{"resourceVersion":"1"}}')).toEqual({ items: [], envelope: { metadata: { resourceVersion: '1' } } });
    expect(split('{"items":null}')).toEqual({ items: [], envelope: { items: null } });
  });

  it.each([
    ['a truncated response', '{"metadata":{},"items":[{"a":1},{"b":'],
    ['an unterminated string in an item', '{"items":[{"a":"oops}]}'],
    ['items not separated by commas', '{"items":[{"a":1} {"b":2}]}'],
    ['an item that is not an object', '{"items":[{"a":1},2]}'],
    ['an item that is not JSON', '{"items":[{a:1}]}'],
    ['a JSON array instead of a list', '[1,2]'],
    ['not JSON at all', 'Internal Server Error'],
  ])('throws a SyntaxError for %s', (_case, text) => {
    expect(() => split(text)).toThrow(SyntaxError);
  });
});
