// Patch types and server-side apply at the store level: JSON patch with test, strategic merge by
// merge key, and apply's field ownership, conflicts, force, removal and no-op applies.
import { describe, expect, it } from 'vitest';
import { createStore } from '../../devcluster/create-store.ts';
import { applyJsonPatch } from '../../devcluster/patch/json-patch.ts';
import { builtinListSemantics } from '../../devcluster/patch/list-semantics.ts';
import { applyMergePatch } from '../../devcluster/patch/merge-patch.ts';
import { serverSideApply } from '../../devcluster/patch/server-side-apply.ts';
import { applyStrategicMergePatch } from '../../devcluster/patch/strategic-merge.ts';
import { BUILTINS } from '../../devcluster/store/builtins.ts';
import { apiError } from './api-error.ts';

describe('patches', () => {
  it('merge patch merges maps and deletes with null', () => {
    expect(applyMergePatch({ a: { b: 1, c: 2 }, l: [1, 2] }, { a: { c: null, d: 3 }, l: [3] })).toEqual({ a: { b: 1, d: 3 }, l: [3] });
  });

  it('JSON patch applies operations in order and a failed test rejects the whole patch', () => {
    const doc = { spec: { replicas: 1, list: ['a'] } };
    expect(applyJsonPatch(doc, [{ op: 'test', path: '/spec/replicas', value: 1 }, { op: 'add', path: '/spec/list/-', value: 'b' }, { op: 'replace', path: '/spec/replicas', value: 2 }])).toEqual({ spec: { replicas: 2, list: ['a', 'b'] } });
    const err = apiError(() => applyJsonPatch(doc, [{ op: 'remove', path: '/spec/list/0' }, { op: 'test', path: '/spec/replicas', value: 5 }]));
    expect(err.code).toBe(422);
    expect(doc.spec.list).toEqual(['a']);
  });

  it('JSON patch test of a missing key with value null passes, as in the real API server', () => {
    const doc = { metadata: { name: 'x', labels: { a: '1' } } };
    const ops = [{ op: 'test', path: '/metadata/finalizers', value: null }, { op: 'add', path: '/metadata/finalizers', value: ['sde.london/data'] }];
    expect(applyJsonPatch(doc, ops)).toEqual({ metadata: { name: 'x', labels: { a: '1' }, finalizers: ['sde.london/data'] } });
    expect(apiError(() => applyJsonPatch(doc, [{ op: 'test', path: '/metadata/labels/a', value: null }])).code).toBe(422);
    expect(apiError(() => applyJsonPatch(doc, [{ op: 'test', path: '/spec/missing/key', value: null }])).message).toContain('missing path');
    expect(apiError(() => applyJsonPatch(doc, [{ op: 'test', path: '/metadata/annotations', value: {} }])).code).toBe(422);
  });

  it('strategic merge merges containers by name, env by name, and honours $patch: delete', () => {
    const current = { spec: { containers: [{ name: 'a', image: 'x', env: [{ name: 'A', value: '1' }] }, { name: 'b', image: 'y' }], tolerations: [{ key: 't' }] } };
    const patch = { spec: { containers: [{ name: 'a', env: [{ name: 'B', value: '2' }] }, { name: 'b', $patch: 'delete' }], tolerations: [{ key: 'u' }] } };
    expect(applyStrategicMergePatch(current, patch, builtinListSemantics('Pod'))).toEqual({
      spec: { containers: [{ name: 'a', image: 'x', env: [{ name: 'A', value: '1' }, { name: 'B', value: '2' }] }], tolerations: [{ key: 'u' }] },
    });
  });
});

describe('server-side apply', () => {
  const rt = BUILTINS.deployments;
  const config = (replicas: number, image: string, labels: Record<string, string> = { app: 'web' }): Record<string, unknown> => ({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', labels },
    spec: { replicas, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'main', image }] } } },
  });

  it('creates when absent, and an unchanged apply writes nothing', () => {
    const { store, semanticsFor } = createStore();
    const first = serverSideApply(store, semanticsFor, rt, 'default', 'web', config(1, 'nginx'), { fieldManager: 'sde-operator' });
    expect(first.created).toBe(true);
    const managed = first.object.metadata.managedFields as { manager: string; operation: string; fieldsV1: Record<string, unknown> }[];
    expect(managed[0]).toMatchObject({ manager: 'sde-operator', operation: 'Apply' });
    expect(JSON.stringify(managed[0]?.fieldsV1)).toContain('"k:{\\"name\\":\\"main\\"}"');
    const again = serverSideApply(store, semanticsFor, rt, 'default', 'web', config(1, 'nginx'), { fieldManager: 'sde-operator' });
    expect(again.created).toBe(false);
    expect(again.object.metadata.resourceVersion).toBe(first.object.metadata.resourceVersion);
  });

  it('refuses to take a field another manager set to a different value, naming both, unless forced', () => {
    const { store, semanticsFor } = createStore();
    serverSideApply(store, semanticsFor, rt, 'default', 'web', config(1, 'nginx'), { fieldManager: 'sde-operator' });
    const err = apiError(() => serverSideApply(store, semanticsFor, rt, 'default', 'web', config(3, 'nginx'), { fieldManager: 'hpa' }));
    expect(err.code).toBe(409);
    // An applier is named alone; an Update entry with its apiVersion (as a 1.23 server words it).
    expect(err.message).toBe('Apply failed with 1 conflict: conflict with "sde-operator": .spec.replicas');
    expect(err.causes).toEqual([{ reason: 'FieldManagerConflict', message: 'conflict with "sde-operator"', field: '.spec.replicas' }]);
    const forced = serverSideApply(store, semanticsFor, rt, 'default', 'web', config(3, 'nginx'), { fieldManager: 'hpa', force: true });
    expect((forced.object.spec as { replicas: number }).replicas).toBe(3);
    const owners = (forced.object.metadata.managedFields as { manager: string; fieldsV1: { 'f:spec'?: Record<string, unknown> } }[]).map((m) => [m.manager, 'f:replicas' in (m.fieldsV1['f:spec'] ?? {})]);
    expect(Object.fromEntries(owners)).toEqual({ 'sde-operator': false, hpa: true });
  });

  it('shares a field applied with the same value, and removes fields a manager stops applying unless shared', () => {
    const { store, semanticsFor } = createStore();
    serverSideApply(store, semanticsFor, rt, 'default', 'web', config(1, 'nginx', { app: 'web', team: 'a' }), { fieldManager: 'one' });
    serverSideApply(store, semanticsFor, rt, 'default', 'web', config(1, 'nginx', { app: 'web' }), { fieldManager: 'two' });
    const after = serverSideApply(store, semanticsFor, rt, 'default', 'web', config(1, 'nginx', {}), { fieldManager: 'one' });
    expect(after.object.metadata.labels).toEqual({ app: 'web' });
  });

  it('takes ownership from plain updates: a changed field belongs to the updater and then conflicts', () => {
    const { store, semanticsFor } = createStore();
    const applied = serverSideApply(store, semanticsFor, rt, 'default', 'web', config(1, 'nginx'), { fieldManager: 'sde-operator' });
    store.update(rt, { ...applied.object, spec: { ...(applied.object.spec as object), replicas: 4 } }, { fieldManager: 'kubectl-edit' });
    const err = apiError(() => serverSideApply(store, semanticsFor, rt, 'default', 'web', config(1, 'nginx'), { fieldManager: 'sde-operator' }));
    expect(err.message).toContain('conflict with "kubectl-edit" using apps/v1: .spec.replicas');
  });

  it('requires a field manager', () => {
    const { store, semanticsFor } = createStore();
    expect(apiError(() => serverSideApply(store, semanticsFor, rt, 'default', 'web', config(1, 'nginx'), {})).code).toBe(422);
  });
});
