// The devcluster's HTTP front: Kubernetes REST over node:http on loopback. Authenticates (when
// tokens are configured), authorizes with RBAC, injects faults, serves discovery and OpenAPI, and
// hands resource requests to the verb handlers; every failure is a Kubernetes `Status`.
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { ADMIN, TokenAuthenticator } from '../auth/identity.ts';
import type { TokenIdentity, UserInfo } from '../auth/identity.ts';
import { authorize, forbiddenMessage } from '../auth/rbac.ts';
import type { Attributes } from '../auth/rbac.ts';
import type { CustomResourceRegistry } from '../crd/registry.ts';
import type { SemanticsFor } from '../patch/managed-fields.ts';
import { ALL_VERBS } from '../store/builtins.ts';
import { ApiError, methodNotAllowed } from '../store/errors.ts';
import type { ClusterStore } from '../store/cluster-store.ts';
import type { KubeObject } from '../store/types.ts';
import { apiGroup, apiGroupList, apiResourceList, apiVersions, SERVER_VERSION, servedVersions } from './discovery.ts';
import { AuditLog } from './audit-log.ts';
import type { FaultInjector } from './faults.ts';
import { readBody, representation } from './negotiation.ts';
import { openapiV2, openapiV3, openapiV3Index } from './openapi.ts';
import { decodeProtobufObject, isProtobuf } from './protobuf.ts';
import { parseRequest } from './request-info.ts';
import type { RequestInfo } from './request-info.ts';
import { apiVersionAt, create, getOne, list, patch, printerFor, remove, removeCollection, update } from './resources.ts';
import type { Reply, ResourceContext } from './resources.ts';
import { statusOf } from './status.ts';
import { toTable } from './tables.ts';
import { serveWatch } from './watch-stream.ts';

/** How the HTTP server is set up. */
export interface ApiServerOptions {
  /** Port on 127.0.0.1; 0 (default) picks a free one. */
  port?: number;
  /** Bearer tokens; when set, every request must carry one and RBAC decides. */
  tokens?: TokenIdentity[];
  /** Interval between watch bookmarks for clients that allow them; default none but one 2 s before a watch's timeout, as kube-apiserver 1.23. */
  bookmarkIntervalMs?: number;
  /** Append an audit record per request to this file, as kube-apiserver's --audit-log-path does at level Metadata. */
  auditLog?: string;
}

// Each verb on a resource but watch (a stream, served apart) and its handler.
const VERB_HANDLERS = new Map<string, (c: ResourceContext) => Reply>([
  ['get', getOne],
  ['list', list],
  ['create', create],
  ['update', update],
  ['patch', patch],
  ['delete', remove],
  ['deletecollection', removeCollection],
]);

/** The running HTTP server; `close` ends every watch and connection. */
export class ApiServer {
  #server: Server | undefined;
  readonly #sockets = new Set<Socket>();
  readonly #authenticator: TokenAuthenticator | undefined;
  #address = '';
  readonly #store: ClusterStore;
  readonly #crds: CustomResourceRegistry;
  readonly #semanticsFor: SemanticsFor;
  readonly #faults: FaultInjector;
  readonly #opts: ApiServerOptions;
  readonly #audit: AuditLog | undefined;

  constructor(store: ClusterStore, crds: CustomResourceRegistry, semanticsFor: SemanticsFor, faults: FaultInjector, opts: ApiServerOptions = {}) {
    this.#store = store;
    this.#crds = crds;
    this.#semanticsFor = semanticsFor;
    this.#faults = faults;
    this.#opts = opts;
    this.#authenticator = opts.tokens ? new TokenAuthenticator(opts.tokens) : undefined;
    this.#audit = opts.auditLog ? new AuditLog(opts.auditLog) : undefined;
  }

  /** Starts listening on 127.0.0.1; resolves to the base URL. */
  async listen(): Promise<string> {
    const server = createServer((req, res) => {
      void this.#handle(req, res);
    });
    server.keepAliveTimeout = 5_000;
    server.on('connection', (s: Socket) => {
      this.#sockets.add(s);
      s.on('close', () => this.#sockets.delete(s));
    });
    this.#server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.#opts.port ?? 0, '127.0.0.1', () => resolve());
    });
    const addr = server.address();
    const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
    this.#address = `127.0.0.1:${port}`;
    return `http://${this.#address}`;
  }

  /** Stops accepting, closes every watch and socket, and resolves once the server is closed. */
  async close(): Promise<void> {
    const server = this.#server;
    if (!server) return;
    this.#server = undefined;
    this.#faults.dropWatches();
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const s of this.#sockets) s.destroy();
    server.closeAllConnections();
    await closed;
    await this.#audit?.close();
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      const raw = req.method === 'GET' || req.method === 'HEAD' ? Buffer.alloc(0) : await readBody(req);
      let body = raw.toString('utf8');
      if (raw.length > 0 && isProtobuf(req.headers['content-type'])) {
        body = JSON.stringify(decodeProtobufObject(raw));
        req.headers['content-type'] = 'application/json';
      }
      const info = parseRequest(req);
      // Logged however the request ends, with the user once (if ever) authenticated.
      const seen: { user?: UserInfo } = {};
      this.#audit?.record(req, res, info, () => seen.user);
      const user = this.#authenticate(req);
      seen.user = user;
      if (!info.isResource) {
        this.#reply(res, this.#nonResource(info));
        return;
      }
      const failure = this.#faults.failure();
      if (failure) throw failure;
      const rt = this.#store.resourceType(info.group, info.resource);
      if (!rt || !servedVersions(rt).includes(info.version)) throw new ApiError(404, 'NotFound', 'the server could not find the requested resource');
      if (!(rt.verbs ?? ALL_VERBS).includes(info.verb)) throw methodNotAllowed(info.verb, rt);
      this.#authorizeRequest(user, info);
      const ctx: ResourceContext = { store: this.#store, crds: this.#crds, semanticsFor: this.#semanticsFor, req, info, rt, user, body };
      if (info.verb === 'watch') {
        this.#watch(ctx, req, res);
        return;
      }
      this.#reply(res, this.#dispatch(ctx));
    } catch (err) {
      const { code, body, retryAfter } = statusOf(err);
      if (code >= 500 && !(err instanceof ApiError)) console.error('devcluster: internal error', err);
      const headers: Record<string, string> = {};
      if (retryAfter !== undefined) headers['Retry-After'] = String(retryAfter);
      this.#send(res, code, body, headers);
    }
  }

  #authenticate(req: IncomingMessage): UserInfo {
    const user = this.#authenticator ? this.#authenticator.authenticate(req.headers.authorization) : ADMIN;
    if (!user) throw new ApiError(401, 'Unauthorized', 'Unauthorized');
    const as = req.headers['impersonate-user'];
    if (typeof as !== 'string' || as === '') return user;
    const allowed = user === ADMIN || authorize(this.#store, user, { verb: 'impersonate', resourceRequest: true, apiGroup: '', resource: 'users', name: as }).allowed;
    if (!allowed) {
      throw new ApiError(403, 'Forbidden', `users "${as}" is forbidden: User "${user.username}" cannot impersonate resource "users" in API group "" at the cluster scope`);
    }
    const header = req.headers['impersonate-group'];
    const groups = (Array.isArray(header) ? header : header === undefined ? [] : [header]).flatMap((g) => g.split(',')).map((g) => g.trim()).filter((g) => g !== '');
    return { username: as, groups: [...new Set([...groups, 'system:authenticated'])] };
  }

  #authorizeRequest(user: UserInfo, info: RequestInfo): void {
    if (user === ADMIN) return;
    if (info.group === 'authorization.k8s.io' && info.resource === 'selfsubjectaccessreviews') return;
    const attrs: Attributes = { verb: info.verb, resourceRequest: true, apiGroup: info.group, resource: info.resource };
    if (info.subresource) attrs.subresource = info.subresource;
    if (info.namespace !== undefined) attrs.namespace = info.namespace;
    if (info.name !== undefined) attrs.name = info.name;
    if (info.resource === 'namespaces' && info.name !== undefined) attrs.namespace = info.name;
    const decision = authorize(this.#store, user, attrs);
    if (!decision.allowed) throw new ApiError(403, 'Forbidden', forbiddenMessage(user, attrs), { details: { ...(info.name ? { name: info.name } : {}), group: info.group, kind: info.resource } });
  }

  #dispatch(c: ResourceContext): Reply {
    const handler = VERB_HANDLERS.get(c.info.verb);
    if (handler === undefined) throw methodNotAllowed(c.info.verb, c.rt);
    return handler(c);
  }

  #watch(c: ResourceContext, req: IncomingMessage, res: ServerResponse): void {
    const q = c.info.query;
    const asTable = representation(req.headers.accept) === 'table';
    const apiVersion = apiVersionAt(c.rt, c.info.version);
    const printer = asTable ? printerFor(this.#crds, c.rt, c.info.version) : undefined;
    const render = (obj: KubeObject): unknown => {
      const versioned = obj.apiVersion === apiVersion ? obj : { ...obj, apiVersion };
      return printer ? toTable(printer, [versioned], { resourceVersion: obj.metadata.resourceVersion }, q.get('includeObject')) : versioned;
    };
    const timeout = q.get('timeoutSeconds');
    const w: Parameters<typeof serveWatch>[4] = {
      rt: c.rt,
      apiVersion,
      allowBookmarks: q.get('allowWatchBookmarks') === 'true',
      sendInitialEvents: q.get('sendInitialEvents') === 'true',
      bookmarkIntervalMs: this.#opts.bookmarkIntervalMs,
      render,
    };
    if (c.info.namespace !== undefined) w.namespace = c.info.namespace;
    const ls = q.get('labelSelector');
    if (ls) w.labelSelector = ls;
    let fs = q.get('fieldSelector') ?? undefined;
    if (c.info.name !== undefined) fs = [`metadata.name=${c.info.name}`, fs].filter((x) => x).join(',');
    if (fs) w.fieldSelector = fs;
    const rv = q.get('resourceVersion');
    if (rv !== null) w.resourceVersion = rv;
    if (timeout !== null) w.timeoutSeconds = Number(timeout);
    serveWatch(this.#store, this.#faults, req, res, w, !asTable && servedVersions(c.rt).length === 1);
  }

  #nonResource(info: RequestInfo): Reply {
    const p = info.path;
    if (info.verb !== 'get' && info.verb !== 'head') throw new ApiError(405, 'MethodNotAllowed', `the server does not allow this method on ${p}`);
    if (p === '/version') return { code: 200, body: SERVER_VERSION };
    if (p === '/healthz' || p === '/readyz' || p === '/livez') return { code: 200, body: undefined, text: 'ok' };
    if (p === '/api') return { code: 200, body: apiVersions(this.#address) };
    if (p === '/apis') return { code: 200, body: apiGroupList(this.#store) };
    if (p === '/openapi/v2') return { code: 200, body: openapiV2(this.#store, this.#crds) };
    if (p === '/openapi/v3') return { code: 200, body: openapiV3Index(this.#store, this.#crds) };
    const v3 = /^\/openapi\/v3\/(?:api\/([^/]+)|apis\/([^/]+)\/([^/]+))$/.exec(p);
    if (v3) {
      const doc = v3[1] !== undefined ? openapiV3(this.#store, this.#crds, '', v3[1]) : openapiV3(this.#store, this.#crds, v3[2] ?? '', v3[3] ?? '');
      if (doc) return { code: 200, body: doc };
    }
    const parts = p.split('/').filter((x) => x !== '');
    if (parts[0] === 'api' && parts.length === 2) {
      const doc = apiResourceList(this.#store, '', parts[1] ?? '');
      if (doc) return { code: 200, body: doc };
    }
    if (parts[0] === 'apis' && parts.length === 2) {
      const doc = apiGroup(this.#store, parts[1] ?? '');
      if (doc) return { code: 200, body: doc };
    }
    if (parts[0] === 'apis' && parts.length === 3) {
      const doc = apiResourceList(this.#store, parts[1] ?? '', parts[2] ?? '');
      if (doc) return { code: 200, body: doc };
    }
    throw new ApiError(404, 'NotFound', 'the server could not find the requested resource');
  }

  #reply(res: ServerResponse, r: Reply): void {
    if (r.text !== undefined) {
      res.writeHead(r.code, { 'Content-Type': 'text/plain; charset=utf-8' });
      res.end(r.text);
      return;
    }
    this.#send(res, r.code, r.body, {});
  }

  #send(res: ServerResponse, code: number, body: unknown, headers: Record<string, string>): void {
    if (res.headersSent) {
      res.end();
      return;
    }
    const text = JSON.stringify(body);
    res.writeHead(code, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text), ...headers });
    res.end(text);
  }
}
