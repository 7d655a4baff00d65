// The client's connection handling: requests share pooled connections instead of one each, and a
// transient answer is tried again at once.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { KubeClient } from '../../../operator/runtime/kube.ts';
import { Kinds } from '../../../operator/runtime/resources.ts';

let server: Server;
let connections: number;
let requests: number;
/** Status codes to answer the next requests with, before answering 200 again. */
let failures: number[];
let kubeConfig: KubeConfig;

/** A kubeconfig for the test server `api`, with `namespace` as its context's default. */
function kubeConfigFor(api: Server, namespace?: string): KubeConfig {
  const config = new KubeConfig();
  config.loadFromOptions({
    clusters: [{ name: 'local', server: `http://127.0.0.1:${(api.address() as AddressInfo).port}`, skipTLSVerify: true }],
    users: [{ name: 'admin', token: 't' }],
    contexts: [{ name: 'local', cluster: 'local', user: 'admin', ...(namespace ? { namespace } : {}) }],
    currentContext: 'local',
  });
  return config;
}

beforeEach(async () => {
  connections = 0;
  requests = 0;
  failures = [];
  // The smallest API server that answers a GET of a Namespace; it counts TCP connections.
  server = createServer((request, response) => {
    requests += 1;
    const failure = failures.shift();
    if (failure !== undefined) {
      response.writeHead(failure, { 'content-type': 'application/json' }).end(JSON.stringify({ kind: 'Status', code: failure, message: 'injected' }));
      return;
    }
    const name = decodeURIComponent(request.url?.split('?')[0]?.split('/').pop() ?? '');
    response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } }));
  });
  server.on('connection', () => (connections += 1));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  kubeConfig = kubeConfigFor(server);
});

afterEach(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

describe('KubeClient connections', () => {
  it('reuses connections across requests (client-node alone opens one per request)', async () => {
    const client = new KubeClient(kubeConfig);
    for (let i = 0; i < 30; i++) expect((await client.get(Kinds.Namespace, `ns-${i}`))?.metadata?.name).toBe(`ns-${i}`);
    expect(requests).toBe(30);
    // undici may open a second connection while the first is still being released.
    expect(connections).toBeLessThanOrEqual(2);
  });

  it('keeps the number of connections bounded by the requests in flight, not the requests made', async () => {
    const client = new KubeClient(kubeConfig);
    for (let round = 0; round < 10; round++) await Promise.all(Array.from({ length: 4 }, (_, i) => client.get(Kinds.Namespace, `ns-${round}-${i}`)));
    expect(requests).toBe(40);
    expect(connections).toBeLessThanOrEqual(2 * 4);
  });

  it('keeps the caller’s kubeconfig untouched and sends its credentials', async () => {
    let authorization: string | undefined;
    server.prependListener('request', (request) => (authorization = request.headers.authorization));
    const client = new KubeClient(kubeConfig);
    await client.get(Kinds.Namespace, 'default');
    expect(authorization).toBe('Bearer t');
    expect(client.kubeConfig).not.toBe(kubeConfig);
    expect(client.kubeConfig.getCurrentCluster()?.server).toBe(kubeConfig.getCurrentCluster()?.server);
  });
});

describe('KubeClient quick retries', () => {
  it.each([
    [[503], 2],
    [[429, 500], 3],
    [[502, 504, 503], 4],
  ])('tries again at once after the transient answers %j (%i requests)', async (answers, expected) => {
    failures = [...answers];
    const client = new KubeClient(kubeConfig);
    expect((await client.get(Kinds.Namespace, 'sandpit-a'))?.metadata?.name).toBe('sandpit-a');
    expect(requests).toBe(expected);
  });

  it.each([[403], [422], [501]])('gives up on the first %i: waiting will not change it', async (code) => {
    failures = [code];
    const client = new KubeClient(kubeConfig);
    await expect(client.get(Kinds.Namespace, 'sandpit-a')).rejects.toMatchObject({ statusCode: code });
    expect(requests).toBe(1);
  });

  it('gives up after three quick retries', async () => {
    failures = [503, 503, 503, 503, 503];
    const client = new KubeClient(kubeConfig);
    await expect(client.get(Kinds.Namespace, 'sandpit-a')).rejects.toMatchObject({ statusCode: 503 });
    expect(requests).toBe(4);
  });
});

describe('KubeClient discovery', () => {
  it('asks discovery once per group version for a burst of applies of new kinds (client-node alone asks once per apply)', async () => {
    const discovery: string[] = [];
    const api = createServer((request, response) => {
      const path = request.url?.split('?')[0] ?? '';
      if (request.method === 'GET') {
        discovery.push(path);
        const resources = [
          { name: 'roles', singularName: 'role', namespaced: true, kind: 'Role', verbs: ['patch'] },
          { name: 'rolebindings', singularName: 'rolebinding', namespaced: true, kind: 'RoleBinding', verbs: ['patch'] },
        ];
        // Slow enough that every apply of the burst starts before the first answer.
        setTimeout(() => response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ kind: 'APIResourceList', groupVersion: 'rbac.authorization.k8s.io/v1', resources })), 50);
        return;
      }
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString()));
      request.on('end', () => response.writeHead(200, { 'content-type': 'application/json' }).end(body));
    });
    await new Promise<void>((resolve) => api.listen(0, '127.0.0.1', resolve));
    try {
      const client = new KubeClient(kubeConfigFor(api, 'sde-a'));
      const rbac = 'rbac.authorization.k8s.io/v1';
      const applied = await Promise.all(Array.from({ length: 10 }, (_, i) => [
        client.apply({ apiVersion: rbac, kind: 'Role', metadata: { name: `r-${i}`, namespace: 'sde-a' } }),
        client.apply({ apiVersion: rbac, kind: 'RoleBinding', metadata: { name: `b-${i}`, namespace: 'sde-a' } }),
      ]).flat());
      expect(applied.map((o) => o.metadata?.name)).toHaveLength(20);
      expect(discovery).toEqual(['/apis/rbac.authorization.k8s.io/v1']);
      // Cached from then on.
      await client.apply({ apiVersion: rbac, kind: 'Role', metadata: { name: 'later', namespace: 'sde-a' } });
      expect(discovery).toHaveLength(1);
    } finally {
      api.closeAllConnections();
      await new Promise((resolve) => api.close(resolve));
    }
  });
});

describe('KubeClient lists', () => {
  it('reads a list sent in small chunks, with characters split across them, an item at a time', async () => {
    const items = Array.from({ length: 30 }, (_, i) => ({ metadata: { name: `cm-${i}`, namespace: 'sde-a', annotations: { note: `ünïcødé ✓ 🚀 "${i}" {[,]}` } }, data: { i: String(i) } }));
    const body = Buffer.from(JSON.stringify({ kind: 'ConfigMapList', apiVersion: 'v1', metadata: { resourceVersion: '77', continue: 'next' }, items }));
    const api = createServer((_request, response) => {
      response.writeHead(200, { 'content-type': 'application/json' });
      // 7 bytes at a time: multi-byte characters land across chunk boundaries.
      let at = 0;
      const more = (): void => {
        if (at >= body.length) return void response.end();
        response.write(body.subarray(at, (at += 7)), () => setImmediate(more));
      };
      more();
    });
    await new Promise<void>((resolve) => api.listen(0, '127.0.0.1', resolve));
    try {
      const client = new KubeClient(kubeConfigFor(api));
      const seen: unknown[] = [];
      const page = await client.listEach(Kinds.ConfigMap, { namespace: 'sde-a' }, (item) => seen.push(item));
      expect(page).toEqual({ resourceVersion: '77', continue: 'next' });
      expect(seen).toEqual(items.map((item) => ({ ...item, apiVersion: 'v1', kind: 'ConfigMap' })));
      expect(await client.list(Kinds.ConfigMap, { namespace: 'sde-a' })).toEqual({ items: seen, resourceVersion: '77', continue: 'next' });
    } finally {
      api.closeAllConnections();
      await new Promise((resolve) => api.close(resolve));
    }
  });
});
