// The REST protocol over HTTP, as any client sees it: Status errors with the right codes and
// causes, paging, watch streams (resume, bookmarks, 410), the status subresource, discovery,
// RBAC with bearer tokens and access reviews, and injected faults.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDevCluster } from '../../devcluster/index.ts';
import type { DevCluster } from '../../devcluster/index.ts';

let dc: DevCluster;

beforeAll(async () => {
  dc = await startDevCluster({ simulate: false, bookmarkIntervalMs: 100 });
});

afterAll(async () => {
  await dc.stop();
});

async function call(method: string, path: string, body?: unknown, contentType = 'application/json', headers: Record<string, string> = {}): Promise<{ status: number; json: Record<string, unknown>; headers: Headers }> {
  const init: RequestInit = { method, headers: { 'Content-Type': contentType, ...headers } };
  if (body !== undefined) init.body = typeof body === 'string' ? body : JSON.stringify(body);
  const res = await fetch(`${dc.url}${path}`, init);
  const text = await res.text();
  return { status: res.status, json: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>), headers: res.headers };
}

function configMap(name: string, labels: Record<string, string> = {}): Record<string, unknown> {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, labels }, data: { k: 'v' } };
}

/** Reads a watch stream until `count` events arrived, then aborts it. */
async function watchEvents(path: string, count: number, during?: () => Promise<void>): Promise<{ type: string; object: Record<string, unknown> }[]> {
  const controller = new AbortController();
  const res = await fetch(`${dc.url}${path}`, { signal: controller.signal });
  const reader = res.body!.getReader();
  const events: { type: string; object: Record<string, unknown> }[] = [];
  let buffer = '';
  const pending = during?.();
  while (events.length < count) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += new TextDecoder().decode(value);
    let nl = buffer.indexOf('\n');
    while (nl >= 0) {
      events.push(JSON.parse(buffer.slice(0, nl)) as { type: string; object: Record<string, unknown> });
      buffer = buffer.slice(nl + 1);
      nl = buffer.indexOf('\n');
    }
  }
  await pending;
  controller.abort();
  return events;
}

describe('errors as Kubernetes Status objects', () => {
  it.each([
    ['GET', '/api/v1/namespaces/default/configmaps/nope', 404, 'NotFound', 'configmaps "nope" not found', undefined, 'application/json'],
    ['GET', '/apis/nothing.example.com/v1/things', 404, 'NotFound', 'the server could not find the requested resource', undefined, 'application/json'],
    ['POST', '/api/v1/namespaces/default/configmaps', 400, 'BadRequest', 'the request body could not be decoded', '{not json', 'application/json'],
    ['POST', '/api/v1/namespaces/default/configmaps', 422, 'Invalid', 'ConfigMap "Bad_Name" is invalid: metadata.name: Invalid value: "Bad_Name"', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'Bad_Name' } }, 'application/json'],
    ['POST', '/api/v1/namespaces/nowhere/configmaps', 404, 'NotFound', 'namespaces "nowhere" not found', configMap('x'), 'application/json'],
    ['PATCH', '/api/v1/namespaces/default/configmaps/nope', 415, 'UnsupportedMediaType', 'the body of the request was in an unknown format', {}, 'text/plain'],
    ['GET', '/api/v1/namespaces/default/configmaps/stale/status', 404, 'NotFound', 'the server could not find the requested resource', undefined, 'application/json'],
    ['PUT', '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews/x', 405, 'MethodNotAllowed', 'does not allow this method', {}, 'application/json'],
  ])('%s %s answers %i %s', async (method, path, code, reason, message, body, ct) => {
    const r = await call(method, path, body, ct);
    expect(r.status).toBe(code);
    expect(r.json).toMatchObject({ kind: 'Status', status: 'Failure', code, reason });
    expect(r.json.message).toContain(message);
  });

  it('names the field in details.causes and rejects a stale update with 409', async () => {
    const created = await call('POST', '/api/v1/namespaces/default/configmaps', configMap('stale'));
    expect(created.status).toBe(201);
    const meta = created.json.metadata as { resourceVersion: string };
    await call('PUT', '/api/v1/namespaces/default/configmaps/stale', { ...configMap('stale'), data: { k: 'v2' }, metadata: { name: 'stale', resourceVersion: meta.resourceVersion } });
    const stale = await call('PUT', '/api/v1/namespaces/default/configmaps/stale', { ...configMap('stale'), data: { k: 'v3' }, metadata: { name: 'stale', resourceVersion: meta.resourceVersion } });
    expect(stale.status).toBe(409);
    expect(stale.json.reason).toBe('Conflict');
    const bad = await call('POST', '/api/v1/namespaces/default/configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: {} });
    expect((bad.json.details as { causes: { field: string }[] }).causes[0]?.field).toBe('metadata.name');
  });
});

describe('lists and watches', () => {
  it('pages a list with limit and continue', async () => {
    for (let i = 0; i < 5; i += 1) await call('POST', '/api/v1/namespaces/default/configmaps', configMap(`page-${i}`, { paging: 'yes' }));
    const first = await call('GET', '/api/v1/namespaces/default/configmaps?labelSelector=paging%3Dyes&limit=2');
    const meta = first.json.metadata as { continue: string; remainingItemCount: number };
    expect((first.json.items as unknown[]).length).toBe(2);
    expect(meta.remainingItemCount).toBe(3);
    const names: string[] = [];
    let token: string | undefined = meta.continue;
    names.push(...(first.json.items as { metadata: { name: string } }[]).map((i) => i.metadata.name));
    while (token) {
      const page = await call('GET', `/api/v1/namespaces/default/configmaps?labelSelector=paging%3Dyes&limit=2&continue=${token}`);
      names.push(...(page.json.items as { metadata: { name: string } }[]).map((i) => i.metadata.name));
      token = (page.json.metadata as { continue?: string }).continue;
    }
    expect(names).toEqual(['page-0', 'page-1', 'page-2', 'page-3', 'page-4']);
  });

  it('streams changes after a resourceVersion as JSON lines, filtered by label selector', async () => {
    const list = await call('GET', '/api/v1/namespaces/default/configmaps');
    const rv = (list.json.metadata as { resourceVersion: string }).resourceVersion;
    const events = await watchEvents(`/api/v1/namespaces/default/configmaps?watch=1&resourceVersion=${rv}&labelSelector=w%3D1`, 2, async () => {
      await call('POST', '/api/v1/namespaces/default/configmaps', configMap('ignored'));
      await call('POST', '/api/v1/namespaces/default/configmaps', configMap('watched', { w: '1' }));
      await call('DELETE', '/api/v1/namespaces/default/configmaps/watched');
    });
    expect(events.map((e) => `${e.type} ${(e.object.metadata as { name: string }).name}`)).toEqual(['ADDED watched', 'DELETED watched']);
  });

  it('deletes a collection by label selector, leaving the rest', async () => {
    await call('POST', '/api/v1/namespaces/default/configmaps', configMap('sweep-1', { sweep: 'yes' }));
    await call('POST', '/api/v1/namespaces/default/configmaps', configMap('sweep-2', { sweep: 'yes' }));
    await call('POST', '/api/v1/namespaces/default/configmaps', configMap('keep-1', { sweep: 'no' }));
    const deleted = await call('DELETE', '/api/v1/namespaces/default/configmaps?labelSelector=sweep%3Dyes');
    expect((deleted.json.items as { metadata: { name: string } }[]).map((i) => i.metadata.name)).toEqual(['sweep-1', 'sweep-2']);
    const left = await call('GET', '/api/v1/namespaces/default/configmaps?labelSelector=sweep');
    expect((left.json.items as { metadata: { name: string } }[]).map((i) => i.metadata.name)).toEqual(['keep-1']);
  });

  it('sends bookmarks when allowed', async () => {
    const events = await watchEvents('/api/v1/namespaces/default/secrets?watch=1&allowWatchBookmarks=true&resourceVersion=' + dc.store.currentResourceVersion(), 1);
    expect(events[0]?.type).toBe('BOOKMARK');
    expect((events[0]?.object.metadata as { resourceVersion: string }).resourceVersion).toMatch(/^\d+$/);
  });

  it('answers a watch from a compacted resourceVersion with a 410 Expired ERROR event', async () => {
    const rv = dc.store.currentResourceVersion();
    await call('POST', '/api/v1/namespaces/default/configmaps', configMap('after-compaction'));
    dc.faults.forceGone();
    const events = await watchEvents(`/api/v1/namespaces/default/configmaps?watch=1&resourceVersion=${rv}`, 1);
    expect(events[0]).toMatchObject({ type: 'ERROR', object: { kind: 'Status', code: 410, reason: 'Expired' } });
  });

  it('ends a watch after timeoutSeconds', async () => {
    const res = await fetch(`${dc.url}/api/v1/namespaces/default/configmaps?watch=1&timeoutSeconds=1&resourceVersion=${dc.store.currentResourceVersion()}`);
    expect(await res.text()).toBe('');
  });
});

describe('subresources and discovery', () => {
  it('ignores status on main-resource writes and everything but status on /status writes', async () => {
    const base = '/api/v1/namespaces/default/persistentvolumeclaims';
    const claim = { apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'home' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } }, status: { phase: 'Bound' } };
    const created = await call('POST', base, claim);
    expect((created.json.status as { phase: string }).phase).toBe('Pending');
    const status = await call('PATCH', `${base}/home/status`, { status: { phase: 'Bound' }, spec: { volumeName: 'ignored' } }, 'application/merge-patch+json');
    expect(status.json.status).toMatchObject({ phase: 'Bound' });
    expect((status.json.spec as { volumeName?: string }).volumeName).toBeUndefined();
  });

  it('lists resources with verbs, short names and categories, and serves OpenAPI v3 per group version', async () => {
    const core = await call('GET', '/api/v1');
    const pods = (core.json.resources as { name: string; shortNames?: string[]; verbs: string[] }[]).find((r) => r.name === 'pods');
    expect(pods).toMatchObject({ shortNames: ['po'], verbs: expect.arrayContaining(['watch', 'patch']) });
    expect((core.json.resources as { name: string }[]).map((r) => r.name)).toContain('pods/status');
    const groups = await call('GET', '/apis');
    expect((groups.json.groups as { name: string }[]).map((g) => g.name)).toEqual(expect.arrayContaining(['apps', 'batch', 'rbac.authorization.k8s.io', 'apiextensions.k8s.io']));
    const index = await call('GET', '/openapi/v3');
    const apps = (index.json.paths as Record<string, { serverRelativeURL: string }>)['apis/apps/v1'];
    const doc = await call('GET', apps?.serverRelativeURL ?? '');
    expect(JSON.stringify(doc.json)).toContain('"kind":"Deployment"');
  });

  it('answers a Table when kubectl asks for one', async () => {
    const r = await call('GET', '/api/v1/namespaces', undefined, 'application/json', { Accept: 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json' });
    expect(r.json.kind).toBe('Table');
    expect((r.json.columnDefinitions as { name: string }[]).map((c) => c.name)).toEqual(['Name', 'Status', 'Age']);
  });
});

describe('faults', () => {
  it('fails the next requests with 500, or 429 with Retry-After', async () => {
    dc.faults.failNext(1, 429);
    const limited = await call('GET', '/api/v1/namespaces');
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('1');
    dc.faults.failRequests({ rate: 1 });
    expect((await call('GET', '/api/v1/namespaces')).status).toBe(500);
    expect((await call('GET', '/version')).status).toBe(200);
    dc.faults.clear();
    expect((await call('GET', '/api/v1/namespaces')).status).toBe(200);
  });

  it('fails about the requested fraction of requests', async () => {
    dc.faults.failRequests({ rate: 0.5, status: 500 });
    const codes: number[] = [];
    for (let i = 0; i < 200; i += 1) codes.push((await call('GET', '/api/v1/namespaces/default/configmaps?limit=1')).status);
    dc.faults.clear();
    const failed = codes.filter((c) => c === 500).length;
    expect(failed).toBeGreaterThan(50);
    expect(failed).toBeLessThan(150);
    expect(codes.every((c) => c === 200 || c === 500)).toBe(true);
  });

  it('drops every open watch', async () => {
    const res = await fetch(`${dc.url}/api/v1/namespaces/default/configmaps?watch=1&resourceVersion=${dc.store.currentResourceVersion()}`);
    await new Promise((r) => setTimeout(r, 50));
    expect(dc.faults.dropWatches()).toBeGreaterThanOrEqual(1);
    expect(await res.text()).toBe('');
  });
});

describe('authentication and RBAC', () => {
  let secure: DevCluster;
  const tokens = [
    { token: 'admin-token', user: 'admin', groups: ['system:masters'] },
    { token: 'alice-token', user: 'alice@ucl.ac.uk', groups: ['sde:researchers'] },
  ];

  beforeAll(async () => {
    secure = await startDevCluster({ simulate: false, tokens });
    const admin = { Authorization: 'Bearer admin-token', 'Content-Type': 'application/json' };
    const post = (path: string, body: unknown): Promise<Response> => fetch(`${secure.url}${path}`, { method: 'POST', headers: admin, body: JSON.stringify(body) });
    await post('/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'sde-a' } });
    await post('/apis/rbac.authorization.k8s.io/v1/namespaces/sde-a/roles', {
      apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name: 'researcher' },
      rules: [{ apiGroups: [''], resources: ['pods', 'pods/log'], verbs: ['get', 'list'] }, { apiGroups: [''], resources: ['configmaps'], resourceNames: ['shared'], verbs: ['get'] }],
    });
    await post('/apis/rbac.authorization.k8s.io/v1/namespaces/sde-a/rolebindings', {
      apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: { name: 'researchers' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'researcher' }, subjects: [{ kind: 'Group', name: 'sde:researchers' }],
    });
  });

  afterAll(async () => {
    await secure.stop();
  });

  const as = (token: string | undefined, method: string, path: string, body?: unknown): Promise<Response> => {
    const headers: Record<string, string> = { 'Content-Type': 'application/json' };
    if (token) headers.Authorization = `Bearer ${token}`;
    const init: RequestInit = { method, headers };
    if (body !== undefined) init.body = JSON.stringify(body);
    return fetch(`${secure.url}${path}`, init);
  };

  it('refuses requests without a valid token with 401', async () => {
    expect((await as(undefined, 'GET', '/api/v1/namespaces')).status).toBe(401);
    expect((await as('wrong', 'GET', '/api/v1/namespaces')).status).toBe(401);
  });

  it('lets a group member do what the role grants, and nothing else, with the real message', async () => {
    expect((await as('alice-token', 'GET', '/api/v1/namespaces/sde-a/pods')).status).toBe(200);
    expect((await as('alice-token', 'GET', '/api/v1/namespaces/sde-a/configmaps/shared')).status).toBe(404);
    const secret = await as('alice-token', 'GET', '/api/v1/namespaces/sde-a/secrets');
    expect(secret.status).toBe(403);
    expect(((await secret.json()) as { message: string }).message).toBe('secrets is forbidden: User "alice@ucl.ac.uk" cannot list resource "secrets" in API group "" in the namespace "sde-a"');
    expect((await as('alice-token', 'GET', '/api/v1/namespaces/sde-a/configmaps/other')).status).toBe(403);
    expect((await as('alice-token', 'GET', '/api/v1/namespaces/default/pods')).status).toBe(403);
  });

  it('answers SelfSubjectAccessReview for the caller and SubjectAccessReview for anyone', async () => {
    const review = (attrs: Record<string, string>): Record<string, unknown> => ({ apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectAccessReview', spec: { resourceAttributes: attrs } });
    const self = await as('alice-token', 'POST', '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', review({ namespace: 'sde-a', verb: 'get', resource: 'pods', subresource: 'log' }));
    expect(((await self.json()) as { status: { allowed: boolean } }).status.allowed).toBe(true);
    const exec = await as('alice-token', 'POST', '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', review({ namespace: 'sde-a', verb: 'create', resource: 'pods', subresource: 'exec' }));
    expect(((await exec.json()) as { status: { allowed: boolean } }).status.allowed).toBe(false);
    const sar = await as('admin-token', 'POST', '/apis/authorization.k8s.io/v1/subjectaccessreviews', {
      apiVersion: 'authorization.k8s.io/v1', kind: 'SubjectAccessReview', spec: { user: 'bob', groups: ['sde:researchers'], resourceAttributes: { namespace: 'sde-a', verb: 'get', resource: 'secrets' } },
    });
    expect(((await sar.json()) as { status: { allowed: boolean } }).status.allowed).toBe(false);
  });
});

describe('events and restarts', () => {
  it('serves one set of events through core/v1 and events.k8s.io/v1', async () => {
    const created = await call('POST', '/apis/events.k8s.io/v1/namespaces/default/events', {
      apiVersion: 'events.k8s.io/v1',
      kind: 'Event',
      metadata: { name: 'enclave-ready.1' },
      eventTime: '2026-01-01T00:00:00.000000Z',
      reportingController: 'sde.london/operator',
      reportingInstance: 'sde-operator-0',
      action: 'Reconcile',
      reason: 'Ready',
      type: 'Normal',
      note: 'enclave is ready',
      regarding: { apiVersion: 'sde.london/v1alpha1', kind: 'Enclave', name: 'cardiac-mri' },
    });
    expect(created.status).toBe(201);
    const core = await call('GET', '/api/v1/namespaces/default/events/enclave-ready.1');
    expect(core.json).toMatchObject({ apiVersion: 'v1', message: 'enclave is ready', reason: 'Ready', involvedObject: { kind: 'Enclave', name: 'cardiac-mri' }, reportingComponent: 'sde.london/operator' });
  });

  it('keeps objects across stop and start with the same data file and port', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'devcluster-restart-'));
    try {
      const first = await startDevCluster({ simulate: false, dataFile: join(dir, 'data.json') });
      await fetch(`${first.url}/api/v1/namespaces/default/configmaps`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(configMap('kept')) });
      await first.stop();
      const second = await startDevCluster({ simulate: false, dataFile: join(dir, 'data.json'), port: first.port });
      try {
        expect(second.url).toBe(first.url);
        expect((await fetch(`${second.url}/api/v1/namespaces/default/configmaps/kept`)).status).toBe(200);
      } finally {
        await second.stop();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
