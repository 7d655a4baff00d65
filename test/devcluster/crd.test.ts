// CustomResourceDefinitions behave as on a real server: established on create, objects
// defaulted, pruned and validated (schema and CEL rules) with messages naming the field, and a
// rule that does not compile is refused when the CRD is written.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { createStore } from '../../devcluster/create-store.ts';
import { BUILTINS } from '../../devcluster/store/builtins.ts';
import type { ClusterStore } from '../../devcluster/store/cluster-store.ts';
import type { KubeObject, ResourceType } from '../../devcluster/store/types.ts';
import { apiError } from './api-error.ts';

const root = join(import.meta.dirname, '..', '..');

const GADGET_SCHEMA = {
  type: 'object',
  properties: {
    spec: {
      type: 'object',
      required: ['size', 'expiresAt'],
      'x-kubernetes-validations': [
        { rule: '!has(self.startsAt) || timestamp(self.startsAt) < timestamp(self.expiresAt)', message: 'startsAt must be before expiresAt' },
        { rule: 'self.size == oldSelf.size || self.mutable', message: 'size is immutable unless mutable is set' },
      ],
      properties: {
        size: { type: 'integer', minimum: 1, maximum: 8 },
        colour: { type: 'string', enum: ['red', 'green'], default: 'red' },
        code: { type: 'string', pattern: '^[a-z]+$', maxLength: 5 },
        startsAt: { type: 'string', format: 'date-time' },
        expiresAt: { type: 'string', format: 'date-time' },
        mutable: { type: 'boolean', default: false },
        quantity: { 'x-kubernetes-int-or-string': true },
        tags: { type: 'array', items: { type: 'string' }, maxItems: 2, 'x-kubernetes-list-type': 'set' },
        members: {
          type: 'array',
          'x-kubernetes-list-type': 'map',
          'x-kubernetes-list-map-keys': ['user'],
          items: { type: 'object', required: ['user'], properties: { user: { type: 'string' }, role: { type: 'string' } } },
          'x-kubernetes-validations': [{ rule: 'self.all(m, size(m.user) > 1)', message: 'user names are longer than one letter' }],
        },
        extra: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
        note: { type: 'string', nullable: true },
      },
    },
    status: { type: 'object', properties: { phase: { type: 'string' } } },
  },
};

function gadgetCrd(schema: unknown = GADGET_SCHEMA): KubeObject {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: 'gadgets.example.com' },
    spec: {
      group: 'example.com',
      scope: 'Namespaced',
      names: { plural: 'gadgets', singular: 'gadget', kind: 'Gadget', shortNames: ['gd'], categories: ['sde'] },
      versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: schema }, subresources: { status: {} } }],
    },
  };
}

function setup(): { store: ClusterStore; gadgets: ResourceType } {
  const { store } = createStore();
  store.create(BUILTINS.customresourcedefinitions, gadgetCrd());
  return { store, gadgets: store.resourceType('example.com', 'gadgets')! };
}

function gadget(spec: Record<string, unknown>, name = 'g'): KubeObject {
  return { apiVersion: 'example.com/v1', kind: 'Gadget', metadata: { name, namespace: 'default' }, spec: { size: 2, expiresAt: '2027-01-01T00:00:00Z', ...spec } };
}

describe('CustomResourceDefinitions', () => {
  it('serves the resource once created and reports Established with accepted names', () => {
    const { store, gadgets } = setup();
    expect(gadgets).toMatchObject({ kind: 'Gadget', namespaced: true, shortNames: ['gd'], categories: ['sde'], statusSubresource: true });
    const crd = store.get(BUILTINS.customresourcedefinitions, undefined, 'gadgets.example.com')!;
    const conditions = (crd.status as { conditions: { type: string; status: string }[] }).conditions;
    expect(conditions.find((c) => c.type === 'Established')?.status).toBe('True');
  });

  it('applies defaults and prunes unknown fields, keeping preserved ones', () => {
    const { store, gadgets } = setup();
    const g = store.create(gadgets, gadget({ unknown: 1, extra: { anything: { goes: true } } }));
    expect(g.spec).toEqual({ size: 2, expiresAt: '2027-01-01T00:00:00Z', colour: 'red', mutable: false, extra: { anything: { goes: true } } });
  });

  it.each([
    [{ size: undefined }, 'spec.size: Required value'],
    [{ size: 'two' }, 'spec.size: Invalid value: "two": spec.size in body must be of type integer: "string"'],
    [{ size: 9 }, 'spec.size: Invalid value: 9: spec.size in body should be less than or equal to 8'],
    [{ colour: 'blue' }, 'spec.colour: Unsupported value: "blue": supported values: "red", "green"'],
    [{ code: 'ABC' }, `spec.code: Invalid value: "ABC": spec.code in body should match '^[a-z]+$'`],
    [{ code: 'abcdefg' }, 'spec.code: Too long: may not be more than 5 bytes'],
    [{ expiresAt: 'tomorrow' }, 'spec.expiresAt: Invalid value: "tomorrow": spec.expiresAt in body must be of type date-time: "tomorrow"'],
    [{ tags: ['a', 'b', 'c'] }, 'spec.tags: Too many: 3: must have at most 2 items'],
    [{ tags: ['a', 'a'] }, 'spec.tags[1]: Duplicate value: "a"'],
    [{ members: [{ user: 'ab' }, { user: 'ab' }] }, 'spec.members[1]: Duplicate value: {"user":"ab"}'],
    [{ members: [{ user: 'a' }] }, 'spec.members: Invalid value: "array": user names are longer than one letter'],
    [{ startsAt: '2028-01-01T00:00:00Z' }, 'spec: Invalid value: "object": startsAt must be before expiresAt'],
    [{ note: null, quantity: true }, 'spec.quantity: Invalid value: true: spec.quantity in body must be of type int-or-string: "boolean"'],
  ])('rejects %j with 422: %s', (spec, message) => {
    const { store, gadgets } = setup();
    const err = apiError(() => store.create(gadgets, gadget(spec)));
    expect(err.code).toBe(422);
    expect(err.message).toBe(`Gadget.example.com "g" is invalid: ${message}`);
    expect(err.causes?.[0]?.field).toBe(message.split(':')[0]);
  });

  it('rejects unknown fields with 400 when field validation is Strict, as kubectl asks', () => {
    const { store, gadgets } = setup();
    const err = apiError(() => store.create(gadgets, gadget({ colur: 'red' }), { fieldValidation: 'Strict' }));
    expect(err.code).toBe(400);
    expect(err.message).toBe('Gadget in version "v1" cannot be handled as a Gadget: strict decoding error: unknown field "spec.colur"');
  });

  it('evaluates transition rules against the old object on update only', () => {
    const { store, gadgets } = setup();
    const g = store.create(gadgets, gadget({}));
    const err = apiError(() => store.update(gadgets, { ...g, spec: { ...(g.spec as object), size: 3 } }));
    expect(err.message).toContain('size is immutable unless mutable is set');
    const ok = store.update(gadgets, { ...g, spec: { ...(g.spec as object), size: 3, mutable: true } });
    expect((ok.spec as { size: number }).size).toBe(3);
  });

  it.each(['self.size >>> 2', 'quantity(self.size) > quantity("1")', 'self.size + 1'])('refuses a CRD whose rule %s cannot be evaluated, naming the rule', (rule) => {
    const { store } = createStore();
    const bad = structuredClone(GADGET_SCHEMA) as typeof GADGET_SCHEMA;
    bad.properties.spec['x-kubernetes-validations'] = [{ rule, message: 'x' }];
    const err = apiError(() => store.create(BUILTINS.customresourcedefinitions, gadgetCrd(bad)));
    expect(err.code).toBe(422);
    expect(err.message).toContain(`spec.versions[0].schema.openAPIV3Schema.properties[spec].x-kubernetes-validations[0].rule: Invalid value: ${JSON.stringify(rule)}: compilation failed`);
  });

  it('unserves the resource and deletes its objects when the CRD is deleted', () => {
    const { store, gadgets } = setup();
    store.create(gadgets, gadget({}));
    store.delete(BUILTINS.customresourcedefinitions, undefined, 'gadgets.example.com');
    expect(store.resourceType('example.com', 'gadgets')).toBeUndefined();
  });

  it('validates the project CRDs: the examples are accepted and the invalid enclave names its fields', () => {
    const { store } = createStore();
    for (const f of ['enclaves', 'workspaces', 'federatedjobs']) {
      store.create(BUILTINS.customresourcedefinitions, parse(readFileSync(join(root, 'crds', `${f}.sde.london.yaml`), 'utf8')) as KubeObject);
    }
    const enclaves = store.resourceType('sde.london', 'enclaves')!;
    store.create(enclaves, parse(readFileSync(join(root, 'examples', 'enclave-cardiac-mri.yaml'), 'utf8')) as KubeObject);
    const err = apiError(() => store.create(enclaves, parse(readFileSync(join(root, 'examples', 'invalid', 'enclave-raw-zone.yaml'), 'utf8')) as KubeObject));
    expect(err.code).toBe(422);
    expect(err.message).toMatch(/^Enclave\.sde\.london "raw-data-grab" is invalid: /);
    expect(err.message).toContain('spec.access.expiresAt: Required value');
  });
});
