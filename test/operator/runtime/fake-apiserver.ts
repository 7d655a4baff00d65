// A tiny Kubernetes API server over node:http for the runtime's protocol tests: discovery, paged
// lists, watches with bookmarks and 410, server-side apply, status merge patch, delete, Leases and
// Events, plus faults (dropped watches, compaction, a share of 500s). It stands in until the
// project's dev cluster serves HTTP; it is not a general API server.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KubernetesObject } from '@kubernetes/client-node';
import { Kinds, resourceType, type ResourceType } from '../../../operator/runtime/resources.ts';

/** Test custom resources, shaped like the operator's. */
export const TestKinds = {
  Enclave: resourceType('runtime.test.sde.london/v1alpha1', 'Enclave', 'enclaves', false),
  Workspace: resourceType('runtime.test.sde.london/v1alpha1', 'Workspace', 'workspaces', true),
};

type Obj = KubernetesObject & Record<string, unknown>;

interface Watcher {
  type: ResourceType;
  namespace: string | undefined;
  labelSelector: Record<string, string>;
  response: ServerResponse;
}

/** Faults, with the same methods as the dev cluster's FaultInjector (plus a bookmark switch). */
export interface FakeFaults {
  /** Closes every open watch connection abruptly. */
  dropWatches(): number;
  /** Compacts history at the current resourceVersion: later watches from an older one get 410 Gone. */
  forceGone(): void;
  /** Answers a share (0..1) of non-watch requests with 500 (or 429). */
  failRequests(faults: { rate: number; status?: 500 | 429 }): void;
  /** Stops failing requests. */
  clear(): void;
  /** Watch connections open right now. */
  openWatches(): number;
  /** Whether watches that ask for bookmarks get them (every 200 ms); default true. */
  bookmarks: boolean;
  /** Delay before a change reaches open watches, as on a loaded server; default 0. */
  watchLatencyMs: number;
}

export interface FakeCluster {
  url: string;
  kubeconfigPath: string;
  faults: FakeFaults;
  stop(): Promise<void>;
}

const types: ResourceType[] = [...Object.values(Kinds), ...Object.values(TestKinds)];

function parsePath(pathname: string): { type: ResourceType; namespace?: string; name?: string; subresource?: string } | { discovery: string } | undefined {
  const parts = pathname.split('/').filter(Boolean);
  let apiVersion: string;
  let rest: string[];
  if (parts[0] === 'api') {
    apiVersion = parts[1] ?? '';
    rest = parts.slice(2);
  } else if (parts[0] === 'apis') {
    apiVersion = `${parts[1]}/${parts[2]}`;
    rest = parts.slice(3);
  } else return undefined;
  if (rest.length === 0) return { discovery: apiVersion };
  let namespace: string | undefined;
  if (rest[0] === 'namespaces' && rest.length >= 3) {
    namespace = rest[1];
    rest = rest.slice(2);
  }
  const type = types.find((candidate) => candidate.apiVersion === apiVersion && candidate.plural === rest[0]);
  if (!type) return undefined;
  return { type, ...(namespace ? { namespace } : {}), ...(rest[1] ? { name: rest[1] } : {}), ...(rest[2] ? { subresource: rest[2] } : {}) };
}

function parseSelector(value: string | null): Record<string, string> {
  if (!value) return {};
  return Object.fromEntries(value.split(',').map((term) => term.split('=') as [string, string]));
}

function matches(object: Obj, namespace: string | undefined, selector: Record<string, string>): boolean {
  if (namespace && object.metadata?.namespace !== namespace) return false;
  return Object.entries(selector).every(([key, value]) => object.metadata?.labels?.[key] === value);
}

function mergePatch(target: unknown, patch: unknown): unknown {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) return patch;
  const result: Record<string, unknown> = target !== null && typeof target === 'object' && !Array.isArray(target) ? { ...(target as Record<string, unknown>) } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else result[key] = mergePatch(result[key], value);
  }
  return result;
}

interface JsonPatch {
  op: string;
  path: string;
  value?: unknown;
}

/** RFC 6902 add/remove/replace/test on a copy; undefined when a test fails or a path is missing. */
function jsonPatch(target: Obj, operations: JsonPatch[]): Obj | undefined {
  const document = structuredClone(target) as Record<string, unknown>;
  for (const { op, path, value } of operations) {
    const keys = path.split('/').slice(1).map((key) => key.replaceAll('~1', '/').replaceAll('~0', '~'));
    const last = keys.pop() ?? '';
    let parent: unknown = document;
    for (const key of keys) parent = (parent as Record<string, unknown> | undefined)?.[key];
    if (parent === null || typeof parent !== 'object') return undefined;
    const container = parent as Record<string, unknown> & unknown[];
    const index = Array.isArray(container) ? (last === '-' ? container.length : Number(last)) : undefined;
    const current = index !== undefined ? container[index] : container[last];
    if (op === 'test') {
      if (JSON.stringify(current) !== JSON.stringify(value)) return undefined;
    } else if (op === 'remove') {
      if (current === undefined) return undefined;
      if (index !== undefined) container.splice(index, 1);
      else delete container[last];
    } else if (index !== undefined) {
      container.splice(index, op === 'replace' ? 1 : 0, value);
    } else container[last] = value;
  }
  return document as Obj;
}

function withoutServerFields(object: Obj): unknown {
  const { metadata, ...rest } = object;
  const { resourceVersion: _rv, uid: _uid, creationTimestamp: _ct, generation: _gen, ...meta } = metadata ?? {};
  return { ...rest, metadata: meta };
}

/** Starts the fake on a free port and writes a kubeconfig for it (plain HTTP, skipTLSVerify). */
export async function startFakeCluster(): Promise<FakeCluster> {
  const objects = new Map<string, Obj>();
  const history: Array<{ rv: number; type: 'ADDED' | 'MODIFIED' | 'DELETED'; object: Obj; resource: ResourceType }> = [];
  const watchers = new Set<Watcher>();
  let failure: { rate: number; status: 500 | 429 } = { rate: 0, status: 500 };
  const faults: FakeFaults = {
    bookmarks: true,
    watchLatencyMs: 0,
    dropWatches(): number {
      const open = watchers.size;
      for (const watcher of watchers) watcher.response.destroy();
      watchers.clear();
      return open;
    },
    forceGone(): void {
      compactedBelow = rv;
    },
    failRequests({ rate, status = 500 }): void {
      failure = { rate, status };
    },
    clear(): void {
      failure = { rate: 0, status: 500 };
    },
    openWatches: () => watchers.size,
  };
  let rv = 100;
  let compactedBelow = 0;
  let uid = 0;

  const keyOf = (type: ResourceType, namespace: string | undefined, name: string): string => `${type.plural}|${type.namespaced ? namespace : ''}|${name}`;
  const record = (type: 'ADDED' | 'MODIFIED' | 'DELETED', object: Obj, resource: ResourceType): void => {
    history.push({ rv: Number(object.metadata?.resourceVersion), type, object, resource });
    const line = `${JSON.stringify({ type, object })}\n`;
    for (const watcher of watchers) {
      if (watcher.type !== resource || !matches(object, watcher.namespace, watcher.labelSelector)) continue;
      if (faults.watchLatencyMs > 0) setTimeout(() => watcher.response.writable && watcher.response.write(line), faults.watchLatencyMs);
      else watcher.response.write(line);
    }
  };
  const store = (resource: ResourceType, object: Obj, existing: Obj | undefined): Obj => {
    const stored = structuredClone(object);
    rv += 1;
    stored.apiVersion = resource.apiVersion;
    stored.kind = resource.kind;
    const metadata = {
      ...stored.metadata,
      uid: existing?.metadata?.uid ?? `uid-${++uid}`,
      resourceVersion: String(rv),
      // JSON on the wire: a string, whatever client-node's model type says.
      creationTimestamp: (existing?.metadata?.creationTimestamp ?? new Date().toISOString()) as unknown as Date,
    };
    stored.metadata = metadata;
    const key = keyOf(resource, metadata.namespace, metadata.name ?? '');
    objects.set(key, stored);
    record(existing ? 'MODIFIED' : 'ADDED', stored, resource);
    // The last finalizer gone from an object being deleted: it goes.
    if (metadata.deletionTimestamp && !metadata.finalizers?.length) remove(resource, key, stored);
    return stored;
  };
  const remove = (resource: ResourceType, key: string, existing: Obj): void => {
    objects.delete(key);
    rv += 1;
    record('DELETED', { ...existing, metadata: { ...existing.metadata, resourceVersion: String(rv) } }, resource);
  };

  const send = (response: ServerResponse, status: number, body: unknown): void => {
    response.writeHead(status, { 'Content-Type': 'application/json' });
    response.end(JSON.stringify(body));
  };
  const status = (response: ServerResponse, code: number, reason: string, message: string): void =>
    send(response, code, { apiVersion: 'v1', kind: 'Status', status: 'Failure', code, reason, message });

  const readBody = async (request: IncomingMessage): Promise<Obj> => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    return JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Obj;
  };

  const serveWatch = (request: IncomingMessage, response: ServerResponse, type: ResourceType, namespace: string | undefined, url: URL): void => {
    const from = Number(url.searchParams.get('resourceVersion') || '0');
    response.writeHead(200, { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' });
    if (from !== 0 && from < compactedBelow) {
      response.end(`${JSON.stringify({ type: 'ERROR', object: { kind: 'Status', apiVersion: 'v1', status: 'Failure', code: 410, reason: 'Expired', message: `too old resource version: ${from}` } })}\n`);
      return;
    }
    const watcher: Watcher = { type, namespace, labelSelector: parseSelector(url.searchParams.get('labelSelector')), response };
    for (const entry of history) {
      if (entry.rv > from && entry.resource === type && matches(entry.object, namespace, watcher.labelSelector)) response.write(`${JSON.stringify({ type: entry.type, object: entry.object })}\n`);
    }
    watchers.add(watcher);
    const bookmarks = url.searchParams.get('allowWatchBookmarks') === 'true'
      ? setInterval(() => {
          if (!faults.bookmarks) return;
          // A bookmark must never overtake the events before it, so it shares their latency.
          const line = `${JSON.stringify({ type: 'BOOKMARK', object: { kind: type.kind, apiVersion: type.apiVersion, metadata: { resourceVersion: String(rv) } } })}\n`;
          if (faults.watchLatencyMs > 0) setTimeout(() => response.writable && response.write(line), faults.watchLatencyMs);
          else response.write(line);
        }, 200)
      : undefined;
    const timeout = setTimeout(() => response.end(), Number(url.searchParams.get('timeoutSeconds') ?? 300) * 1000);
    const cleanup = (): void => {
      clearInterval(bookmarks);
      clearTimeout(timeout);
      watchers.delete(watcher);
    };
    response.on('close', cleanup);
    request.on('close', cleanup);
  };

  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const url = new URL(request.url ?? '/', 'http://fake');
    const method = request.method ?? 'GET';
    const target = parsePath(url.pathname);
    const isWatch = url.searchParams.get('watch') === 'true';
    if (!isWatch && failure.rate > 0 && Math.random() < failure.rate) return status(response, failure.status, failure.status === 429 ? 'TooManyRequests' : 'InternalError', 'injected fault');
    if (!target) return status(response, 404, 'NotFound', `no route ${url.pathname}`);
    if ('discovery' in target) {
      const resources = types.filter((type) => type.apiVersion === target.discovery).map((type) => ({ name: type.plural, singularName: '', namespaced: type.namespaced, kind: type.kind, verbs: ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'] }));
      return send(response, 200, { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: target.discovery, resources });
    }
    const { type, namespace, name, subresource } = target;
    if (method === 'GET' && !name) {
      if (isWatch) return serveWatch(request, response, type, namespace, url);
      const selector = parseSelector(url.searchParams.get('labelSelector'));
      const all = [...objects.entries()].filter(([key, object]) => key.startsWith(`${type.plural}|`) && matches(object, namespace, selector)).map(([, object]) => object);
      const offset = Number(url.searchParams.get('continue') || '0');
      const limit = Number(url.searchParams.get('limit') || '0') || all.length;
      const page = all.slice(offset, offset + limit);
      const next = offset + limit < all.length ? String(offset + limit) : undefined;
      return send(response, 200, { kind: `${type.kind}List`, apiVersion: type.apiVersion, metadata: { resourceVersion: String(rv), ...(next ? { continue: next } : {}) }, items: page });
    }
    if (!name && method === 'POST') {
      const body = await readBody(request);
      const objectName = body.metadata?.name ?? '';
      if (objects.has(keyOf(type, namespace, objectName))) return status(response, 409, 'AlreadyExists', `${type.plural} "${objectName}" already exists`);
      return send(response, 201, store(type, { ...body, metadata: { ...body.metadata, namespace } }, undefined));
    }
    const key = keyOf(type, namespace, name ?? '');
    const existing = objects.get(key);
    if (method === 'GET') return existing ? send(response, 200, existing) : status(response, 404, 'NotFound', `${type.plural} "${name}" not found`);
    if (method === 'DELETE') {
      if (!existing) return status(response, 404, 'NotFound', `${type.plural} "${name}" not found`);
      if (existing.metadata?.finalizers?.length) {
        if (existing.metadata.deletionTimestamp) return send(response, 200, existing);
        return send(response, 200, store(type, { ...existing, metadata: { ...existing.metadata, deletionTimestamp: new Date().toISOString() as unknown as Date } }, existing));
      }
      remove(type, key, existing);
      return send(response, 200, { kind: 'Status', apiVersion: 'v1', status: 'Success' });
    }
    const body = await readBody(request);
    if (method === 'PUT') {
      if (!existing) return status(response, 404, 'NotFound', `${type.plural} "${name}" not found`);
      if (body.metadata?.resourceVersion && body.metadata.resourceVersion !== existing.metadata?.resourceVersion) return status(response, 409, 'Conflict', 'the object has been modified');
      return send(response, 200, store(type, body, existing));
    }
    if (method === 'PATCH') {
      const contentType = request.headers['content-type'] ?? '';
      if (contentType.startsWith('application/apply-patch')) {
        if (subresource) return status(response, 415, 'UnsupportedMediaType', 'apply to subresources is not supported here');
        const desired = { ...body, metadata: { ...body.metadata, namespace } } as Obj;
        const next = existing ? ({ ...desired, ...(existing.status ? { status: existing.status } : {}) } as Obj) : desired;
        if (existing && JSON.stringify(withoutServerFields(next)) === JSON.stringify(withoutServerFields(existing))) return send(response, 200, existing);
        return send(response, existing ? 200 : 201, store(type, next, existing));
      }
      if (!existing) return status(response, 404, 'NotFound', `${type.plural} "${name}" not found`);
      if (contentType.startsWith('application/json-patch')) {
        const patched = jsonPatch(existing, body as unknown as JsonPatch[]);
        return patched ? send(response, 200, store(type, patched, existing)) : status(response, 422, 'Invalid', 'the JSON patch test failed or its path is missing');
      }
      const patched = mergePatch(existing, subresource === 'status' ? { status: body.status } : body) as Obj;
      return send(response, 200, store(type, patched, existing));
    }
    return status(response, 405, 'MethodNotAllowed', `${method} not supported`);
  };

  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => status(response, 500, 'InternalError', String(error)));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const directory = mkdtempSync(join(tmpdir(), 'sde-fake-apiserver-'));
  const kubeconfigPath = join(directory, 'kubeconfig.yaml');
  writeFileSync(
    kubeconfigPath,
    [
      'apiVersion: v1',
      'kind: Config',
      'clusters:',
      `- name: fake\n  cluster:\n    server: ${url}\n    insecure-skip-tls-verify: true`,
      'users:',
      '- name: tester\n  user:\n    token: test-token',
      'contexts:',
      '- name: fake\n  context:\n    cluster: fake\n    user: tester',
      'current-context: fake',
      '',
    ].join('\n'),
  );
  return {
    url,
    kubeconfigPath,
    faults,
    async stop() {
      faults.dropWatches();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(directory, { recursive: true, force: true });
    },
  };
}
