// The checked-in CRDs: generated from the zod schemas, up to date, and structural as Kubernetes
// requires (the API server rejects a non-structural schema).
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { allCustomResourceDefinitions } from '../../api/crd.ts';
import { toYaml } from '../../api/yaml.ts';

type Node = Record<string, unknown>;
const crdsDir = new URL('../../crds/', import.meta.url);
const checkedIn = readdirSync(crdsDir).filter((f) => f.endsWith('.yaml')).sort();
const generated = allCustomResourceDefinitions();

/** Every structural-schema rule we can check statically; returns the JSON paths that break one. */
function structuralViolations(node: Node, path: string, inJunctor = false): string[] {
  const out: string[] = [];
  const here = (rule: string): void => void out.push(`${path}: ${rule}`);
  if ('$ref' in node || 'definitions' in node || '$defs' in node) here('$ref/definitions are not allowed');
  if ('uniqueItems' in node) here('uniqueItems is not allowed');
  if ('properties' in node && 'additionalProperties' in node) here('additionalProperties beside properties');
  const intOrString = node['x-kubernetes-int-or-string'] === true;
  if (intOrString) {
    expect(node.anyOf, `${path}: int-or-string anyOf`).toEqual([{ type: 'integer' }, { type: 'string' }]);
  } else if (!inJunctor && !('type' in node) && node['x-kubernetes-preserve-unknown-fields'] !== true) {
    here('type is required');
  }
  if (inJunctor) for (const k of ['type', 'description', 'default', 'additionalProperties', 'nullable']) if (k in node) here(`${k} inside a junctor`);
  for (const j of ['allOf', 'oneOf', 'not']) if (j in node) here(`${j} is not used by this project and would need the junctor rules`);
  if (node['x-kubernetes-list-type'] === 'map') {
    const keys = node['x-kubernetes-list-map-keys'] as string[];
    const items = node.items as Node;
    for (const k of keys) if (!((items.required as string[] | undefined) ?? []).includes(k) && !(k in ((items.properties as Node) ?? {}) && 'default' in ((items.properties as Record<string, Node>)[k] ?? {}))) here(`map key ${k} must be required or defaulted`);
  }
  for (const [k, child] of Object.entries((node.properties as Record<string, Node>) ?? {})) out.push(...structuralViolations(child, `${path}.${k}`));
  if (node.items) out.push(...structuralViolations(node.items as Node, `${path}[]`));
  if (node.additionalProperties && typeof node.additionalProperties === 'object') out.push(...structuralViolations(node.additionalProperties as Node, `${path}{}`));
  if (!intOrString && Array.isArray(node.anyOf)) for (const b of node.anyOf as Node[]) out.push(...structuralViolations(b, `${path}|`, true));
  return out;
}

describe('crds/', () => {
  it('holds exactly one file per kind', () => {
    expect(checkedIn).toEqual(generated.map((g) => g.file).sort());
  });

  it.each(generated)('$file is up to date with the zod schemas (run `npm run gen:crds`)', ({ file, crd }) => {
    const onDisk = parse(readFileSync(new URL(file, crdsDir), 'utf8')) as unknown;
    expect(onDisk).toEqual(parse(toYaml(crd)));
  });

  it.each(generated)('$file has a structural schema', ({ crd }) => {
    const version = (crd as { spec: { versions: { schema: { openAPIV3Schema: Node } }[] } }).spec.versions[0];
    const schema = version?.schema.openAPIV3Schema as Node;
    expect(structuralViolations(schema, '')).toEqual([]);
    expect((schema.properties as Record<string, Node>).metadata).toEqual({ type: 'object' });
  });

  it('serves every kind in category sde, with short names, the status subresource and printer columns', () => {
    const want: Record<string, { short: string; columns: string[] }> = {
      Enclave: { short: 'enc', columns: ['Site', 'Phase', 'Ready', 'Expires', 'GPUs', 'Age'] },
      Workspace: { short: 'ws', columns: ['Owner', 'Tool', 'GPUs', 'Ready', 'Age'] },
      FederatedJob: { short: 'fedjob', columns: ['Framework', 'Phase', 'Sites', 'Age'] },
    };
    for (const { crd } of generated) {
      const spec = (crd as { spec: { names: { kind: string; shortNames: string[]; categories: string[] }; versions: { subresources: unknown; additionalPrinterColumns: { name: string }[] }[] } }).spec;
      const w = want[spec.names.kind];
      expect(w, spec.names.kind).toBeDefined();
      expect(spec.names.categories).toContain('sde');
      expect(spec.names.shortNames).toContain(w?.short);
      expect(spec.versions[0]?.subresources).toEqual({ status: {} });
      const columns = spec.versions[0]?.additionalPrinterColumns.map((c) => c.name) ?? [];
      for (const c of w?.columns ?? []) expect(columns).toContain(c);
    }
  });

  it('catches a non-structural schema (the check can fail)', () => {
    const bad = { type: 'object', properties: { a: { properties: {}, additionalProperties: { type: 'string' } }, b: { uniqueItems: true, type: 'array', items: { $ref: '#/x' } } } };
    expect(structuralViolations(bad, '')).toEqual(expect.arrayContaining([
      '.a: additionalProperties beside properties',
      '.a: type is required',
      '.b: uniqueItems is not allowed',
      '.b[]: $ref/definitions are not allowed',
    ]));
  });
});
