// Parses a REST path into what it addresses: discovery, or a resource (group, version,
// namespace, resource, name, subresource) and the verb, as the real server's RequestInfo does.
import type { IncomingMessage } from 'node:http';

/** What a request addresses. */
export interface RequestInfo {
  isResource: boolean;
  path: string;
  verb: string;
  group: string;
  version: string;
  namespace?: string;
  resource: string;
  name?: string;
  subresource?: string;
  query: URLSearchParams;
}

function truthy(v: string | null): boolean {
  return v === '1' || v === 'true';
}

/** Splits `/apis/apps/v1/namespaces/x/deployments/y/status` and friends; non-resource paths get isResource false. */
export function parseRequest(req: IncomingMessage): RequestInfo {
  const url = new URL(req.url ?? '/', 'http://127.0.0.1');
  const path = url.pathname.replace(/\/+$/, '') || '/';
  const query = url.searchParams;
  const method = (req.method ?? 'GET').toUpperCase();
  const base: RequestInfo = { isResource: false, path, verb: method.toLowerCase(), group: '', version: '', resource: '', query };
  const parts = path.split('/').filter((p) => p !== '').map((p) => decodeURIComponent(p));
  let rest: string[];
  if (parts[0] === 'api' && parts.length >= 3) {
    base.version = parts[1] ?? '';
    rest = parts.slice(2);
  } else if (parts[0] === 'apis' && parts.length >= 4) {
    base.group = parts[1] ?? '';
    base.version = parts[2] ?? '';
    rest = parts.slice(3);
  } else {
    return base;
  }
  if (rest[0] === 'watch') {
    rest = rest.slice(1);
    query.set('watch', 'true');
  }
  const info: RequestInfo = { ...base, isResource: true };
  if (rest[0] === 'namespaces' && rest.length >= 3 && !(rest.length === 3 && (rest[2] === 'status' || rest[2] === 'finalize'))) {
    info.namespace = rest[1] ?? '';
    rest = rest.slice(2);
  } else if (rest[0] === 'namespaces' && rest.length >= 2) {
    info.resource = 'namespaces';
    info.name = rest[1];
    if (rest[2]) info.subresource = rest[2];
    rest = [];
  }
  if (rest.length > 0) {
    info.resource = rest[0] ?? '';
    if (rest[1] !== undefined) info.name = rest[1];
    if (rest[2] !== undefined) info.subresource = rest.slice(2).join('/');
  }
  const watching = truthy(query.get('watch'));
  switch (method) {
    case 'GET':
    case 'HEAD':
      info.verb = info.name === undefined ? (watching ? 'watch' : 'list') : watching ? 'watch' : 'get';
      break;
    case 'POST':
      info.verb = 'create';
      break;
    case 'PUT':
      info.verb = 'update';
      break;
    case 'PATCH':
      info.verb = 'patch';
      break;
    case 'DELETE':
      info.verb = info.name === undefined ? 'deletecollection' : 'delete';
      break;
    default:
      info.verb = method.toLowerCase();
  }
  return info;
}
