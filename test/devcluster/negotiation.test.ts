// Request bodies: JSON, YAML, and YAML bodies that are JSON (server-side apply as clients send it).
import { describe, expect, it } from 'vitest';
import { parseBody } from '../../devcluster/apiserver/negotiation.ts';

const APPLY = 'application/apply-patch+yaml';

describe('request body decoding', () => {
  it('decodes an apply body sent as JSON, as YAML, and as a YAML flow mapping alike', () => {
    const expected = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a' }, data: { k: 'v' } };
    expect(parseBody(JSON.stringify(expected), APPLY)).toEqual(expected);
    expect(parseBody('apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\ndata:\n  k: v\n', APPLY)).toEqual(expected);
    expect(parseBody('{apiVersion: v1, kind: ConfigMap, metadata: {name: a}, data: {k: v}}', APPLY)).toEqual(expected);
  });

  it('names the format when a body cannot be decoded', () => {
    expect(() => parseBody('{"a": [1, 2', APPLY)).toThrow(/expected YAML, found a syntax error/);
    expect(() => parseBody('{"a": [1, 2', 'application/json')).toThrow(/expected JSON, found a syntax error/);
  });
});
