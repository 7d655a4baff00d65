// One HTTP request to the API server a kubeconfig names, with the body exactly as given: the
// fidelity tests send objects as written, not through client-node's typed models (those lose
// fields named after reserved words, such as a LimitRange's `default` and a NetworkPolicy
// rule's `from`).
import * as http from 'node:http';
import * as https from 'node:https';
import type * as k8s from '@kubernetes/client-node';

/** What the server answered: the status code and the body as text. */
export interface RawAnswer {
  status: number;
  text: string;
}

/** Sends `body` (JSON text, or nothing) to `path` with the kubeconfig's credentials; resolves to the raw answer. */
export async function send(kc: k8s.KubeConfig, method: string, path: string, body?: string, contentType = 'application/json'): Promise<RawAnswer> {
  const server = new URL(kc.getCurrentCluster()?.server ?? '');
  const headers: Record<string, string> = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = contentType;
  const options: https.RequestOptions = { method, hostname: server.hostname, port: server.port, path, headers };
  await kc.applyToHTTPSOptions(options);
  return new Promise<RawAnswer>((resolve, reject) => {
    const request = (server.protocol === 'https:' ? https.request : http.request)(options, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    request.on('error', reject);
    request.end(body);
  });
}

/** The REST path of an object of `apiVersion` and `kind` (kinds the fidelity tests use pluralise regularly). */
export function objectPath(apiVersion: string, kind: string, namespace: string | undefined, name: string): string {
  const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['', apiVersion];
  const lower = kind.toLowerCase();
  const resource = lower.endsWith('y') ? `${lower.slice(0, -1)}ies` : lower.endsWith('s') ? `${lower}es` : `${lower}s`;
  const ns = namespace === undefined || namespace === '' ? '' : `/namespaces/${namespace}`;
  return `${group ? `/apis/${group}` : '/api'}/${version}${ns}/${resource}/${name}`;
}
